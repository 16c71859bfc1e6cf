"""Odd input is a 4xx in the layout with the security headers, never a 500,
and it changes nothing; methods no page takes are a 405 that says which it
does (issue 9, items 6 and 11)."""

from __future__ import annotations

import pytest
from webob import Request

from tests.accounts import PASSWORD, add_user, admin_browser, sign_in, with_root
from wingapp.users.flow import FLOW_COOKIE

JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    # Signing in without a code, except where a test asks for one.
    return {**settings, "auth.two_step": "never"}


def audit_count(app):
    return with_root(app, lambda root: len(root.audit.newest(10_000)))


@pytest.fixture
def unchanged(app, db):
    """Asserts, when called, that nothing was committed since the test
    began using it: no transaction and no new audit entry."""
    before = db.lastTransaction(), audit_count(app)

    def check():
        assert (db.lastTransaction(), audit_count(app)) == before

    return check


def assert_refused_in_layout(response, status=400):
    assert response.status_int == status
    assert 'class="site-header"' in response.text
    assert response.headers["Content-Security-Policy"].startswith("default-src")
    assert "Traceback" not in response.text


def csrf_token(testapp):
    return testapp.get("/login").forms["login-form"]["csrf_token"].value


# --- Non-ASCII redirect targets ------------------------------------------


def test_a_sign_in_with_a_non_ascii_next_redirects_to_its_escaped_path(app, testapp):
    add_user(app, "ada")
    form = testapp.get("/login").forms["login-form"]
    form["login"] = "ada"
    form["password"] = PASSWORD
    form["next"] = "/€"
    response = form.submit(status=303)
    assert response.headers["Location"] == "http://example.com/%E2%82%AC"


def test_the_sign_in_page_of_a_signed_in_visitor_redirects_in_ascii(app, testapp):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    response = testapp.get("/login", params={"next": "/users/ada/?q=é"}, status=303)
    assert response.headers["Location"] == "http://example.com/users/ada/?q=%C3%A9"


# --- Addresses that are not UTF-8 -----------------------------------------


@pytest.mark.parametrize(
    "url", ["/users/%ff/", "/login?next=%ff", "/login?%ff=1", "/%C3%28"]
)
def test_an_address_that_is_not_utf8_is_a_400_in_the_layout(app, unchanged, url):
    # Straight to the app: WebTest's cookie jar cannot read such a URL.
    response = Request.blank(url, environ={"HTTP_HOST": "example.com"}).get_response(
        app
    )
    assert_refused_in_layout(response)
    assert "not UTF-8" in response.text
    unchanged()


def test_a_bad_query_on_the_codes_list_is_a_400_for_an_admin(app, db):
    admin = admin_browser(app)
    before = audit_count(app), db.lastTransaction()
    response = admin.get("/codes/?page=%ff", status=400)
    assert_refused_in_layout(response)
    assert (audit_count(app), db.lastTransaction()) == before


def test_a_bad_address_asked_for_json_is_a_json_400(testapp):
    response = testapp.get("/login?%ff=1", headers=JSON, status=400)
    assert response.json["status"] == 400
    assert "not UTF-8" in response.json["message"]


# --- Bodies that cannot be read -------------------------------------------


def test_a_file_in_a_sign_in_form_is_a_400(app, testapp, db):
    add_user(app, "ada")
    token = csrf_token(testapp)
    before = audit_count(app), db.lastTransaction()
    response = testapp.post(
        "/login",
        {"csrf_token": token, "password": PASSWORD},
        upload_files=[("login", "ada.txt", b"ada")],
        status=400,
    )
    assert_refused_in_layout(response)
    assert "This form takes no files." in response.text
    assert (audit_count(app), db.lastTransaction()) == before


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("multipart/form-data", "it has no boundary"),
        ("multipart/form-data; boundary=" + "b" * 300, "This form could not be read."),
    ],
)
def test_a_multipart_form_that_cannot_be_read_is_a_400(
    app, testapp, db, content_type, message
):
    add_user(app, "ada")
    token = csrf_token(testapp)
    before = audit_count(app), db.lastTransaction()
    # Straight to the app: WebTest would make the Content-Type right.
    request = Request.blank(
        "/login",
        method="POST",
        body=f"csrf_token={token}&login=ada&password=x".encode(),
        headers={
            "Host": "example.com",
            "Content-Type": content_type,
            "X-CSRF-Token": token,
            "Cookie": "; ".join(f"{k}={v}" for k, v in testapp.cookies.items()),
        },
    )
    response = request.get_response(app)
    assert_refused_in_layout(response)
    assert message in response.text
    assert (audit_count(app), db.lastTransaction()) == before


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "bogus"])
def test_a_form_in_another_charset_is_a_400(app, testapp, db, charset):
    add_user(app, "ada")
    token = csrf_token(testapp)
    before = audit_count(app), db.lastTransaction()
    response = testapp.post(
        "/login",
        f"csrf_token={token}&login=ada&password=x".encode(),
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        status=400,
    )
    assert_refused_in_layout(response)
    assert f"Forms are read as UTF-8, and this one said {charset}." in response.text
    assert (audit_count(app), db.lastTransaction()) == before


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"password": "x", "login": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_deeply_nested_json_is_a_400(testapp, db, body):
    token = csrf_token(testapp)
    before = db.lastTransaction()
    response = testapp.post(
        "/password-strength",
        body,
        content_type="application/json",
        headers={"X-CSRF-Token": token, **JSON},
        status=400,
    )
    assert response.json["message"] == "This JSON is nested too deeply."
    assert response.headers["Content-Security-Policy"].startswith("default-src")
    assert db.lastTransaction() == before


def test_json_that_is_not_json_is_still_the_views_to_answer(testapp):
    token = csrf_token(testapp)
    response = testapp.post(
        "/password-strength",
        b"{not json",
        content_type="application/json",
        headers={"X-CSRF-Token": token},
        status=400,
    )
    assert response.json["error"] == "Send JSON with a 'password' field."


def test_the_admins_import_still_takes_a_file(app):
    admin = admin_browser(app)
    form = admin.get("/users/import").forms["import-form"]
    form["file"] = ("accounts.csv", b"login,email\nbea,bea@example.org\n")
    form["reason"] = "Moving from the old site"
    assert "This form takes no files." not in form.submit(status="*").text


# --- Cookies that would outgrow what a browser stores ---------------------


def test_reset_requests_over_and_over_keep_the_session_cookie_small(testapp):
    form = testapp.get("/reset-password").forms["reset-form"]
    for login in ["a" * 254, "€" * 254, "a" * 3000]:
        for _ in range(15):
            form["login"] = login
            response = form.submit(status="*")
            assert response.status_int < 500
            cookie = response.headers.get("Set-Cookie", "")
            assert len(cookie) < 4096
    # Every request was answered, and a page then shows one message.
    flashes = testapp.get("/new-password").html.select(".flashes li, .flash")
    assert len(flashes) <= 5


class TestSignInWithACode:
    @pytest.fixture
    def settings(self, settings):
        return {**settings, "auth.two_step": "always"}

    def test_a_long_next_is_dropped_rather_than_the_flow_cookie(self, app, testapp):
        add_user(app, "ada")
        form = testapp.get("/login").forms["login-form"]
        form["login"] = "ada"
        form["password"] = PASSWORD
        form["next"] = "/" + "€" * 1500
        response = form.submit(status=303)
        flow = [
            h for n, h in response.headerlist if n == "Set-Cookie" and FLOW_COOKIE in h
        ]
        assert flow and len(flow[0]) < 4096
        # The flow still works: the code page is there to fill in.
        assert testapp.get("/verify").status_int == 200

    def test_a_short_next_is_kept(self, app, testapp, maildir):
        from tests.accounts import last_code

        add_user(app, "ada")
        form = testapp.get("/login").forms["login-form"]
        form["login"] = "ada"
        form["password"] = PASSWORD
        form["next"] = "/users/"
        code_form = form.submit(status=303).follow().forms["code-form"]
        code_form["code"] = last_code(maildir)
        done = code_form.submit(status=303)
        assert done.headers["Location"] == "http://example.com/users/"


# --- Methods no page takes ------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS", "PATCH"])
@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("/", "GET, HEAD, POST"),
        ("/login", "GET, HEAD, POST"),
        ("/users/ada/", "GET, HEAD"),
        ("/ping", "POST"),
    ],
)
def test_other_methods_are_a_405_with_allow(app, db, method, url, allow):
    admin = admin_browser(app)
    add_user(app, "ada")
    before = db.lastTransaction()
    response = admin.request(url, method=method, status=405)
    assert_refused_in_layout(response, 405)
    assert response.headers["Allow"] == allow
    assert db.lastTransaction() == before


def test_a_405_asked_for_json_is_json(testapp):
    response = testapp.request("/login", method="DELETE", headers=JSON, status=405)
    assert response.headers["Allow"] == "GET, HEAD, POST"
    assert response.json["status"] == 405
    assert "not DELETE" in response.json["message"]


def test_another_method_on_nothing_is_still_a_404(testapp):
    testapp.request("/nothing-here", method="PUT", status=404)
