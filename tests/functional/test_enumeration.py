"""No answer tells whether an account exists (issue 9, item 2).

Each test walks the same steps twice, once for an account and once for a
name or address that has none (or may not use the step), and compares what
a visitor sees at each step: the status, where a redirect goes, and the
page with its one-time values (CSRF tokens) taken out. The timings these
same steps take are measured by bench/enumeration.py.
"""

from __future__ import annotations

import re

import pytest

from tests.accounts import PASSWORD, add_user, browser, messages, service, sign_in
from tests.functional.test_two_step import OTHER_IP
from wingapp.users.interfaces import IPasswordHasher

ONE_TIME = re.compile(
    r'(name="csrf_token" value=|name="csrf-token" content=|data-csrf-token=)"[^"]*"'
)
WEAK = "password"
STRONG = "a different violet harbour lantern"


def seen(response) -> tuple:
    """What a visitor sees of an answer, without its one-time values."""
    text = ONE_TIME.sub(r"\1", response.text)
    return response.status_int, response.headers.get("Location"), text


def field_error(text: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"[^>]*>([^<]*)<', text)
    return found.group(1) if found else ""


def code_form(client, path):
    return client.get(path).forms["code-form"]


# -- password reset --------------------------------------------------------


def reset_steps(app, clock, name: str) -> list:
    client = browser(app)
    steps = []
    form = client.get("/reset-password").forms["reset-form"]
    form["login"] = name
    steps.append(seen(form.submit()))
    # A weak new password with a wrong code: refused for the password, and
    # no attempt used (the next answers still count down from 4).
    page = client.get("/new-password")
    steps.append(seen(page))
    form = page.forms["new-password-form"]
    form["code"], form["password"], form["password_confirm"] = "123456", WEAK, WEAK
    steps.append(seen(form.submit(status=400)))
    # A second request within the minute: the same answer, the same flow.
    form = client.get("/reset-password").forms["reset-form"]
    form["login"] = name
    steps.append(seen(form.submit()))
    for _ in range(5):
        form = client.get("/new-password").forms["new-password-form"]
        form["code"] = "000000"
        form["password"] = form["password_confirm"] = STRONG
        steps.append(seen(form.submit(status="*")))
    # Five failures: a new code at once, but the name must wait (an
    # account's back-off, or nobody's stand-in's).
    form = client.get("/reset-password").forms["reset-form"]
    form["login"] = name
    steps.append(seen(form.submit()))
    form = client.get("/new-password").forms["new-password-form"]
    form["code"] = "000000"
    form["password"] = form["password_confirm"] = STRONG
    steps.append(seen(form.submit(status="*")))
    # After the wait, the code is checked again.
    clock.advance(seconds=61)
    form = client.get("/new-password").forms["new-password-form"]
    form["code"] = "000000"
    form["password"] = form["password_confirm"] = STRONG
    steps.append(seen(form.submit(status="*")))
    clock.advance(hours=13)  # the next name starts afresh
    return steps


def test_a_reset_answers_alike_for_an_account_and_for_nobody(app, clock, maildir):
    add_user(app, "ada")
    add_user(app, "eve", confirmed=False)  # may not reset: address unproved
    ada = reset_steps(app, clock, "ada")
    mailed = len(messages(maildir))
    assert mailed == 2  # the code, and the one after the cool-down
    nobody = reset_steps(app, clock, "nobody")
    unconfirmed = reset_steps(app, clock, "eve")
    by_address = reset_steps(app, clock, "ghost@example.org")
    assert len(messages(maildir)) == mailed  # nothing went to anyone
    assert ada == nobody == unconfirmed == by_address
    # And the answers say what an owner needs.
    texts = [text for _, _, text in ada]
    assert "at least 15 characters" in field_error(texts[2], "password")
    assert "That code is not right. 4 attempts left." in texts[4]
    assert "That code is not right. 1 attempt left." in texts[7]
    assert ada[8][:2] == (303, "http://example.com/reset-password")
    assert "not accepted. Wait a minute" in texts[10]
    assert "That code is not right. 4 attempts left." in texts[11]


def test_failed_sign_ins_make_a_name_wait_whether_it_has_an_account_or_not(app, clock):
    add_user(app, "ada")
    answers = []
    for name in ("ada", "nobody"):
        client = browser(app)
        # The sixth comes while the name waits, and counts no more.
        for _ in range(6):
            sign_in(client, name, "not the password at all", status=400)
        form = client.get("/reset-password").forms["reset-form"]
        form["login"] = name
        form.submit(status=303)
        form = client.get("/new-password").forms["new-password-form"]
        form["code"] = "000000"
        form["password"] = form["password_confirm"] = STRONG
        answers.append(seen(form.submit(status=400)))
    assert answers[0] == answers[1]
    assert "not accepted. Wait a minute" in answers[0][2]


# -- registration with an address that has an account -----------------------


def register(client, login: str, email: str):
    form = client.get("/register").forms["register-form"]
    form["login"], form["email"] = login, email
    form["password"] = form["password_confirm"] = PASSWORD
    return form.submit()


def confirm_steps(app, clock, login: str, email: str) -> list:
    client = browser(app)
    steps = [seen(register(client, login, email))]
    steps.append(seen(client.get("/confirm-email")))
    form = code_form(client, "/confirm-email")
    form["code"] = "000000"
    steps.append(seen(form.submit(status=400)))
    # "Send me a new code" at once: the minute has not passed.
    steps.append(
        seen(client.get("/confirm-email").forms["resend-form"].submit(status="*"))
    )
    clock.advance(seconds=61)
    steps.append(
        seen(client.get("/confirm-email").forms["resend-form"].submit(status="*"))
    )
    form = code_form(client, "/confirm-email")
    form["code"] = "000000"
    steps.append(seen(form.submit(status=400)))
    return steps


def test_registering_a_taken_address_answers_as_a_new_one_does(app, clock, maildir):
    add_user(app, "ada", "ada@example.org")
    taken = confirm_steps(app, clock, "mallory", "ada@example.org")
    new = confirm_steps(app, clock, "abel", "abe@example.org")
    assert taken == new
    texts = [text for _, _, text in taken]
    assert "That code is not right. 4 attempts left." in texts[2]
    assert taken[3][0] == 429 and "Wait" in texts[3]
    assert taken[4][0] == 303
    # The resent code replaced the first: the count starts again.
    assert "That code is not right. 4 attempts left." in texts[5]
    # The owner was told someone tried, once; the new address got codes.
    to = [m["To"] for m in messages(maildir)]
    assert to.count("ada@example.org") == 1
    assert to.count("abe@example.org") == 2


# -- changing to an address another account has ----------------------------


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def change_steps(app, clock, login: str, email: str) -> list:
    add_user(app, login)
    client = browser(app)
    sign_in(client, login, status=303)
    form = client.get(f"/users/{login}/email").forms["email-form"]
    form["email"], form["current_password"] = email, PASSWORD
    answer = form.submit()
    steps = [(answer.status_int, answer.location.replace(login, "*"))]
    path = f"/users/{login}/confirm-email-change"
    form = code_form(client, path)
    form["code"] = "000000"
    steps.append(form.submit(status=400).status_int)
    steps.append(client.get(path).forms["resend-form"].submit(status="*").status_int)
    form = code_form(client, path)
    form["code"] = "000000"
    steps.append(form.submit(status=400).html.select_one("#code-error").text)
    return steps


def test_changing_to_a_taken_address_answers_as_a_free_one_does(app, clock):
    add_user(app, "owner", "taken@example.org")
    taken = change_steps(app, clock, "ada", "taken@example.org")
    free = change_steps(app, clock, "bob", "free@example.org")
    assert taken == free
    assert taken[2] == 429
    assert taken[3] == "That code is not right. 3 attempts left."


# -- sign-in ---------------------------------------------------------------


def test_a_locked_account_costs_a_hash_as_an_unknown_name_does(app, monkeypatch):
    add_user(app, "ada")
    hasher = service(app.registry, IPasswordHasher)
    verify = hasher.verify
    hashed = []

    def counting(stored, password):
        hashed.append(password)
        return verify(stored, password)

    monkeypatch.setattr(hasher, "verify", counting)
    client = browser(app, ip=OTHER_IP)
    for _ in range(5):
        sign_in(client, "ada", "wrong password here", status=400)
    hashed.clear()
    locked = sign_in(client, "ada", PASSWORD, status=400)
    unknown = sign_in(client, "nobody", PASSWORD, status=400)
    # One hash each: the locked account's answer takes as long.
    assert hashed == [PASSWORD, PASSWORD]
    # The same page, but for the name it gives back in its field.
    assert seen(locked)[2].replace('value="ada"', "") == seen(unknown)[2].replace(
        'value="nobody"', ""
    )
