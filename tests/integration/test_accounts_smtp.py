"""The account flows end to end, with every code travelling through a real
SMTP server (aiosmtpd) after the request's transaction commits."""

from __future__ import annotations

import re
import time

import pytest
from pyramid.config import Configurator

from tests import accounts
from tests.accounts import PASSWORD, Clock, add_user, service, with_root
from tests.conftest import use_service
from wingapp import main
from wingapp.interfaces import IClock, IMailer, IRoot
from wingapp.users.flow import Flow
from wingapp.users.interfaces import IAccountService

from . import smtp

pytestmark = pytest.mark.integration

smtp_server = smtp.smtp_server

CODE = re.compile(r"^Code: (\d{6,12})\r?$", re.MULTILINE)
HOME = "192.0.2.10"
AWAY = "203.0.113.5"


@pytest.fixture
def app(tmp_path, file_settings, smtp_server):
    settings = {
        **file_settings,
        "mail.transport": "smtp",
        "mail.queue_dir": str(tmp_path / "queue"),
        "mail.host": smtp_server.host,
        "mail.port": str(smtp_server.port),
        "mail.timeout": "5",
        "mail.retry_interval": "0.2",
    }
    app = main({}, **settings)
    use_service(app.registry, Clock(), IClock)
    yield app
    service(app.registry, IMailer).sender.stop()
    app.registry._zodb_databases[""].close()


def browser(app, ip=HOME):
    return accounts.browser(app, ip, "Browser/1")


def next_mail(server, count):
    """The ``count``-th message the server has received, waiting for it."""
    return server.wait_for(count)[count - 1].message


def code_in(message):
    return CODE.search(message.get_body(("plain",)).get_content()).group(1)


def sign_in(testapp, password=PASSWORD):
    form = testapp.get("/login").forms["login-form"]
    form["login"], form["password"] = "ada", password
    return form.submit()


def enter(testapp, path, code, status=303):
    form = testapp.get(path).forms["code-form"]
    form["code"] = code
    return form.submit(status=status)


def test_register_receive_the_code_and_confirm(app, smtp_server):
    testapp = browser(app)
    form = testapp.get("/register").forms["register-form"]
    form["login"], form["email"] = "ada", "ada@example.org"
    form["password"] = form["password_confirm"] = PASSWORD
    assert form.submit(status=303).location == "http://example.com/confirm-email"
    message = next_mail(smtp_server, 1)
    assert smtp_server.received[0].recipients == ["ada@example.org"]
    assert message["Subject"]
    done = enter(testapp, "/confirm-email", code_in(message))
    assert done.location == "http://example.com/users/ada/"
    assert with_root(app, lambda root: root["users"]["ada"].email_confirmed)


def test_a_new_place_gets_a_code_then_is_trusted(app, smtp_server):
    add_user(app, "ada")
    ada = browser(app)
    assert sign_in(ada).location == "http://example.com/verify"
    message = next_mail(smtp_server, 1)
    text = message.get_body(("plain",)).get_content()
    assert HOME in text and "Browser/1" in text
    assert enter(ada, "/verify", code_in(message)).location.endswith("/users/ada/")
    ada.get("/users/ada/").forms["signout-form"].submit()
    # Same browser, same network: straight in, and no mail.
    assert sign_in(ada).location.endswith("/users/ada/")
    time.sleep(0.5)
    assert len(smtp_server.received) == 1


def test_five_wrong_codes_cancel_it(app, smtp_server):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada)
    code = code_in(next_mail(smtp_server, 1))
    wrong = "9" * len(code) if code != "9" * len(code) else "8" * len(code)
    for _ in range(4):
        enter(ada, "/verify", wrong, status=400)
    assert enter(ada, "/verify", wrong).location == "http://example.com/login"
    assert with_root(app, lambda root: [c.state for c in root["codes"].values()]) == [
        "cancelled"
    ]


def test_an_expired_code_is_refused(app, smtp_server):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada)
    code = code_in(next_mail(smtp_server, 1))
    service(app.registry, IClock).advance(minutes=10)
    refused = enter(ada, "/verify", code)
    assert refused.location == "http://example.com/login"
    assert "This code has expired" in refused.follow().text


def test_an_aborted_request_sends_no_mail(app, smtp_server):
    add_user(app, "ada")

    def send_then_fail(context, request):
        user = context["users"]["ada"]
        accounts = request.find_service(IAccountService)
        accounts.send_code(user, Flow(kind="sign-in", login="ada"))
        raise RuntimeError("the request fails after queueing the mail")

    config = Configurator(registry=app.registry)
    config.add_view(
        send_then_fail, context=IRoot, name="send-then-fail", permission="view"
    )
    config.commit()
    testapp = browser(app)
    testapp.get("/send-then-fail", status=500)
    # No code exists (the transaction aborted) and none is sent.
    assert with_root(app, lambda root: len(root["codes"])) == 0
    # A request that commits afterwards gets through at once: the first
    # message the server sees is that one.
    sign_in(testapp)
    message = next_mail(smtp_server, 1)
    time.sleep(0.5)
    assert len(smtp_server.received) == 1
    assert with_root(app, lambda root: len(root["codes"])) == 1
    assert code_in(message)


def test_this_wasnt_me_ends_the_sessions(app, smtp_server):
    add_user(app, "ada")
    ada = browser(app)
    sign_in(ada)
    enter(ada, "/verify", code_in(next_mail(smtp_server, 1)))
    intruder = browser(app, ip=AWAY)
    sign_in(intruder)
    text = next_mail(smtp_server, 2).get_body(("plain",)).get_content()
    link = re.search(r"http://example\.com(/not-me\?\S+)", text).group(1)
    page = browser(app).get(link)
    assert page.forms["not-me-form"].submit().location.endswith("/reset-password")
    assert ada.get("/users/ada/", status=303).location.startswith(
        "http://example.com/login"
    )
    assert with_root(app, lambda root: len(root["users"]["ada"].sessions)) == 0
