"""Odd account input through the web (issue 9, items 3, 7 and 9): long
passwords, addresses that are not one mailbox, look-alike login names."""

from __future__ import annotations

import pytest

from tests.accounts import (
    add_user,
    admin_browser,
    browser,
    last_code,
    messages,
    service,
    sign_in,
    with_root,
)
from wingapp.interfaces import IKeyring

TOO_LONG = "Use at most 128 characters."
ONE_ADDRESS = "Enter one email address, like name@example.org."
LOOKS_TAKEN = "This login name looks like an existing one. Choose another."
MIXED = (
    "Use letters of one alphabet in a login name (not, say, Latin and "
    "Cyrillic together)."
)
WORDS = (
    "violet harbour lantern seventeen copper meadow whistle ninety-one "
    "amber falcon quietly drifts over seven frozen orchards at dawn "
)


def long_password(length: int) -> str:
    return (WORDS * 3)[:length]


@pytest.fixture
def settings(settings):
    # Two-step sign-in has its own tests; here a sign-in is one step.
    return {**settings, "auth.two_step": "never"}


def register(client, login="ada", email="ada@example.org", password=None):
    form = client.get("/register").forms["register-form"]
    form["login"] = login
    form["email"] = email
    form["password"] = form["password_confirm"] = password or long_password(40)
    return form


def error_beside(page, field: str) -> str:
    """The message tied to ``field`` (its aria-describedby error)."""
    message = page.html.find(id=f"{field}-error")
    assert message is not None, f"no error beside {field}"
    return message.get_text(" ", strip=True)


def logins(app) -> list[str]:
    return with_root(app, lambda root: sorted(root["users"].keys()))


# Item 3: passwords of 73 to 128 characters


@pytest.mark.parametrize("length", [100, 128])
def test_registration_takes_a_long_password(app, maildir, length):
    client = browser(app)
    register(client, password=long_password(length)).submit(status=303)
    assert logins(app) == ["ada"]
    confirm = client.get("/confirm-email").forms["code-form"]
    confirm["code"] = last_code(maildir)
    confirm.submit(status=303)
    client.reset()
    sign_in(client, "ada", long_password(length), status=303)


def test_registration_refuses_129_characters_plainly(app, maildir):
    page = register(browser(app), password=long_password(129)).submit(status=400)
    assert error_beside(page, "password") == TOO_LONG
    assert logins(app) == []
    assert messages(maildir) == []


def change_password(client, new):
    form = client.get("/users/ada/password").forms["password-form"]
    form["current_password"] = long_password(40)
    form["password"] = form["password_confirm"] = new
    return form.submit


@pytest.mark.parametrize("length", [100, 128])
def test_changing_to_a_long_password(app, length):
    add_user(app, "ada", password=long_password(40))
    client = browser(app)
    sign_in(client, "ada", long_password(40), status=303)
    change_password(client, long_password(length))(status=303)
    client.reset()
    sign_in(client, "ada", long_password(length), status=303)


def test_changing_to_129_characters_is_refused(app):
    add_user(app, "ada", password=long_password(40))
    client = browser(app)
    sign_in(client, "ada", long_password(40), status=303)
    page = change_password(client, long_password(129))(status=400)
    assert TOO_LONG in page.text


def test_reset_to_a_long_password(app, maildir):
    add_user(app, "ada", password=long_password(40))
    client = browser(app)
    form = client.get("/reset-password").forms["reset-form"]
    form["login"] = "ada"
    page = form.submit(status=303).follow()
    form = page.forms["new-password-form"]
    form["code"] = last_code(maildir)
    form["password"] = form["password_confirm"] = long_password(128)
    form.submit(status=303)
    sign_in(browser(app), "ada", long_password(128), status=303)


def meter(client, password: str) -> dict:
    token = client.get("/register").forms["register-form"]["csrf_token"].value
    return client.post_json(
        "/password-strength",
        {"password": password, "login": "ada"},
        headers={"X-CSRF-Token": token},
    ).json


@pytest.mark.parametrize("length", [73, 100, 128])
def test_the_meter_scores_a_long_password(app, length):
    found = meter(browser(app), long_password(length))
    assert found["acceptable"] is True
    assert found["score"] >= found["needed"]


def test_the_meter_says_what_is_wrong_with_long_ones(app):
    client = browser(app)
    weak = meter(client, "a" * 100)
    assert weak["acceptable"] is False
    over = meter(client, long_password(129))
    assert (over["acceptable"], over["problems"]) == (False, [TOO_LONG])


# Item 7: one email address, not a list or a name with an address


@pytest.mark.parametrize(
    "address",
    ["a@x.org,postmaster", "x<f@x.org>", "<svg/onload=alert(1)>02ca@x.org"],
)
def test_registration_refuses_anything_but_one_address(app, maildir, address):
    page = register(browser(app), email=address).submit(status=400)
    assert error_beside(page, "email") == ONE_ADDRESS
    assert logins(app) == []
    assert messages(maildir) == []


def test_an_international_domain_is_welcome(app, maildir):
    client = browser(app)
    register(client, email="ada@BÜCHER.example").submit(status=303)
    (mail,) = messages(maildir)
    # Mail goes out with the domain in its ASCII (IDNA) form.
    assert mail["To"].addresses[0].domain == "xn--bcher-kva.example"
    stored = with_root(
        app, lambda root: root["users"]["ada"].email(service(app.registry, IKeyring))
    )
    assert stored == "ada@bücher.example"
    # The account is found by its address, in either form of the domain.
    form = browser(app).get("/reset-password").forms["reset-form"]
    form["login"] = "ada@xn--bcher-kva.example"
    form.submit(status=303)
    assert len(messages(maildir)) == 1  # unconfirmed: no reset mail, same page


# Item 9: look-alike login names


@pytest.mark.parametrize(
    ("existing", "new", "says"),
    [
        ("admin", "аdmin", MIXED),  # U+0430 CYRILLIC SMALL LETTER A
        ("admin", "admіn", MIXED),  # U+0456, the Ukrainian i
        ("victim1", "vıctim1", LOOKS_TAKEN),  # U+0131 LATIN SMALL DOTLESS I
        ("ace", "асе", LOOKS_TAKEN),  # all Cyrillic
    ],
)
def test_registration_refuses_a_look_alike(app, maildir, existing, new, says):
    add_user(app, existing)
    page = register(browser(app), login=new).submit(status=400)
    assert error_beside(page, "login") == says
    assert logins(app) == [existing]
    assert messages(maildir) == []


def test_a_mixed_script_name_is_refused_with_no_look_alike_about(app):
    page = register(browser(app), login="pаypal").submit(status=400)
    assert error_beside(page, "login") == MIXED
    assert logins(app) == []


def test_plain_names_are_still_fine(app):
    add_user(app, "victim1")
    register(browser(app), login="victim2").submit(status=303)
    register(browser(app), login="андрей", email="a@example.org").submit(status=303)
    assert logins(app) == ["victim1", "victim2", "андрей"]


def create_form(admin, login: str):
    form = admin.get("/users/@@create").forms["create-form"]
    form["login"] = login
    form["email"] = f"new{len(login)}@example.org"
    form["reason"] = "Joined the team today"
    return form


@pytest.mark.parametrize(
    ("new", "says"),
    [
        ("vıctim1", LOOKS_TAKEN),
        ("аdmin", MIXED),
    ],
)
def test_the_admin_create_form_refuses_a_look_alike(app, maildir, new, says):
    admin = admin_browser(app, "admin")
    add_user(app, "victim1")
    answer = create_form(admin, new).submit(status=400)
    error = answer.html.find(id="create-login").find_next("p", class_="field-error")
    assert error.get_text(strip=True) == says
    assert logins(app) == ["admin", "victim1"]
    assert messages(maildir) == []


def test_the_import_refuses_look_alikes_of_accounts_and_of_its_own_rows(app, maildir):
    admin = admin_browser(app, "admin")
    add_user(app, "victim1")
    page = admin.get("/users/@@import")
    form = page.forms["import-form"]
    # A look-alike of an account, an account, a look-alike of that row
    # ("rn" reads as "m"), and a name mixing Latin and Cyrillic.
    rows = (
        "login,email\n"
        "v\u0131ctim1,v1@example.org\n"
        "mary,m1@example.org\n"
        "rnary,m2@example.org\n"
        "c\u0430rol,c3@example.org\n"
    )
    form["file"] = ("users.csv", rows.encode("utf-8"), "text/csv")
    form["reason"] = "Moving the team over"
    answer = form.submit(status="*")
    assert answer.status_int in (200, 400)
    text = " ".join(answer.html.get_text().split())
    assert text.count("This login name looks like an existing one.") == 2
    assert "Use letters of one alphabet" in text
    assert logins(app) == ["admin", "mary", "victim1"]
    # A dry run creates nothing, yet still finds the row like an earlier one.
    form = admin.get("/users/@@import").forms["import-form"]
    pair = "login,email\nmia,m3@example.org\nrnia,m4@example.org\n"
    form["file"] = ("users.csv", pair.encode(), "text/csv")
    form["reason"] = "Trying the file first"
    form["dry_run"] = True
    text = " ".join(form.submit(status="*").html.get_text().split())
    assert "The login 'rnia' looks like the one on line 2." in text
    assert logins(app) == ["admin", "mary", "victim1"]
