"""Each user's admin page and its forms, and create-user, as an admin's
browser drives them: every form's success, its errors beside their fields
(status 400, nothing changed), CSRF, and what the account's owner sees."""

from __future__ import annotations

import re
from typing import Any

import pytest
import transaction
from pyramid.request import Request, apply_request_extensions
from pyramid.threadlocal import manager
from ZODB.POSException import ConflictError

from tests.accounts import (
    PASSWORD,
    add_user,
    admin_browser,
    body,
    browser,
    messages,
    sign_in,
    with_root,
)
from wingapp.admin.interfaces import IAdminService
from wingapp.users.interfaces import IAccountService
from wingapp.users.services import Refused

REASON = "Asked by the owner on the phone"
JSON = {"Accept": "application/json"}


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def admin(app):
    return admin_browser(app, ip="198.51.100.7", agent="AdminBrowser/1")


@pytest.fixture
def bob(app):
    add_user(app, "bob")
    return browser(app)


def account(app: Any, login: str) -> Any:
    """What the database says of the account now (None if it is gone)."""

    def read(root: Any) -> Any:
        user = root["users"].get(login)
        if user is None:
            return None
        return {
            "state": user.state,
            "disabled": user.disabled,
            "must_reset": user.must_reset,
            "email_confirmed": user.email_confirmed,
            "roles": user.roles,
            "sessions": len(user.sessions),
            "trusted": len(user.trusted_devices) + len(user.trusted_networks),
        }

    return with_root(app, read)


def log_kinds(app: Any) -> list[str]:
    return with_root(app, lambda root: [e.kind for e in root.audit.newest(1000)])


def post_form(page: Any, name: str, status: Any = None, **fields: Any) -> Any:
    form = page.forms[f"{name}-form"]
    for field, value in fields.items():
        form[field] = value
    return form.submit(status=status)


def form_html(page: Any, name: str) -> Any:
    return page.html.find("form", id=f"{name}-form")


def error_beside(page: Any, form: str, field: str) -> str:
    """The message shown right after ``field``'s input in ``form``."""
    found = form_html(page, form).find(id=f"{form}-{field}")
    assert found is not None, f"no field {field} in {form}"
    error = found.find_next("p", class_="field-error")
    assert error is not None, f"no error beside {field}"
    return error.get_text(" ", strip=True)


def summary(page: Any) -> str:
    return page.html.find(id="problems").get_text(" ", strip=True)


# -- the page ----------------------------------------------------------------


def test_the_admin_page_shows_the_account(admin, bob):
    sign_in(bob, "bob", status=303)
    page = admin.get("/users/bob/@@admin")
    main = page.html.find("main").get_text(" ", strip=True)
    for fact in ("Account bob", "bob@example.org", "user", "active"):
        assert fact in main
    props = dict(
        zip(
            [dt.get_text(strip=True) for dt in page.html.select("dl.props dt")],
            [dd.get_text(" ", strip=True) for dd in page.html.select("dl.props dd")],
            strict=True,
        )
    )
    assert props["State"] == "active"
    assert props["Live sessions"] == "1"
    assert props["Trusted devices"] == "1"
    assert props["Last sign-in"].endswith("UTC")
    forms = {f.get("id") for f in page.html.find_all("form")}
    assert {
        "email-form",
        "roles-form",
        "disable-form",
        "force-reset-form",
        "end-sessions-form",
        "revoke-trust-form",
        "delete-form",
    } <= forms
    # Only what could change something in this state is offered.
    assert (
        not {
            "enable-form",
            "resend-confirmation-form",
            "mark-confirmed-form",
        }
        & forms
    )
    # Every form carries the CSRF token and labels every field.
    for form in page.html.find_all("form"):
        assert form.find("input", attrs={"name": "csrf_token"}) is not None
        for field in form.find_all(["input", "select"]):
            if field.get("type") != "hidden":
                assert page.html.find("label", attrs={"for": field["id"]}), field
    # The roles the account has are ticked.
    assert page.forms["roles-form"].get("roles", index=0).checked
    assert not page.forms["roles-form"].get("roles", index=1).checked


def test_the_page_of_an_unconfirmed_disabled_account(app, admin):
    add_user(app, "cyd", confirmed=False)
    page = admin.get("/users/cyd/@@admin")
    forms = set(page.forms)
    assert {"resend-confirmation-form", "mark-confirmed-form"} <= forms
    post_form(page, "disable", reason=REASON, status=303)
    page = admin.get("/users/cyd/@@admin")
    assert "enable-form" in page.forms
    assert "disable-form" not in page.forms
    assert page.html.find(id="state").get_text() == "disabled"


def test_the_page_as_json_has_the_facts_and_no_secret(app, admin, bob):
    sign_in(bob, "bob", status=303)
    post_form(admin.get("/users/bob/@@admin"), "end-sessions", reason=REASON)
    data = admin.get("/users/bob/@@admin", headers=JSON).json
    assert data["login"] == "bob"
    assert data["url"] == "http://example.com/users/bob/@@admin"
    assert data["email"] == "bob@example.org"
    assert (data["email_confirmed"], data["roles"], data["state"]) == (
        True,
        ["user"],
        "active",
    )
    assert (data["sessions"], data["trusted_devices"], data["trusted_networks"]) == (
        0,
        1,
        1,
    )
    assert data["created"] and data["last_sign_in"]
    newest = data["history"][0]
    assert newest["admin"] is True
    assert newest["kind"] == "admin-end-sessions"
    assert newest["actor"] == "root"
    assert newest["reason"] == REASON
    assert (newest["before"], newest["after"]) == ({"sessions": 1}, {"sessions": 0})
    # The owner's own sign-in is in the history too, not marked admin.
    assert any(h["kind"] == "sign-in" and h["admin"] is False for h in data["history"])
    text = admin.get("/users/bob/@@admin", headers=JSON).text
    for secret in ("password", "hash", PASSWORD, "sid"):
        assert secret not in text


def test_history_pages_newest_first(admin, bob):
    page = admin.get("/users/bob/@@admin")
    for i in range(11):
        post_form(page, "disable", reason=f"round {i} off", status=303)
        page = admin.get("/users/bob/@@admin")
        post_form(page, "enable", reason=f"round {i} on", status=303)
        page = admin.get("/users/bob/@@admin")
    rows = page.html.select("#history ~ .table-wrap tbody tr")
    assert len(rows) == 20
    first = rows[0].get_text(" ", strip=True)
    assert "admin:" in first
    assert "round 10 on" in first
    assert "state: disabled → active" in first
    older = page.html.find("a", rel="next")["href"]
    assert re.search(r"/users/bob/@@admin\?before=\d+#history$", older)
    page2 = admin.get(older)
    rows2 = page2.html.select("#history ~ .table-wrap tbody tr")
    assert len(rows2) == 2
    assert "round 0 off" in rows2[-1].get_text(" ", strip=True)
    assert page2.html.find("a", rel="next") is None
    assert page2.html.find("a", string="Newest") is not None
    # The JSON pages the same way.
    data = admin.get(older, headers=JSON).json
    assert [h["reason"] for h in data["history"]] == ["round 0 on", "round 0 off"]
    assert data["history_next"] is None
    for bad in ("-1", "x", str(2**63), "1" * 40):
        answer = admin.get(f"/users/bob/@@admin?before={bad}", status=400)
        assert "before" in answer.text


# -- who may -----------------------------------------------------------------


ADMIN_POSTS = [
    "admin-email",
    "admin-roles",
    "admin-disable",
    "admin-enable",
    "admin-force-reset",
    "admin-resend-confirmation",
    "admin-mark-confirmed",
    "admin-end-sessions",
    "admin-revoke-trust",
    "admin-delete",
]


def test_anonymous_visitors_are_sent_to_sign_in(app, bob):
    anonymous = browser(app)
    for path in ("/users/bob/@@admin", "/users/@@create"):
        assert anonymous.get(path, status=303).location.startswith(
            "http://example.com/login?next="
        )
    assert anonymous.get("/users/bob/@@admin", headers=JSON, status=401)


def test_a_signed_in_user_may_not(app, bob):
    add_user(app, "ada")
    sign_in(bob, "bob", status=303)
    token = bob.get("/users/bob/").forms["signout-form"]["csrf_token"].value
    for path in ("/users/ada/@@admin", "/users/bob/@@admin", "/users/@@create"):
        bob.get(path, status=403)
    for name in ADMIN_POSTS:
        fields = {"csrf_token": token, "reason": REASON, "confirm": "ada"}
        bob.post(f"/users/ada/@@{name}", fields, status=403)
    bob.post("/users/@@create", {"csrf_token": token}, status=403)
    assert account(app, "ada")["state"] == "active"
    assert not any(k.startswith("admin-") for k in log_kinds(app))


def test_every_form_needs_the_csrf_token(app, admin, bob):
    for name in ADMIN_POSTS:
        answer = admin.post(
            f"/users/bob/@@{name}", {"reason": REASON, "confirm": "bob"}, status=400
        )
        assert "Form expired" in answer.text
    admin.post("/users/@@create", {"login": "x", "reason": REASON}, status=400)
    assert account(app, "bob")["state"] == "active"
    assert not any(k.startswith("admin-") for k in log_kinds(app))


# -- each form ---------------------------------------------------------------


def test_set_email(app, admin, bob, maildir):
    page = post_form(
        admin.get("/users/bob/@@admin"),
        "email",
        email="robert@example.net",
        reason=REASON,
        status=303,
    )
    assert page.location == "http://example.com/users/bob/@@admin"
    page = page.follow()
    assert "The address is changed" in page.text
    assert "robert@example.net" in page.text
    (notice,) = messages(maildir)
    assert notice["To"] == "bob@example.org"
    # The account signs in by its new address.
    sign_in(bob, "robert@example.net", status=303)
    row = page.html.select("#history ~ .table-wrap tbody tr")[0].get_text(" ")
    assert "email: b•••@example.org → r•••@example.net" in row


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("", "Enter the email address."),
        ("not an address", "Enter one email address, like name@example.org."),
        ("ROOT@example.org", "The account “root” has this address already."),
        ("bob@example.org", "This is the account's address already."),
    ],
)
def test_set_email_errors(app, admin, bob, maildir, email, says):
    page = post_form(
        admin.get("/users/bob/@@admin"), "email", email=email, reason=REASON, status=400
    )
    assert error_beside(page, "email", "email") == says
    assert says in summary(page)
    # What was typed is shown again, in that form only.
    assert page.forms["email-form"]["email"].value == email
    assert page.forms["email-form"]["reason"].value == REASON
    assert page.forms["disable-form"]["reason"].value == ""
    assert messages(maildir) == []
    assert with_root(app, lambda r: r["users"]["bob"].email_token) is not None
    sign_in(browser(app), "bob@example.org", status=303)


def test_every_problem_of_a_form_shows_at_once(app, admin, bob):
    page = post_form(
        admin.get("/users/bob/@@admin"), "email", email="nope", reason="x", status=400
    )
    assert error_beside(page, "email", "email").startswith("Enter one email address")
    assert error_beside(page, "email", "reason").startswith("Give a reason")
    links = [a["href"] for a in page.html.find(id="problems").find_all("a")]
    assert sorted(links) == ["#email-email", "#email-reason"]


def test_set_roles(app, admin, bob):
    page = admin.get("/users/bob/@@admin")
    form = page.forms["roles-form"]
    form.get("roles", index=1).checked = True
    form["reason"] = REASON
    page = form.submit(status=303).follow()
    assert "Roles of bob: user, admin." in page.text
    assert account(app, "bob")["roles"] == ("user", "admin")
    # Bob is an admin at his next request.
    sign_in(bob, "bob", status=303)
    bob.get("/users/root/@@admin", status=200)


def test_roles_errors(app, admin, bob):
    page = admin.get("/users/bob/@@admin")
    token = page.forms["roles-form"]["csrf_token"].value
    answer = admin.post(
        "/users/bob/@@admin-roles",
        [
            ("csrf_token", token),
            ("roles", "user"),
            ("roles", "owner"),
            ("reason", REASON),
        ],
        status=400,
    )
    assert error_beside(answer, "roles", "roles") == (
        "Unknown role: owner. Choose from user, admin."
    )
    answer = post_form(page, "roles", reason=REASON, status=400)
    assert "has these roles already" in summary(answer)
    # An admin cannot take their own admin role away.
    page = admin.get("/users/root/@@admin")
    form = page.forms["roles-form"]
    form.get("roles", index=1).checked = False
    form["reason"] = REASON
    answer = form.submit(status=400)
    assert "you would lock yourself out" in summary(answer)
    assert error_beside(answer, "roles", "roles") == "Keep your own admin role."
    assert account(app, "root")["roles"] == ("user", "admin")
    assert account(app, "bob")["roles"] == ("user",)


@pytest.mark.parametrize(
    "name",
    [
        "email",
        "roles",
        "disable",
        "force-reset",
        "end-sessions",
        "revoke-trust",
        "delete",
    ],
)
@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("", "Give a reason of 3 to 200 characters"),
        ("  a ", "Give a reason of 3 to 200 characters"),
    ],
)
def test_every_form_needs_a_reason(app, admin, bob, name, reason, says):
    sign_in(bob, "bob", status=303)
    before = account(app, "bob")
    page = admin.get("/users/bob/@@admin")
    form = page.forms[f"{name}-form"]
    form["reason"] = reason
    if name == "email":
        form["email"] = "robert@example.net"
    if name == "delete":
        form["confirm"] = "bob"
    answer = form.submit(status=400)
    assert error_beside(answer, name, "reason").startswith(says)
    assert "Please correct the marked fields." in summary(answer)
    assert answer.html.find(id="problems").find("a")["href"] == f"#{name}-reason"
    assert account(app, "bob") == before
    assert not any(k.startswith("admin-") for k in log_kinds(app))


def test_a_reason_over_200_characters(app, admin, bob):
    page = admin.get("/users/bob/@@admin")
    token = page.forms["disable-form"]["csrf_token"].value
    answer = admin.post(
        "/users/bob/@@admin-disable",
        {"csrf_token": token, "reason": "x" * 201},
        status=400,
    )
    assert error_beside(answer, "disable", "reason").startswith("Give a reason")
    assert account(app, "bob")["disabled"] is False


def test_disabling_ends_the_users_session(app, admin, bob):
    sign_in(bob, "bob", status=303)
    bob.get("/users/bob/", status=200)
    page = post_form(
        admin.get("/users/bob/@@admin"), "disable", reason=REASON, status=303
    ).follow()
    assert "bob is disabled" in page.text
    assert page.html.find(id="state").get_text() == "disabled"
    assert account(app, "bob")["sessions"] == 0
    # Bob's next request finds him signed out, and he cannot sign in again.
    assert bob.get("/users/bob/", status=303).location.startswith(
        "http://example.com/login"
    )
    refused = sign_in(bob, "bob", status=400)
    assert "disabled" in refused.text
    assert log_kinds(app)[1] == "admin-disable"


def test_disable_refusals(app, admin, bob):
    page = admin.get("/users/root/@@admin")
    answer = post_form(page, "disable", reason=REASON, status=400)
    assert "You cannot disable your own account" in summary(answer)
    assert account(app, "root")["disabled"] is False
    page = admin.get("/users/bob/@@admin")
    token = page.forms["disable-form"]["csrf_token"].value
    post_form(page, "disable", reason=REASON, status=303)
    # A second admin's page, loaded before the first disabled him.
    answer = admin.post(
        "/users/bob/@@admin-disable",
        {"csrf_token": token, "reason": REASON},
        status=400,
    )
    assert summary(answer) == "Already disabled."
    assert log_kinds(app).count("admin-disable") == 1


def test_enable(app, admin, bob):
    post_form(admin.get("/users/bob/@@admin"), "disable", reason=REASON)
    page = post_form(
        admin.get("/users/bob/@@admin"), "enable", reason=REASON, status=303
    ).follow()
    assert "bob can sign in again." in page.text
    sign_in(bob, "bob", status=303)
    token = page.forms["roles-form"]["csrf_token"].value
    answer = admin.post(
        "/users/bob/@@admin-enable", {"csrf_token": token, "reason": REASON}, status=400
    )
    assert summary(answer) == "Already enabled."


def test_force_reset_mails_a_code_and_the_old_password_stops(app, admin, bob, maildir):
    sign_in(bob, "bob", status=303)
    page = post_form(
        admin.get("/users/bob/@@admin"), "force-reset", reason=REASON, status=303
    ).follow()
    assert "A reset code went to the account's address" in page.text
    assert "force-reset-form" not in page.forms
    assert page.html.find(id="state").get_text() == "must-reset"
    (mail,) = messages(maildir)
    assert mail["To"] == "bob@example.org"
    text = body(mail)
    assert re.search(r"^Code: \d{6,12}$", text, re.MULTILINE)
    assert "http://example.com/" in text
    # His session ended, and his old password signs nobody in.
    assert bob.get("/users/bob/", status=303).location.startswith(
        "http://example.com/login"
    )
    other = browser(app, ip="203.0.113.5")
    sign_in(other, "bob", status="*")
    other.get("/users/bob/", status=303)
    assert account(app, "bob")["sessions"] == 0
    # Asked again while the reset is pending: nothing to change.
    token = page.forms["roles-form"]["csrf_token"].value
    answer = admin.post(
        "/users/bob/@@admin-force-reset",
        {"csrf_token": token, "reason": REASON},
        status=400,
    )
    assert "pending already" in summary(answer)


def test_confirmation_forms(app, admin, maildir):
    add_user(app, "cyd", confirmed=False)
    page = post_form(
        admin.get("/users/cyd/@@admin"),
        "resend-confirmation",
        reason=REASON,
        status=303,
    ).follow()
    assert "A new confirmation code went" in page.text
    (mail,) = messages(maildir)
    assert mail["To"] == "cyd@example.org"
    page = post_form(page, "mark-confirmed", reason=REASON, status=303).follow()
    assert "The address is marked as confirmed." in page.text
    assert account(app, "cyd")["email_confirmed"] is True
    assert "mark-confirmed-form" not in page.forms
    token = page.forms["roles-form"]["csrf_token"].value
    for name in ("resend-confirmation", "mark-confirmed"):
        answer = admin.post(
            f"/users/cyd/@@admin-{name}",
            {"csrf_token": token, "reason": REASON},
            status=400,
        )
        assert summary(answer) == "The address is confirmed already."


def test_end_sessions_and_revoke_trust(app, admin, bob):
    sign_in(bob, "bob", status=303)
    page = admin.get("/users/bob/@@admin")
    page = post_form(page, "end-sessions", reason=REASON, status=303).follow()
    assert "Ended 1 session." in page.text
    assert bob.get("/users/bob/", status=303)
    page = post_form(page, "revoke-trust", reason=REASON, status=303).follow()
    assert "Forgot 2 trusted places" in page.text
    assert account(app, "bob")["trusted"] == 0
    for name, says in (
        ("end-sessions", "The account has no sessions to end."),
        ("revoke-trust", "The account has no trusted devices or networks."),
    ):
        answer = post_form(page, name, reason=REASON, status=400)
        assert summary(answer) == says


def test_delete_needs_the_login_typed(app, admin, bob):
    page = admin.get("/users/bob/@@admin")
    for typed, says in (
        ("", "Type the login name to confirm."),
        ("Bob!", "Type the login name “bob” to confirm."),
    ):
        answer = post_form(page, "delete", confirm=typed, reason=REASON, status=400)
        assert error_beside(answer, "delete", "confirm") == says
        assert account(app, "bob") is not None
    answer = post_form(page, "delete", confirm="bob", reason=REASON, status=303)
    assert answer.location == "http://example.com/users/"
    assert account(app, "bob") is None
    admin.get("/users/bob/@@admin", status=404)
    assert log_kinds(app)[0] == "admin-delete"
    # The address is free again.
    add_user(app, "robert", email_address="bob@example.org")


def test_an_admin_cannot_delete_themselves(app, admin):
    page = admin.get("/users/root/@@admin")
    answer = post_form(page, "delete", confirm="root", reason=REASON, status=400)
    assert "You cannot delete your own account" in summary(answer)
    assert account(app, "root") is not None


# -- create ------------------------------------------------------------------


def test_create_user_mails_the_new_user(app, admin, maildir):
    page = admin.get("/users/@@create")
    form = page.forms["create-form"]
    assert form.get("roles", index=0).checked  # "user", by default
    form["login"] = "Newbie"
    form["email"] = "newbie@example.org"
    form["reason"] = "Joined the team today"
    answer = form.submit(status=303)
    assert answer.location == "http://example.com/users/newbie/@@admin"
    page = answer.follow()
    assert "A mail went to its address with a link to set a password." in page.text
    assert page.html.find(id="state").get_text() == "unconfirmed"
    assert account(app, "newbie")["must_reset"] is True
    (mail,) = messages(maildir)
    assert mail["To"] == "newbie@example.org"
    text = body(mail)
    assert re.search(r"^Code: \d{6,12}$", text, re.MULTILINE)
    assert "newbie" in text
    row = page.html.select("#history ~ .table-wrap tbody tr")
    assert any("Joined the team today" in r.get_text() for r in row)
    # Nobody signs in with a password, since nobody set one.
    sign_in(browser(app), "newbie", "", status=400)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"login": ""}, "login", "Enter the login name."),
        ({"login": "x"}, "login", "A login name has 3 to 32"),
        ({"login": "root"}, "login", "The login name “root” is taken."),
        ({"email": ""}, "email", "Enter the email address."),
        ({"email": "nope"}, "email", "Enter one email address, like"),
        ({"email": "Root@Example.org"}, "email", "The account “root” has this"),
        ({"reason": "?"}, "reason", "Give a reason of 3 to 200"),
    ],
)
def test_create_user_errors(app, admin, maildir, fields, field, says):
    form = admin.get("/users/@@create").forms["create-form"]
    values = {"login": "newbie", "email": "newbie@example.org", "reason": REASON}
    for name, value in {**values, **fields}.items():
        form[name] = value
    answer = form.submit(status=400)
    error = answer.html.find(id=f"create-{field}").find_next("p", class_="field-error")
    assert error.get_text(strip=True).startswith(says)
    assert says in summary(answer)
    # What was typed stays.
    assert answer.forms["create-form"]["reason"].value == {**values, **fields}["reason"]
    assert account(app, "newbie") is None
    assert messages(maildir) == []


def test_create_user_with_an_unknown_role(app, admin):
    token = admin.get("/users/@@create").forms["create-form"]["csrf_token"].value
    answer = admin.post(
        "/users/@@create",
        [
            ("csrf_token", token),
            ("login", "newbie"),
            ("email", "newbie@example.org"),
            ("roles", "wizard"),
            ("reason", REASON),
        ],
        status=400,
    )
    assert "Unknown role: wizard" in summary(answer)
    assert account(app, "newbie") is None


# -- at the same moment ------------------------------------------------------


@pytest.fixture
def file_app(file_settings):
    """The app on a FileStorage, which resolves conflicts as production does."""
    from wingapp import main

    app = main({}, **{**file_settings, "auth.two_step": "never"})
    yield app
    app.registry._zodb_databases[""].close()


class Attempt:
    """One request's work in a connection of its own, committed when told:
    the requests of a race all start from the same committed state."""

    def __init__(self, app: Any, work: Any) -> None:
        self.app, self.work = app, work

    def begin(self) -> None:
        db = self.app.registry._zodb_databases[""]
        self.tm = transaction.TransactionManager(explicit=True)
        self.conn = db.open(transaction_manager=self.tm)
        self.tm.begin()
        request = Request.blank("/", environ={"HTTP_HOST": "example.com"})
        request.registry = self.app.registry
        apply_request_extensions(request)
        request.root = self.conn.root()["wingapp"]
        request.tm = self.tm
        self.request = request
        manager.push({"registry": self.app.registry, "request": request})
        try:
            self.result = self.work(request)
        finally:
            manager.pop()

    def commit(self) -> bool:
        """Commit; on a conflict, do what pyramid_retry does: run the
        request again on the newest state. True if it had to."""
        try:
            self.tm.commit()
            return False
        except ConflictError:
            self.tm.abort()
            self.conn.close()
            self.begin()
            self.tm.commit()
            return True
        finally:
            self.conn.close()


def race(*attempts: Attempt) -> list[bool]:
    for attempt in attempts:
        attempt.begin()
    return [attempt.commit() for attempt in attempts]


def as_admin(actor: str, action: str, login: str) -> Any:
    def work(request: Any) -> Any:
        request.signed_in_user = request.root["users"][actor]
        user = request.root["users"][login]
        return getattr(request.find_service(IAdminService), action)(user, REASON, actor)

    return work


def bob_signs_in(request: Any) -> Any:
    request.signed_in_user = None
    try:
        request.find_service(IAccountService).sign_in("bob", PASSWORD, "")
    except Refused as e:
        return e.message
    return request.session["sid"]


def test_two_admins_disable_two_users_at_once(file_app):
    for login, roles in (("root", ("user", "admin")), ("ada", ("user", "admin"))):
        add_user(file_app, login, roles=roles)
    add_user(file_app, "bob")
    add_user(file_app, "cyd")
    race(
        Attempt(file_app, as_admin("root", "disable", "bob")),
        Attempt(file_app, as_admin("ada", "disable", "cyd")),
    )
    assert account(file_app, "bob")["disabled"] is True
    assert account(file_app, "cyd")["disabled"] is True

    def entries(root: Any) -> list:
        return [
            (e.actor, e.login)
            for e in root.audit.newest(10)
            if e.kind == "admin-disable"
        ]

    assert sorted(with_root(file_app, entries)) == [("ada", "cyd"), ("root", "bob")]


@pytest.mark.parametrize("signed_in_elsewhere", [True, False])
@pytest.mark.parametrize("first", ["sign-in", "disable"])
def test_an_admin_disables_a_user_while_he_signs_in(
    file_app, first, signed_in_elsewhere
):
    add_user(file_app, "root", roles=("user", "admin"))
    add_user(file_app, "bob")
    # Bob has a history already (and perhaps a session on another device),
    # so that the race is about his sessions, not about who writes first to
    # his empty trees.
    elsewhere = browser(file_app, ip="203.0.113.9")
    sign_in(elsewhere, "bob", status=303)
    if not signed_in_elsewhere:
        token = elsewhere.get("/users/bob/").forms["signout-form"]["csrf_token"].value
        elsewhere.post("/logout", {"csrf_token": token}, status=303)
    sign_in_attempt = Attempt(file_app, bob_signs_in)
    disable_attempt = Attempt(file_app, as_admin("root", "disable", "bob"))
    order = (
        [sign_in_attempt, disable_attempt]
        if first == "sign-in"
        else [disable_attempt, sign_in_attempt]
    )
    race(*order)
    # Whichever committed first, and whether or not one was retried: the
    # account is disabled and has no session.
    state = account(file_app, "bob")
    assert (state["disabled"], state["sessions"]) == (True, 0)
    assert log_kinds(file_app).count("admin-disable") == 1
    assert elsewhere.get("/users/bob/", status=303)
