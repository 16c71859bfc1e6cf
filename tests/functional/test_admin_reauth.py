"""An admin whose sign-in is older than ``auth.reauth_after`` (15 minutes)
gives their password again before changing an account's address or roles
(SECURITY.md, ASVS 3.7.1): the field, the refusals, the failure counted
against the admin's own account, and the window a right password opens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ZODB import DB
from ZODB.FileStorage import FileStorage
from ZODB.POSException import ConflictError

from tests.accounts import (
    PASSWORD,
    Clock,
    add_user,
    browser,
    messages,
    service,
    sign_in,
    with_root,
)
from tests.conftest import use_service
from tests.unit.test_concurrency import Change, commit, race
from wingapp import main
from wingapp.interfaces import IClock, IKeyring
from wingapp.settings import SettingsError, validate
from wingapp.users.sessions import (
    SessionService,
    SignInSession,
    Timeouts,
    duration,
)
from wingapp.users.settings import USERS

REASON = "Asked by the owner on the phone"
PROMPT = "Enter your password: you signed in more than 15 minutes ago."
PAGE = "/users/bob/@@admin"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def admin(app, clock):
    """Signed in now, by the test's clock."""
    add_user(app, "root", roles=("user", "admin"))
    add_user(app, "bob")
    admin = browser(app, ip="198.51.100.7", agent="AdminBrowser/1")
    sign_in(admin, "root", status=303)
    return admin


def email_of(app: Any, login: str) -> str:
    keyring = service(app.registry, IKeyring)
    return with_root(app, lambda root: root["users"][login].email(keyring))


def roles_of(app: Any, login: str) -> tuple[str, ...]:
    return with_root(app, lambda root: root["users"][login].roles)


def log(app: Any) -> list[tuple[str, str, str | None]]:
    """(kind, outcome, login) of each log entry, newest first."""
    return with_root(
        app,
        lambda root: [(e.kind, e.outcome, e.login) for e in root.audit.newest(100)],
    )


def failures_of(app: Any, login: str) -> int:
    return with_root(app, lambda root: root["users"][login].failed_attempts.count)


def password_field(page: Any, form: str) -> Any:
    return page.html.find("form", id=f"{form}-form").find(
        "input", attrs={"name": "current_password"}
    )


def error_beside(page: Any, form: str, field: str) -> str:
    found = page.html.find("form", id=f"{form}-form").find(id=f"{form}-{field}")
    return found.find_next("p", class_="field-error").get_text(" ", strip=True)


def email_form(page: Any, email: str, **fields: str) -> Any:
    form = page.forms["email-form"]
    form["email"] = email
    form["reason"] = REASON
    for name, value in fields.items():
        form[name] = value
    return form


def roles_form(page: Any, roles: set[str], **fields: str) -> Any:
    form = page.forms["roles-form"]
    for box in form.fields["roles"]:
        box.checked = box._value in roles
    form["reason"] = REASON
    for name, value in fields.items():
        form[name] = value
    return form


# -- a recent sign-in ----------------------------------------------------------


def test_a_fresh_sign_in_changes_without_the_password(app, admin, clock):
    clock.advance(minutes=15)  # not more than 15 minutes: still recent
    page = admin.get(PAGE)
    assert password_field(page, "email") is None
    assert password_field(page, "roles") is None
    email_form(page, "robert@example.net").submit(status=303)
    assert email_of(app, "bob") == "robert@example.net"
    page = admin.get(PAGE)
    roles_form(page, {"user", "admin"}).submit(status=303)
    assert roles_of(app, "bob") == ("user", "admin")


def test_a_password_sent_while_recent_is_not_checked(app, admin):
    page = admin.get(PAGE)
    # Nothing on the form asks for it; a stray field changes nothing.
    admin.post(
        "/users/bob/@@admin-email",
        {
            "csrf_token": page.forms["email-form"]["csrf_token"].value,
            "email": "robert@example.net",
            "reason": REASON,
            "current_password": "not the password",
        },
        status=303,
    )
    assert email_of(app, "bob") == "robert@example.net"
    assert ("reauth", "failure", "root") not in log(app)


# -- an old sign-in --------------------------------------------------------------


def test_an_old_sign_in_is_asked_for_the_password(app, admin, clock):
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    for form in ("email", "roles"):
        field = password_field(page, form)
        assert field["type"] == "password"
        assert field["id"] == f"{form}-current_password"
        assert field["autocomplete"] == "current-password"
        label = page.html.find("label", attrs={"for": field["id"]})
        assert label.get_text(strip=True) == "Your password"
        hint = page.html.find(id=field["aria-describedby"])
        assert hint.get_text(strip=True) == PROMPT
    # The other actions do not ask.
    for form in ("disable", "end-sessions", "delete"):
        assert password_field(page, form) is None


@pytest.mark.parametrize("form", ["email", "roles"])
def test_without_the_password_nothing_changes(app, admin, clock, maildir, form):
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    if form == "email":
        answer = email_form(page, "robert@example.net").submit(status=400)
    else:
        answer = roles_form(page, {"user", "admin"}).submit(status=400)
    assert error_beside(answer, form, "current_password") == PROMPT
    field = password_field(answer, form)
    assert field["aria-invalid"] == "true"
    assert not field.has_attr("aria-describedby")
    links = [a["href"] for a in answer.html.find(id="problems").find_all("a")]
    assert links == [f"#{form}-current_password"]
    # What else was typed stays; the other form still shows the hint.
    assert answer.forms[f"{form}-form"]["reason"].value == REASON
    other = "roles" if form == "email" else "email"
    assert password_field(answer, other).has_attr("aria-describedby")
    assert email_of(app, "bob") == "bob@example.org"
    assert roles_of(app, "bob") == ("user",)
    assert messages(maildir) == []
    assert log(app)[0][0] == "sign-in"


def test_every_problem_shows_at_once_with_the_password(app, admin, clock):
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    answer = email_form(page, "nope", reason="").submit(status=400)
    links = [a["href"] for a in answer.html.find(id="problems").find_all("a")]
    assert sorted(links) == [
        "#email-current_password",
        "#email-email",
        "#email-reason",
    ]


def test_a_wrong_password_is_a_failed_attempt_on_the_admin(app, admin, clock):
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    answer = email_form(
        page, "robert@example.net", current_password="wrong horse"
    ).submit(status=400)
    assert error_beside(answer, "email", "current_password") == (
        "Not your current password."
    )
    assert "Your current password is not right." in answer.text
    # Never shown again, nor written anywhere.
    assert "wrong horse" not in answer.text
    assert answer.forms["email-form"]["current_password"].value == ""
    assert email_of(app, "bob") == "bob@example.org"
    # Recorded (against the admin's account, kept despite the 400), and
    # counted towards the admin's back-off.
    assert log(app)[0] == ("reauth", "failure", "root")
    assert failures_of(app, "root") == 1
    assert failures_of(app, "bob") == 0
    # A wrong password opens no window: the next change asks again.
    page = admin.get(PAGE)
    assert password_field(page, "roles") is not None


def test_the_right_password_opens_a_new_window(app, admin, clock):
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    email_form(page, "robert@example.net", current_password=PASSWORD).submit(status=303)
    assert email_of(app, "bob") == "robert@example.net"
    assert log(app)[0][0] == "admin-email"
    # Right after, and until 15 minutes after the password was given, no
    # password is asked for, though the sign-in itself is older.
    clock.advance(minutes=15)
    page = admin.get(PAGE)
    assert password_field(page, "roles") is None
    roles_form(page, {"user", "admin"}).submit(status=303)
    assert roles_of(app, "bob") == ("user", "admin")
    # Then it is asked for again.
    clock.advance(minutes=1, seconds=1)
    page = admin.get(PAGE)
    roles_form(page, {"user"}).submit(status=400)
    assert roles_of(app, "bob") == ("user", "admin")
    roles_form(admin.get(PAGE), {"user"}, current_password=PASSWORD).submit(status=303)
    assert roles_of(app, "bob") == ("user",)


def test_a_refused_change_keeps_no_window(app, admin, clock):
    # The right password, but the change itself is refused: the request
    # changes nothing, so the next try asks again.
    add_user(app, "cyd")
    clock.advance(minutes=16)
    page = admin.get(PAGE)
    answer = email_form(page, "cyd@example.org", current_password=PASSWORD).submit(
        status=400
    )
    assert "The account “cyd” has this address already." in answer.text
    assert password_field(admin.get(PAGE), "email") is not None


def test_a_new_sign_in_is_recent_again(app, admin, clock):
    clock.advance(minutes=16)
    token = admin.get(PAGE).forms["email-form"]["csrf_token"].value
    admin.post("/logout", {"csrf_token": token}, status=303)
    sign_in(admin, "root", status=303)
    assert password_field(admin.get(PAGE), "email") is None


# -- the setting --------------------------------------------------------------


@pytest.fixture
def short_app(settings):
    """The app with ``auth.reauth_after = 300`` and a clock the test moves."""
    app = main({}, **{**settings, "auth.reauth_after": "300"})
    clock = Clock()
    use_service(app.registry, clock, IClock)
    yield app, clock
    for db in app.registry._zodb_databases.values():
        db.close()


def test_a_shorter_setting_asks_sooner(short_app):
    app, clock = short_app
    add_user(app, "root", roles=("user", "admin"))
    add_user(app, "bob")
    admin = browser(app)
    sign_in(admin, "root", status=303)
    clock.advance(minutes=5)
    assert password_field(admin.get(PAGE), "email") is None
    clock.advance(seconds=1)
    hint = admin.get(PAGE).html.find(id="email-current_password-hint")
    assert hint.get_text(strip=True) == (
        "Enter your password: you signed in more than 5 minutes ago."
    )


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("59", "auth.reauth_after must be from 60 to 900 seconds; got 59."),
        ("901", "auth.reauth_after must be from 60 to 900 seconds; got 901."),
        (
            "soon",
            "auth.reauth_after must be a whole number from 60 to 900 seconds; "
            "got 'soon'.",
        ),
    ],
)
def test_the_setting_may_only_be_tightened(settings, value, line):
    with pytest.raises(SystemExit) as caught:
        main({}, **{**settings, "auth.reauth_after": value})
    assert caught.value.code == f"wingapp: {line}"
    assert isinstance(caught.value.__cause__, SettingsError)


def test_the_default_is_security_md_15_minutes():
    assert validate(USERS, {})["auth.reauth_after"] == timedelta(minutes=15)
    assert Timeouts.from_settings({}).reauth == timedelta(minutes=15)
    assert Timeouts.from_settings({"auth.reauth_after": "60"}).reauth == timedelta(
        minutes=1
    )


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(900, "15 minutes"), (60, "1 minute"), (90, "90 seconds"), (61, "61 seconds")],
)
def test_the_prompt_reads_the_setting_as_a_person_would(seconds, words):
    assert duration(timedelta(seconds=seconds)) == words


# -- two requests of one session at once -----------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def session_db(tmp_path) -> Iterator[DB]:
    """A FileStorage (which resolves conflicts as production does) holding
    one session record, made before re-authentication existed: it has no
    ``reauthenticated`` of its own."""
    database = DB(FileStorage(str(tmp_path / "Data.fs")))
    commit(database, lambda root: root.__setitem__("s", SignInSession(T0, None, None)))
    yield database
    database.close()


def at(minutes: int, keyring: Any) -> SessionService:
    return SessionService(keyring, Timeouts(), Clock(T0 + timedelta(minutes=minutes)))


def state(root: Any) -> tuple:
    record = root["s"]
    return record.last_active, record.reauthenticated


@pytest.mark.parametrize("reauth_first", [True, False])
def test_a_reauthentication_and_activity_at_once_both_count(
    session_db, keyring, reauth_first
):
    def reauth(root: Any) -> None:
        service = at(17, keyring)
        assert service.reauth_due(root["s"])
        service.touch(root["s"])
        service.reauthenticated(root["s"])

    def touch(root: Any) -> None:
        at(18, keyring).touch(root["s"])

    race(session_db, *((reauth, touch) if reauth_first else (touch, reauth)))
    assert commit(session_db, state) == (
        T0 + timedelta(minutes=18),
        T0 + timedelta(minutes=17),
    )
    assert not commit(session_db, lambda root: at(32, keyring).reauth_due(root["s"]))
    assert commit(session_db, lambda root: at(33, keyring).reauth_due(root["s"]))


def test_two_reauthentications_at_once_keep_the_later(session_db, keyring):
    def reauth_at(minutes: int) -> Change:
        return lambda root: at(minutes, keyring).reauthenticated(root["s"])

    race(session_db, reauth_at(20), reauth_at(19))
    assert commit(session_db, state)[1] == T0 + timedelta(minutes=20)
    race(session_db, reauth_at(21), reauth_at(22))
    assert commit(session_db, state)[1] == T0 + timedelta(minutes=22)


def test_activity_alone_at_once_keeps_no_reauthentication(session_db, keyring):
    race(
        session_db,
        lambda root: at(3, keyring).touch(root["s"]),
        lambda root: at(2, keyring).touch(root["s"]),
    )
    assert commit(session_db, state) == (T0 + timedelta(minutes=3), None)
    assert "reauthenticated" not in commit(session_db, lambda root: vars(root["s"]))


def test_a_session_changed_otherwise_is_still_a_real_conflict(session_db, keyring):
    def relabel(root: Any) -> None:
        root["s"].ip_token = b"elsewhere"

    with pytest.raises(ConflictError):
        race(
            session_db,
            relabel,
            lambda root: at(20, keyring).reauthenticated(root["s"]),
        )
