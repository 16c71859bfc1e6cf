"""Admins browse codes (metadata only); nobody else may."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pyramid import testing
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.request import apply_request_extensions
from webob.multidict import MultiDict

from tests.accounts import service, sign_in, with_root
from tests.conftest import use_service
from wingapp.codes.services import CodeService
from wingapp.codes.views import CodesViews, CodeViews
from wingapp.interfaces import IClock, IKeyring
from wingapp.renderers import json_renderer_factory
from wingapp.users.interfaces import IPasswordHasher, ITrustService
from wingapp.users.services import create_user
from wingapp.users.trust import TrustService

JSON = {"Accept": "application/json"}


@pytest.fixture
def filled(app, dbroot, tm, keyring):
    """An admin, and 25 codes: 5 sign-in codes an hour old (expired by now),
    one of them used, and 20 fresh password-reset codes."""
    now = datetime.now(UTC)
    clock = {"now": now - timedelta(hours=1)}
    with tm:
        root = dbroot()
        create_user(
            root["users"],
            "admin",
            "admin@example.org",
            "violet harbour lantern seventeen",
            hasher=service(app.registry, IPasswordHasher),
            keyring=keyring,
            now=lambda: now,
            roles=("user", "admin"),
            email_confirmed=True,
        )
        codes = CodeService(root["codes"], keyring, lambda: clock["now"])
        for i in range(5):
            clock["now"] += timedelta(seconds=1)
            code, plain = codes.issue("sign-in", f"user{i}", "flow")
        codes.verify(code.__name__, "sign-in", "user4", "flow", plain)
        clock["now"] = now - timedelta(minutes=1)
        for i in range(20):
            clock["now"] += timedelta(seconds=1)
            codes.issue("reset-password", f"reader{i:02d}", "flow")


def as_admin(config, context, **params):
    config.testing_securitypolicy(userid="admin", permissive=True)
    # A multidict, as a real request's query is.
    request = testing.DummyRequest(params=MultiDict(params), path="/codes/")
    request.context = context
    # What the app adds to every request, so the layout can draw the page.
    apply_request_extensions(request)
    return request


def test_admin_lists_codes_newest_first_in_pages(config, dbroot, tm, filled):
    with tm:
        codes = dbroot()["codes"]
        data = CodesViews(codes, as_admin(config, codes, limit="10")).json()
        assert data["type"] == "codes"
        assert data["length"] == 25
        assert (data["limit"], data["order_by"], data["state"], data["purpose"]) == (
            10,
            "-expires",
            None,
            None,
        )
        assert data["next_cursor"] is not None
        assert [i["owner"] for i in data["items"][:2]] == ["reader19", "reader18"]
        item = data["items"][0]
        assert set(item) == {
            "type",
            "name",
            "url",
            "purpose",
            "owner",
            "created",
            "expires",
            "attempts",
            "state",
        }
        assert item["url"] == f"http://example.com/codes/{item['name']}/"
        cursor = data["next_cursor"]
        second = CodesViews(codes, as_admin(config, codes, cursor=cursor)).json()
        assert second["limit"] == 50
        assert [i["owner"] for i in second["items"][:2]] == ["reader09", "reader08"]
        assert second["next_cursor"] is None
        assert len(second["items"]) == 15
        oldest = CodesViews(
            codes, as_admin(config, codes, limit="5", order_by="expires")
        ).json()
        assert [i["owner"] for i in oldest["items"]] == [f"user{i}" for i in range(5)]


def test_admin_filters_by_state_and_purpose(config, dbroot, tm, filled):
    with tm:
        codes = dbroot()["codes"]
        request = as_admin(config, codes, state="expired", purpose="sign-in", limit="2")
        data = CodesViews(codes, request).json()
        assert [i["owner"] for i in data["items"]] == ["user3", "user2"]
        assert {i["state"] for i in data["items"]} == {"expired"}
        assert data["length"] is None
        request = as_admin(
            config,
            codes,
            state="expired",
            purpose="sign-in",
            limit="2",
            cursor=data["next_cursor"],
        )
        rest = CodesViews(codes, request).json()
        assert [i["owner"] for i in rest["items"]] == ["user1", "user0"]
        assert rest["next_cursor"] is None
        used = CodesViews(codes, as_admin(config, codes, state="used")).json()
        assert [(i["owner"], i["state"]) for i in used["items"]] == [("user4", "used")]
        # The empty choice of the form means "any".
        anything = CodesViews(
            codes, as_admin(config, codes, state="", purpose="")
        ).json()
        assert len(anything["items"]) == 25
        assert anything["length"] == 25


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"state": "gone"}, "state"),
        ({"purpose": "login"}, "purpose"),
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"page": "2"}, "page"),
        ({"size": "10"}, "size"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(config, dbroot, tm, params, named):
    with tm:
        codes = dbroot()["codes"]
        with pytest.raises(HTTPBadRequest, match=f"Bad query parameters: {named}"):
            CodesViews(codes, as_admin(config, codes, **params)).json()


def test_a_code_shows_metadata_and_never_its_digest(config, dbroot, tm, filled):
    with tm:
        codes = dbroot()["codes"]
        code = next(codes.newest_first())
        request = as_admin(config, code)
        data = CodeViews(code, request).json()
        assert data == {
            "type": "code",
            "name": code.__name__,
            "url": f"http://example.com/codes/{code.__name__}/",
            "purpose": "reset-password",
            "owner": "reader19",
            "created": code.created,
            "expires": code.expires,
            "attempts": 0,
            "state": "pending",
        }
        # The app's JSON renderer (the config fixture has put Pyramid's back).
        as_json = json.loads(json_renderer_factory(None)(data, {}))
        assert as_json["created"] == f"{code.created:%Y-%m-%dT%H:%M:%S.%f}Z"
        assert code.digest not in str(as_json)
        page = CodeViews(code, request).html()
        assert code.digest not in repr(page)
        assert page["title"] == f"Code {code.__name__}"
        assert page["codes_url"] == "http://example.com/codes/"


def test_admin_pages_in_the_layout(app, testapp, filled):
    # The whole app, with an admin signed in through the real form.
    registry = app.registry
    never = TrustService(
        service(registry, IKeyring), service(registry, IClock), "never"
    )
    use_service(registry, never, ITrustService)
    sign_in(testapp, "admin", status=303)
    html = testapp.get("/codes/?limit=5&purpose=sign-in").text
    assert "<h1>Codes</h1>" in html
    assert 'class="site-header"' in html
    assert html.count('<td data-label="Purpose">sign-in</td>') == 5
    # No account is called user4: the owner is named, not linked.
    assert '<td data-label="Owner">user4</td>' in html
    assert '<option value="sign-in" selected="selected">sign-in</option>' in html
    assert '<option value="used">used</option>' in html
    assert "First page" not in html
    assert 'rel="next"' not in html
    html = testapp.get("/codes/?limit=10").text
    assert (
        'rel="next" href="http://example.com/codes/?limit=10&amp;order_by=-expires&amp;cursor='
        in html
    )
    assert "No codes match." in testapp.get("/codes/?state=cancelled").text

    (used,) = testapp.get("/codes/?state=used", headers=JSON).json["items"]
    html = testapp.get(used["url"]).text
    assert "<dt>Owner</dt><dd>user4</dd>" in html
    assert "<dt>State</dt><dd>used</dd>" in html
    code = with_root(app, lambda root: root["codes"][used["name"]])
    assert f"<dt>Created</dt><dd>{code.created:%Y-%m-%d %H:%M:%S} UTC</dd>" in html
    assert code.digest not in html


def test_anonymous_visitors_are_refused(testapp, filled, dbroot, tm):
    with tm:
        name = next(dbroot()["codes"].newest_first()).__name__
    data = testapp.get("/codes/", headers=JSON, status=401).json
    assert (data["status"], data["error"]) == (401, "Unauthorized")
    data = testapp.get(f"/codes/{name}/", headers=JSON, status=401).json
    assert data["status"] == 401
    assert "reader19" not in str(data)
    # A browser is sent to sign in first, and nothing of the codes is shown.
    page = testapp.get("/codes/", status=(303, 403))
    assert "reader19" not in page.text
