"""Hostile input to every form handler (issue 9, item 12): hypothesis draws
the fields of each POST the OpenAPI document describes (any text, control
characters, very long values, fields missing, repeated or unknown) and
posts them with a valid CSRF token, from a visitor in the state that form
expects: signed out, halfway through a sign-in or a registration, signed
in as the account's owner, or as an admin.

Whatever is sent, the answer is below 500 with no traceback, and an answer
of 4xx changes nothing: no transaction is committed, unless it only
recorded refused attempts in the event log (a wrong password counts
towards the back-off), and no account changed.

The forms fuzzed are read from ``/openapi.json``, which
``test_openapi.py`` holds to the registered views: a new form is fuzzed
without editing this file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest
import transaction
import webtest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyramid.request import Request

from tests.accounts import NEW_PASSWORD, PASSWORD, add_user, last_code
from wingapp import main
from wingapp.events import FAILURE

EXAMPLES = 150
"""Per form: some 4,350 posts in all, in about two minutes."""
MULTIPART = "multipart/form-data"

# Values a person might type: they get past the forms' own checks and so
# reach the services (an account that exists, the right password, a reason
# long enough, an action that exists).
PLAUSIBLE = [
    "ada",
    "victim",
    "bob",
    PASSWORD,
    NEW_PASSWORD,
    "ada@example.org",
    "new.address@example.org",
    "user",
    "admin",
    "disable",
    "enable",
    "force-reset",
    "end-sessions",
    "timeout",
    "/users/",
    "Asked for by the account's owner",
    "123456",
    "1",
    "true",
    "",
]
# Any Unicode scalar value (codec="utf-8" leaves out surrogates, which no
# UTF-8 form can carry), control characters included.
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
LONG = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8).map(
    lambda s: s * 1000
)
VALUE = st.one_of(st.sampled_from(PLAUSIBLE), TEXT, LONG)
# None is a field left out; a list is the field repeated.
FIELD = st.one_of(st.none(), VALUE, st.lists(VALUE, min_size=2, max_size=3))
EXTRA = st.dictionaries(TEXT.filter(lambda k: k != "csrf_token"), VALUE, max_size=2)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)


@pytest.fixture
def settings_(settings):
    # Every sign-in asks for a code, so /verify has a sign-in to finish.
    return {**settings, "auth.two_step": "always"}


class World:
    """One fresh app per form: what a form's success changes (a disabled
    account, a changed password) stays with that form's run."""

    def __init__(self, settings: dict[str, str], maildir: Any) -> None:
        self.app = main({}, **settings)
        self.maildir = maildir
        self.db = self.app.registry._zodb_databases[""]
        self.tm = transaction.TransactionManager(explicit=True)
        self.conn = self.db.open(transaction_manager=self.tm)
        add_user(self.app, "root", roles=("user", "admin"))
        add_user(self.app, "ada")
        add_user(self.app, "victim")
        add_user(self.app, "bob")

    def close(self) -> None:
        self.conn.close()
        for db in self.app.registry._zodb_databases.values():
            db.close()

    def client(self) -> webtest.TestApp:
        client = webtest.TestApp(
            self.app,
            extra_environ={
                "HTTP_HOST": "example.com",
                "REMOTE_ADDR": "192.0.2.10",
                "HTTP_USER_AGENT": "Fuzzer/1.0",
            },
        )
        client.get("/login")
        return client

    def signed_in(self, login: str) -> webtest.TestApp:
        client = self.client()
        answer = self.start_sign_in(client, login)
        assert answer.location.endswith("/verify")
        self.post(client, "/verify", {"code": last_code(self.maildir)}, status=303)
        return client

    def start_sign_in(self, client: webtest.TestApp, login: str) -> Any:
        return self.post(
            client, "/login", {"login": login, "password": PASSWORD}, status=303
        )

    def csrf_token(self, client: webtest.TestApp) -> str:
        """The token of the client's session, read from its cookie as the
        app reads it. A sign-in starts a new session that holds no token
        until a page asks for one: then a page is read first."""
        session = self.session(client)
        # The sign-in form has one; signed in, it redirects, and the home
        # page's sign-out form has one.
        for page in ("/login", "/"):
            if "_csrft_" in session:
                break
            client.get(page)
            session = self.session(client)
        return session["_csrft_"]

    def session(self, client: webtest.TestApp) -> Any:
        cookie = "; ".join(f"{c.name}={c.value}" for c in client.cookiejar)
        request = Request.blank("/", headers={"Cookie": cookie})
        request.registry = self.app.registry
        return request.session

    def post(self, client: webtest.TestApp, path: str, fields: dict, **kw: Any) -> Any:
        fields = {**fields, "csrf_token": self.csrf_token(client)}
        return client.post(path, fields, **kw)

    def state(self) -> tuple:
        """The last transaction, the event log's length, and every account
        as it stands."""
        self.tm.begin()
        try:
            root = self.conn.root()["wingapp"]
            accounts = {
                login: (
                    tuple(user.roles),
                    user.state,
                    user.password_hash,
                    user.email_confirmed,
                    user.email_index,
                )
                for login, user in root["users"].items()
            }
            return self.db.lastTransaction(), len(root.audit), accounts
        finally:
            self.tm.abort()

    def new_entries(self, count: int) -> list:
        self.tm.begin()
        try:
            return self.conn.root()["wingapp"].audit.newest(count)
        finally:
            self.tm.abort()


def prepare(world: World, path: str) -> tuple[webtest.TestApp, str]:
    """The visitor a form is meant for, and the path filled in."""
    if path.startswith("/users/") and "@@" in path:
        # An admin at work on another account (never their own: disabling
        # it would end the run's session).
        return world.signed_in("root"), path.replace("{login}", "victim")
    if path.startswith("/users/") or path == "/ping":
        client = world.signed_in("ada")
        if path.endswith("/confirm-email-change"):
            world.post(
                client,
                "/users/ada/email",
                {"email": "ada.new@example.org", "current_password": PASSWORD},
                status=303,
            )
        return client, path.replace("{login}", "ada")
    client = world.client()
    if path == "/verify":
        world.start_sign_in(client, "bob")
    elif path == "/confirm-email":
        world.post(
            client,
            "/register",
            {
                "login": "carol",
                "email": "carol@example.org",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
            status=303,
        )
    elif path == "/new-password":
        world.post(client, "/reset-password", {"login": "bob"}, status=303)
    return client, path


def form_fields(draw: Any, schema: dict) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for name in schema["properties"]:
        if name == "csrf_token":
            continue
        value = draw(FIELD)
        if value is None:
            continue
        for each in value if isinstance(value, list) else [value]:
            fields.append((name, each))
    fields += list(draw(EXTRA).items())
    return fields


def _quoted(name: str) -> bytes:
    # As browsers escape a field's or file's name (the HTML standard).
    escaped = name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
    return escaped.encode("utf-8")


def multipart(
    boundary: str, fields: list[tuple[str, str]], filename: str, upload: bytes
) -> bytes:
    """A multipart body as a browser sends it: names in UTF-8 (WebTest's
    own encoder takes ASCII names only)."""
    parts = [
        b'Content-Disposition: form-data; name="'
        + _quoted(k)
        + b'"\r\n\r\n'
        + v.encode("utf-8")
        for k, v in fields
    ]
    parts.append(
        b'Content-Disposition: form-data; name="file"; filename="'
        + _quoted(filename)
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + upload
    )
    edge = b"--" + boundary.encode()
    return (
        b"".join(edge + b"\r\n" + part + b"\r\n" for part in parts) + edge + b"--\r\n"
    )


def send(world, client, path, operation, draw) -> Any:
    """One post of drawn fields, as the operation's body type says."""
    (media, content), *_ = operation["requestBody"]["content"].items()
    token = world.csrf_token(client)
    if media == "application/json":
        body = draw(
            st.one_of(
                JSON_VALUE,
                st.fixed_dictionaries(
                    {},
                    optional={
                        name: st.one_of(VALUE, JSON_VALUE)
                        for name in content["schema"]["properties"]
                    },
                ),
            )
        )
        return client.post(
            path,
            json.dumps(body),
            headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
            expect_errors=True,
        )
    fields = [*form_fields(draw, content["schema"]), ("csrf_token", token)]
    if media == MULTIPART:
        upload = draw(
            st.one_of(
                st.binary(max_size=300),
                st.text(st.characters(codec="utf-8"), max_size=300).map(str.encode),
                st.sampled_from(
                    [
                        b"login,email,roles\nzed,zed@example.org,user\n",
                        b"login,email\n" + b"x,y\n" * 50,
                    ]
                ),
            )
        )
        name = draw(st.one_of(st.just("users.csv"), TEXT.filter(bool)))
        boundary = "fuzz" + "-" * 20 + "7d93b1"
        return client.post(
            path,
            multipart(
                boundary, [(k, v) for k, v in fields if k != "file"], name, upload
            ),
            headers={"Content-Type": f"{MULTIPART}; boundary={boundary}"},
            expect_errors=True,
        )
    return client.post(path, fields, expect_errors=True)


CSRF_REFUSED = '<h1 id="error-title">Form expired</h1>'


def check(world: World, before: tuple, answer: Any, label: str) -> None:
    assert answer.status_int < 500, f"{label}: {answer.status}\n{answer.text[:2000]}"
    assert "Traceback" not in answer.text, label
    # A refused CSRF token would mean the handler was never reached. Its
    # page is known by its heading, not by the words: Hypothesis also draws
    # strings it finds in the code, and a form may echo one back, escaped.
    assert CSRF_REFUSED not in answer.text, label
    if 400 <= answer.status_int < 500:
        tid, entries, accounts = world.state()
        assert accounts == before[2], f"{label}: {answer.status} changed an account"
        if tid != before[0]:
            # Only the record of a refused attempt outlives a refusal.
            added = world.new_entries(entries - before[1])
            assert added, f"{label}: {answer.status} committed"
            assert {e.outcome for e in added} == {FAILURE}, label


def fuzzer(world, client, path, operation, counted, statuses) -> Any:
    """The property for one form, counting the posts it makes."""
    label = f"POST {path}"
    counted[label] = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def fuzz(data: Any) -> None:
        before = world.state()
        answer = send(world, client, path, operation, data.draw)
        check(world, before, answer, label)
        counted[label] += 1
        statuses[answer.status_int] += 1

    return fuzz


def test_every_form_handler_refuses_hostile_input_without_a_500(
    settings_, maildir, app, testapp, capsys
):
    paths = testapp.get("/openapi.json").json["paths"]
    posts = {path: item["post"] for path, item in paths.items() if "post" in item}
    assert len(posts) > 25
    counted: dict[str, int] = {}
    statuses: Counter = Counter()
    started = time.monotonic()
    for path, operation in sorted(posts.items()):
        world = World(settings_, maildir)
        try:
            client, concrete = prepare(world, path)

            fuzzer(world, client, concrete, operation, counted, statuses)()
        finally:
            world.close()
    total = sum(counted.values())
    # Every form had its share of posts (hypothesis stops early only when
    # it has tried every distinct input, which these strategies never run
    # out of).
    assert min(counted.values()) >= EXAMPLES // 2, counted
    assert total >= len(posts) * EXAMPLES // 2
    with capsys.disabled():
        print(
            f"\nhypothesis: {total} posts to {len(counted)} form handlers "
            f"in {time.monotonic() - started:.0f} s, none answered 500"
        )
        print("  " + ", ".join(f"{n}× {s}" for s, n in sorted(statuses.items())))


def test_the_strength_meter_takes_an_empty_password(app, testapp):
    # Found by this fuzzing: zxcvbn fails on "", and the meter answered 500.
    token = testapp.get("/register").forms["register-form"]["csrf_token"].value
    answer = testapp.post_json(
        "/password-strength",
        {"password": ""},
        headers={"X-CSRF-Token": token},
        expect_errors=True,
    )
    assert answer.status_int == 200
    assert answer.json["acceptable"] is False
