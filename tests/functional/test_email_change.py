"""Changing the email address: password again, then a code to the new address."""

from __future__ import annotations

import pytest

from tests.accounts import (
    PASSWORD,
    add_user,
    body,
    last_code,
    messages,
    service,
    sign_in,
    with_root,
)
from wingapp.interfaces import IKeyring

NEW = "ada.lovelace@example.net"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


@pytest.fixture
def ada(app, testapp, clock):
    add_user(app, "ada")
    sign_in(testapp, "ada", status=303)
    return testapp


def start(testapp, email=NEW, password=PASSWORD, status=303):
    form = testapp.get("/users/ada/email").forms["email-form"]
    form["email"] = email
    form["current_password"] = password
    return form.submit(status=status)


def confirm(testapp, code, status=303):
    form = testapp.get("/users/ada/confirm-email-change").forms["code-form"]
    form["code"] = code
    return form.submit(status=status)


def events(app):
    return with_root(
        app, lambda root: [(e.kind, e.outcome) for e in root.audit.newest(50)][::-1]
    )


def test_change_email_with_a_code_sent_to_the_new_address(app, ada, maildir):
    response = start(ada)
    assert response.location == "http://example.com/users/ada/confirm-email-change"
    page = response.follow()
    assert "We have sent a code to your new address." in page.text
    assert f"Enter the code we have sent to <strong>{NEW}</strong>" in page.text
    assert messages(maildir)[-1]["To"] == NEW
    done = confirm(ada, last_code(maildir))
    assert done.location == "http://example.com/users/ada/"
    assert NEW in done.follow().text
    notice = messages(maildir)[-1]
    assert notice["To"] == "ada@example.org"
    assert "was changed" in body(notice)
    assert ("email-change", "success") in events(app)
    # The index follows: the new address signs in, the old one does not.
    ada.reset()
    sign_in(ada, NEW, status=303)
    ada.reset()
    sign_in(ada, "ada@example.org", status=400)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"password": "not my password at all"}, "Your current password is not right."),
        ({"email": "nonsense"}, "Enter one email address, like"),
        ({"email": "ADA@example.org"}, "That is your address already."),
        ({"email": ""}, "Please correct the marked fields."),
    ],
)
def test_email_change_errors_change_nothing(app, ada, maildir, kw, message):
    assert message in start(ada, status=400, **kw).text
    assert messages(maildir) == []
    assert with_root(
        app, lambda root: root["users"]["ada"].email(service(app.registry, IKeyring))
    ) == ("ada@example.org")


def test_an_address_of_another_account_is_not_revealed(app, ada, maildir):
    add_user(app, "bob", "bob@example.org")
    page = start(ada, email="bob@example.org").follow()
    assert (
        "Enter the code we have sent to <strong>bob@example.org</strong>" in page.text
    )
    notice = messages(maildir)[-1]
    assert notice["To"] == "bob@example.org"
    assert "Code:" not in body(notice)
    assert "That code is not right." in confirm(ada, "123456", status=400).text


def test_a_wrong_code_and_a_code_typo(app, ada, maildir):
    start(ada)
    code = last_code(maildir)
    wrong = "1" * len(code) if code != "1" * len(code) else "2" * len(code)
    assert "attempts left" in confirm(ada, wrong, status=400).text
    assert "digits from the email" in confirm(ada, "abc", status=400).text
    for _ in range(4):
        response = confirm(ada, wrong, status="*")
    assert response.location == "http://example.com/users/ada/email"
    assert "this code is cancelled" in response.follow().text


def test_the_address_taken_meanwhile_is_refused(app, ada, maildir):
    start(ada)
    code = last_code(maildir)
    add_user(app, "carol", NEW)
    assert (
        "Another account uses this address now" in confirm(ada, code, status=400).text
    )


def test_a_second_change_within_a_minute_must_wait(app, ada, maildir):
    start(ada)
    assert "Wait 60 seconds" in start(ada, email="other@example.org", status=400).text


def test_confirm_page_without_a_change_started(app, ada):
    response = ada.get("/users/ada/confirm-email-change", status=303)
    assert response.location == "http://example.com/users/ada/email"
    token = ada.get("/users/ada/").html.body["data-csrf-token"]
    ada.post(
        "/users/ada/confirm-email-change",
        {"csrf_token": token, "code": "1"},
        status=303,
    )
