"""An address nobody confirmed blocks nobody (issue 9, item 5).

Someone may register with another person's address and never confirm it.
The owner can still register with it; whoever confirms first holds it; an
account that registered itself and left its address unconfirmed for
``auth.unconfirmed_lifetime`` (24 hours) opens nothing and is swept away by
``wingapp CONFIG sweep-accounts``. Accounts an administrator or an import
made are never swept.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import webtest
from pyramid.paster import get_app
from ZODB.POSException import ConflictError

from tests.accounts import (
    PASSWORD,
    add_user,
    body,
    browser,
    last_code,
    messages,
    service,
    sign_in,
    with_root,
)
from tests.unit.test_concurrency import commit, race
from tests.unit.test_scripts import run
from wingapp import main
from wingapp.interfaces import IKeyring
from wingapp.users.models import email_key

ADDRESS = "ada@example.org"


@pytest.fixture
def settings(settings):
    return {**settings, "auth.two_step": "never"}


def register(client, login: str, email: str = ADDRESS):
    form = client.get("/register").forms["register-form"]
    form["login"], form["email"] = login, email
    form["password"] = form["password_confirm"] = PASSWORD
    return form.submit(status=303)


def enter_code(client, code: str, status=303):
    form = client.get("/confirm-email").forms["code-form"]
    form["code"] = code
    return form.submit(status=status)


def holder(app, address: str = ADDRESS):
    """The confirmed account the address index names for ``address``."""
    keyring = service(app.registry, IKeyring)

    def find(root):
        users = root["users"]
        login = users.by_email.get(keyring.mac("email", email_key(address)))
        found = users.get(login) if login else None
        return login if found is not None and found.email_confirmed else None

    return with_root(app, find)


def test_the_owner_registers_with_an_address_a_squatter_took(app, clock, maildir):
    register(browser(app), "mallory")
    squatters_code = last_code(maildir)  # it went to the owner's mailbox
    ada = browser(app)
    register(ada, "ada")
    # The owner is sent a code, not told the address has an account.
    mail = messages(maildir)[-1]
    assert mail["To"] == ADDRESS and "Code:" in body(mail)
    done = enter_code(ada, last_code(maildir))
    assert done.location == "http://example.com/users/ada/"
    # The squatter's account can never have the address now.
    assert squatters_code != last_code(maildir)
    assert holder(app) == "ada"
    form = browser(app).get("/reset-password").forms["reset-form"]
    form["login"] = ADDRESS
    form.submit(status=303)
    # A reset by the address reaches the account that holds it.
    assert "reset the password" in body(messages(maildir)[-1])


def test_the_first_to_confirm_holds_the_address(app, clock, maildir):
    first, second = browser(app), browser(app)
    register(first, "abel")
    first_code = last_code(maildir)
    register(second, "cain")
    enter_code(second, last_code(maildir))
    refused = enter_code(first, first_code)
    assert refused.location == "http://example.com/register"
    assert "Another account confirmed this email address first" in refused.follow()
    assert holder(app) == "cain"
    state = with_root(app, lambda root: root["users"]["abel"].email_confirmed)
    assert state is False


def test_an_unconfirmed_account_expires_and_frees_its_name(app, clock, maildir):
    register(browser(app), "mallory")
    clock.advance(hours=24)
    # Its password opens nothing, as for a name with no account.
    refused = sign_in(browser(app), "mallory", status=400)
    assert "Sign-in failed" in refused.text
    # The name is free again: a new registration takes it.
    owner = browser(app)
    register(owner, "mallory")
    enter_code(owner, last_code(maildir))
    kinds = with_root(app, lambda root: [e.kind for e in root.audit.newest(20)])
    assert "account-expired" in kinds


def test_a_code_entered_after_the_time_to_confirm_is_refused(app, clock, maildir):
    register(browser(app), "abel")
    clock.advance(hours=23, minutes=58)
    # Signing in at the last moment sends a new code...
    client = browser(app)
    assert sign_in(client, "abel").location == "http://example.com/confirm-email"
    code = last_code(maildir)
    clock.advance(minutes=3)
    # ...which comes back too late.
    refused = enter_code(client, code)
    assert refused.location == "http://example.com/register"
    assert "This registration has expired" in refused.follow()


def test_a_shorter_time_to_confirm_is_a_setting(settings, maildir):
    app = main({}, **{**settings, "auth.unconfirmed_lifetime": "900"})
    register(browser(app), "abel")
    created, expires = with_root(
        app, lambda root: (root["users"]["abel"].created, root["users"]["abel"].expires)
    )
    assert expires - created == timedelta(seconds=900)
    with pytest.raises(
        SystemExit, match=r"auth\.unconfirmed_lifetime must be from 900"
    ):
        main({}, **{**settings, "auth.unconfirmed_lifetime": "90000"})


def test_sweep_accounts_removes_only_self_registered_unconfirmed_ones(ini_file):
    code, out, _ = run(str(ini_file), "sweep-accounts")
    assert out.endswith("without an account forgotten: 0.\n")  # nothing yet
    app = get_app(str(ini_file))
    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})
    register(client, "stale", "stale@example.org")
    register(client, "fresh", "fresh@example.org")
    add_user(app, "made", confirmed=False)  # by an administrator: spared
    add_user(app, "confirmed")

    # Failures against names with no account are counted, then forgotten
    # once the back-off has (12 hours).
    for name in ("ghost", "spectre"):
        form = client.get("/login").forms["login-form"]
        form["login"], form["password"] = name, "wrong"
        form.submit(status=400)

    def age(root):
        root["users"]["stale"].expires -= timedelta(days=2)
        records = list(root["users"].stand_ins.values())
        assert len(records) == 2
        records[0].last -= timedelta(hours=13)

    with_root(app, age, commit=True)
    app.registry._zodb_databases[""].close()
    code, out, _ = run(str(ini_file), "sweep-accounts")
    assert (code, out) == (
        0,
        "Accounts removed (address never confirmed): 1.\n"
        "Failure counts of names without an account forgotten: 1.\n",
    )
    app = get_app(str(ini_file))
    left = with_root(app, lambda root: sorted(root["users"]))
    assert left == ["confirmed", "fresh", "made"]
    # Only holders of an address are in its index: "fresh" is not yet.
    assert with_root(app, lambda root: len(root["users"].by_email)) == 2
    app.registry._zodb_databases[""].close()


# -- two at once -----------------------------------------------------------


@pytest.fixture
def zodb_uri(tmp_path):
    # Conflicts are detected by a real storage (memory:// resolves none).
    return f"file://{tmp_path}/Data.fs"


def users_of(root):
    return root["wingapp"]["users"]


def claim(login: str):
    return lambda root: users_of(root).claim_email(users_of(root)[login])


def test_two_confirmations_of_one_address_at_once_leave_one_holder(app, maildir):
    register(browser(app), "abel")
    register(browser(app), "cain")
    db = app.registry._zodb_databases[""]
    with pytest.raises(ConflictError):
        race(db, claim("abel"), claim("cain"))
    # The retry sees the first one's holder, and refuses.
    assert commit(db, claim("cain")) is False
    index = with_root(app, lambda root: root["users"]["abel"].email_index)
    assert with_root(app, lambda root: root["users"].by_email.get(index)) == "abel"


def test_a_sweep_and_a_confirmation_at_once_do_not_both_commit(app, clock):
    register(browser(app), "abel")
    clock.advance(hours=24)

    def sweep(root):  # as AccountService.expire
        users = users_of(root)
        users["abel"]._p_changed = True
        users.remove("abel")

    def confirm(root):
        claim("abel")(root)
        users_of(root)["abel"].email_confirmed = True

    with pytest.raises(ConflictError):
        race(app.registry._zodb_databases[""], sweep, confirm)
    assert with_root(app, lambda root: "abel" in root["users"]) is False
