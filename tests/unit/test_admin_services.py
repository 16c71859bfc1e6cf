"""The admin service: each change, the event it records, and each refusal
(which writes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from tests.accounts import NEW_PASSWORD, PASSWORD, Clock
from tests.conftest import FAST_HASHING
from wingapp.admin import events
from wingapp.admin.services import AdminService, check_reason
from wingapp.interfaces import IClock, IKeyring, IMailer
from wingapp.users.models import User, Users, email_key, mask_email
from wingapp.users.passwords import PasswordHasher
from wingapp.users.services import Refused, create_user
from wingapp.users.sessions import SessionService, Timeouts
from wingapp.users.trust import TrustService

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
REASON = "  Asked by the owner on the phone  "
HASHER = PasswordHasher.from_settings(FAST_HASHING)


class Mailer:
    default_sender = "wingapp <wingapp@example.org>"

    def __init__(self) -> None:
        self.sent: list[Any] = []

    def send(self, message: Any, tm: Any) -> None:
        self.sent.append(message)


class Accounts:
    """The account service's part the admin service uses: it mails a code
    with a link that starts a flow."""

    def __init__(self) -> None:
        self.links: list[tuple[str, str]] = []

    def mail_code_link(self, user: User, purpose: str) -> None:
        self.links.append((user.__name__, purpose))


class Request:
    """What the service needs of a request: its events, and the services
    a mailed notice looks up."""

    def __init__(self, services: dict) -> None:
        self.services = services
        self.events: list[Any] = []
        self.registry = SimpleNamespace(notify=self.events.append)
        self.root = SimpleNamespace()
        self.tm = None

    def find_service(self, iface: Any) -> Any:
        return self.services[iface]

    def public_url(self, *parts: Any, **kw: Any) -> str:
        return "http://example.com/reset-password"


@pytest.fixture
def harness(keyring: Any) -> SimpleNamespace:
    clock = Clock(T0)
    users = Users()
    mailer = Mailer()
    accounts = Accounts()
    sessions = SessionService(keyring, Timeouts(), clock)
    trust = TrustService(keyring, clock, "new_ip_or_device")
    request = Request({IKeyring: keyring, IClock: clock, IMailer: mailer})
    service = AdminService(
        request,
        users=users,
        keyring=keyring,
        sessions=sessions,
        trust=trust,
        hasher=HASHER,
        accounts=accounts,
        mailer=mailer,
        clock=clock,
    )
    h = SimpleNamespace(
        service=service,
        users=users,
        keyring=keyring,
        events=request.events,
        mails=mailer.sent,
        links=accounts.links,
        sessions=sessions,
        trust=trust,
        clock=clock,
    )

    def add(
        login: str, roles=("user",), confirmed=True, email=None, registered=False
    ) -> User:
        """An account; ``registered``, one that registered itself and has a
        day to confirm its address."""
        return create_user(
            users,
            login,
            email or f"{login}@example.org",
            PASSWORD,
            hasher=HASHER,
            keyring=keyring,
            now=clock,
            roles=roles,
            email_confirmed=confirmed and not registered,
            unconfirmed_for=timedelta(hours=24) if registered else None,
        )

    h.add = add
    return h


def only_event(h: SimpleNamespace, kind: type) -> Any:
    (event,) = h.events
    assert type(event) is kind
    assert event.actor == "root"
    assert event.detail["reason"] == REASON.strip()
    return event


def refused(h: SimpleNamespace, call: Any, *args: Any) -> Refused:
    """``call`` is refused, and nothing happened: no event, no mail, no link."""
    with pytest.raises(Refused) as info:
        call(*args)
    assert (h.events, h.mails, h.links) == ([], [], [])
    return info.value


# -- helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ada@example.org", "a•••@example.org"),
        ("x@y.example", "x•••@y.example"),
        (None, None),
    ],
)
def test_addresses_are_masked_in_the_history(address, masked):
    assert mask_email(address) == masked


@pytest.mark.parametrize("reason", ["", "  ab  ", "x" * 201, None])
def test_a_reason_has_3_to_200_characters(reason):
    with pytest.raises(Refused) as info:
        check_reason(reason)
    assert "reason" in info.value.errors
    assert "3 to 200" in info.value.message


def test_a_reason_is_stripped():
    assert check_reason("  ok!  ") == "ok!"
    assert check_reason("x" * 200) == "x" * 200


# -- create ----------------------------------------------------------------


def test_create_user_makes_an_account_without_a_password(harness):
    h = harness
    user = h.service.create_user(
        " Newbie ", "newbie@example.org", ["admin", "user"], REASON, "root"
    )
    assert h.users["newbie"] is user
    assert user.password_hash == ""
    assert not HASHER.verify(user.password_hash, PASSWORD)
    assert user.must_reset is True
    assert user.email_confirmed is False
    assert user.state == "unconfirmed"
    assert user.roles == ("user", "admin")
    assert user.created == T0
    assert user.email(h.keyring) == "newbie@example.org"
    assert (
        h.users.find_by_email(h.keyring.mac("email", email_key("NEWBIE@example.org")))
        is user
    )
    event = only_event(h, events.UserCreated)
    assert event.login == "newbie"
    assert event.detail["before"] == {}
    assert event.detail["after"] == {
        "email": "n•••@example.org",
        "roles": ["user", "admin"],
        "state": "unconfirmed",
    }
    # The new owner sets a password with a mailed code.
    assert h.links == [("newbie", "welcome")]


@pytest.mark.parametrize(
    ("login", "email", "roles", "reason", "field", "says"),
    [
        ("x", "new@example.org", ["user"], REASON, "login", "3 to 32"),
        ("ada", "new@example.org", ["user"], REASON, "login", "“ada” is taken"),
        ("new", "not an address", ["user"], REASON, "email", "name@example.org"),
        ("new", "ADA@example.org", ["user"], REASON, "email", "“ada” has this"),
        (
            "new",
            "new@example.org",
            ["user", "god"],
            REASON,
            "roles",
            "Unknown role: god",
        ),
        ("new", "new@example.org", ["user"], "no", "reason", "3 to 200"),
    ],
)
def test_create_user_refusals(harness, login, email, roles, reason, field, says):
    h = harness
    h.add("ada")
    error = refused(h, h.service.create_user, login, email, roles, reason, "root")
    assert says in error.errors[field]
    assert list(h.users) == ["ada"]


# -- email -----------------------------------------------------------------


def test_set_email_moves_the_account_and_tells_the_old_address(harness):
    h = harness
    ada = h.add("ada", confirmed=False)
    old_index = ada.email_index
    h.service.set_email(ada, " ada@new.example ", REASON, "root")
    assert ada.email(h.keyring) == "ada@new.example"
    assert ada.email_confirmed is True
    assert h.users.find_by_email(ada.email_index) is ada
    assert h.users.find_by_email(old_index) is None
    event = only_event(h, events.EmailSet)
    assert event.detail["before"] == {
        "email": "a•••@example.org",
        "email_confirmed": False,
    }
    assert event.detail["after"] == {
        "email": "a•••@new.example",
        "email_confirmed": True,
    }
    (notice,) = h.mails
    assert notice["To"] == "ada@example.org"
    assert (
        "address of your wingapp account was changed"
        in notice.get_body(("plain",)).get_content()
    )


def test_set_email_of_a_self_registered_account_ends_its_time_to_confirm(harness):
    h = harness
    squatter = h.add("squatter", email="shared@example.org", registered=True)
    h.service.set_email(squatter, "owner@example.org", REASON, "root")
    # The admin vouched for the address: the account stays, and opens.
    assert squatter.state == "active"
    assert squatter.has_expired(T0 + timedelta(days=2)) is False


def test_set_email_of_a_confirmed_account_records_only_the_address(harness):
    h = harness
    ada = h.add("ada")
    h.service.set_email(ada, "ada@new.example", REASON, "root")
    event = only_event(h, events.EmailSet)
    assert event.detail["before"] == {"email": "a•••@example.org"}
    assert event.detail["after"] == {"email": "a•••@new.example"}


def test_set_email_of_an_account_without_one_mails_nobody(harness):
    h = harness
    user = h.users.add_user("quiet", User(T0))
    h.service.set_email(user, "quiet@example.org", REASON, "root")
    assert user.email(h.keyring) == "quiet@example.org"
    assert only_event(h, events.EmailSet).detail["before"] == {
        "email": None,
        "email_confirmed": False,
    }
    assert h.mails == []


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("Ada@Example.org", "the account's address already"),
        ("bob@example.org", "“bob” has this address"),
        ("nope", "name@example.org"),
    ],
)
def test_set_email_refusals(harness, email, says):
    h = harness
    ada, _ = h.add("ada"), h.add("bob")
    token = ada.email_token
    error = refused(h, h.service.set_email, ada, email, REASON, "root")
    assert says in error.errors["email"]
    assert ada.email_token == token


# -- roles -----------------------------------------------------------------


def test_set_roles(harness):
    h = harness
    ada = h.add("ada")
    h.service.set_roles(ada, {"admin", "user"}, REASON, "root")
    assert ada.roles == ("user", "admin")
    event = only_event(h, events.RolesSet)
    assert event.detail["before"] == {"roles": ["user"]}
    assert event.detail["after"] == {"roles": ["user", "admin"]}


def test_an_admin_may_change_their_own_roles_but_keeps_admin(harness):
    h = harness
    root = h.add("root", roles=("user", "admin"))
    error = refused(h, h.service.set_roles, root, ["user"], REASON, "root")
    assert "lock yourself out" in error.message
    assert error.errors == {"roles": "Keep your own admin role."}
    assert root.roles == ("user", "admin")
    h.service.set_roles(root, ["admin"], REASON, "root")
    assert root.roles == ("admin",)


@pytest.mark.parametrize(
    ("roles", "says"),
    [(["user"], "has these roles already"), (["user", "owner"], "Unknown role: owner")],
)
def test_set_roles_refusals(harness, roles, says):
    h = harness
    ada = h.add("ada")
    assert says in refused(h, h.service.set_roles, ada, roles, REASON, "root").message
    assert ada.roles == ("user",)


# -- disable and enable ----------------------------------------------------


def test_disable_ends_every_session(harness):
    h = harness
    ada = h.add("ada")
    h.sessions.start(ada, "192.0.2.1", "A")
    h.sessions.start(ada, "192.0.2.2", "B")
    h.service.disable(ada, REASON, "root")
    assert ada.disabled is True
    assert ada.state == "disabled"
    assert len(ada.sessions) == 0
    event = only_event(h, events.UserDisabled)
    assert event.login == "ada"
    assert event.detail["before"] == {"state": "active", "sessions": 2}
    assert event.detail["after"] == {"state": "disabled", "sessions": 0}


def test_disabling_an_account_without_sessions_records_the_state_only(harness):
    h = harness
    ada = h.add("ada", confirmed=False)
    h.service.disable(ada, REASON, "root")
    event = only_event(h, events.UserDisabled)
    assert event.detail["before"] == {"state": "unconfirmed"}
    assert event.detail["after"] == {"state": "disabled"}


def test_disable_refusals(harness):
    h = harness
    root, ada = h.add("root", roles=("user", "admin")), h.add("ada")
    h.sessions.start(root, None, None)
    error = refused(h, h.service.disable, root, REASON, "root")
    assert "cannot disable your own account" in error.message
    assert (root.disabled, len(root.sessions)) == (False, 1)
    ada.disabled = True
    assert refused(h, h.service.disable, ada, REASON, "root").message == (
        "Already disabled."
    )
    assert refused(h, h.service.disable, root, "", "root").errors["reason"]


def test_enable(harness):
    h = harness
    ada = h.add("ada")
    error = refused(h, h.service.enable, ada, REASON, "root")
    assert error.message == "Already enabled."
    ada.disabled = True
    h.service.enable(ada, REASON, "root")
    assert ada.disabled is False
    event = only_event(h, events.UserEnabled)
    assert event.detail["before"] == {"state": "disabled"}
    assert event.detail["after"] == {"state": "active"}


# -- passwords -------------------------------------------------------------


def test_force_reset_ends_sessions_and_mails_a_code(harness):
    h = harness
    ada = h.add("ada")
    h.sessions.start(ada, None, None)
    password_hash = ada.password_hash
    h.service.force_reset(ada, REASON, "root")
    assert ada.must_reset is True
    assert ada.state == "must-reset"
    assert len(ada.sessions) == 0
    # The hash stays (the sign-in tells a right password from a wrong one,
    # and sends the right one to the reset); it just no longer signs in.
    assert ada.password_hash == password_hash
    event = only_event(h, events.ResetForced)
    assert event.detail["before"] == {"must_reset": False, "sessions": 1}
    assert event.detail["after"] == {"must_reset": True, "sessions": 0}
    assert h.links == [("ada", "forced-reset")]
    h.events.clear()
    h.links.clear()
    error = refused(h, h.service.force_reset, ada, REASON, "root")
    assert "pending already" in error.message


def test_set_password_clears_a_forced_reset(harness):
    h = harness
    ada = h.add("ada")
    ada.must_reset = True
    h.sessions.start(ada, None, None)
    h.clock.advance(hours=1)
    h.service.set_password(ada, NEW_PASSWORD, REASON, "os:operator")
    assert HASHER.verify(ada.password_hash, NEW_PASSWORD)
    assert not HASHER.verify(ada.password_hash, PASSWORD)
    assert (ada.must_reset, len(ada.sessions)) == (False, 0)
    assert ada.password_changed == T0 + timedelta(hours=1)
    (event,) = h.events
    assert type(event) is events.PasswordSet
    assert event.actor == "os:operator"
    assert event.detail["before"] == {
        "password_changed": T0.isoformat(),
        "must_reset": True,
        "sessions": 1,
    }
    assert event.detail["after"] == {
        "password_changed": (T0 + timedelta(hours=1)).isoformat(),
        "must_reset": False,
        "sessions": 0,
    }
    assert NEW_PASSWORD not in repr(event.detail)
    assert ada.password_hash not in repr(event.detail)


def test_set_password_of_an_account_that_never_had_one(harness):
    h = harness
    user = h.users.add_user("fresh", User(T0))
    h.service.set_password(user, NEW_PASSWORD, REASON, "os:operator")
    (event,) = h.events
    assert event.detail["before"] == {"password_changed": None}


def test_set_password_refuses_a_weak_one(harness):
    h = harness
    ada = h.add("ada")
    error = refused(h, h.service.set_password, ada, "short", REASON, "os:op")
    assert "at least 15 characters" in error.errors["password"]
    assert HASHER.verify(ada.password_hash, PASSWORD)


# -- confirmation ----------------------------------------------------------


def test_resend_confirmation(harness):
    h = harness
    ada = h.add("ada", confirmed=False)
    h.service.resend_confirmation(ada, REASON, "root")
    event = only_event(h, events.ConfirmationResent)
    assert (event.detail["before"], event.detail["after"]) == ({}, {})
    assert h.links == [("ada", "confirm")]
    assert ada.email_confirmed is False


def test_mark_confirmed(harness):
    h = harness
    ada = h.add("ada", confirmed=False)
    h.service.mark_confirmed(ada, REASON, "root")
    assert ada.email_confirmed is True
    event = only_event(h, events.MarkedConfirmed)
    assert event.detail["before"] == {"email_confirmed": False}
    assert event.detail["after"] == {"email_confirmed": True}


def test_mark_confirmed_refuses_an_address_another_account_holds(harness):
    h = harness
    # Registered itself with an address it never proved...
    squatter = h.add("squatter", email="shared@example.org", registered=True)
    # ...which its owner then proved.
    h.add("owner", email="shared@example.org")
    error = refused(h, h.service.mark_confirmed, squatter, REASON, "root")
    assert "Another account has confirmed this address" in error.message
    assert squatter.email_confirmed is False


@pytest.mark.parametrize("method", ["resend_confirmation", "mark_confirmed"])
def test_a_confirmed_address_needs_neither(harness, method):
    h = harness
    ada = h.add("ada")
    error = refused(h, getattr(h.service, method), ada, REASON, "root")
    assert error.message == "The address is confirmed already."


# -- sessions and trust ----------------------------------------------------


def test_end_sessions(harness):
    h = harness
    ada = h.add("ada")
    error = refused(h, h.service.end_sessions, ada, REASON, "root")
    assert error.message == "The account has no sessions to end."
    for _ in range(3):
        h.sessions.start(ada, None, None)
    assert h.service.end_sessions(ada, REASON, "root") == 3
    assert len(ada.sessions) == 0
    event = only_event(h, events.SessionsEnded)
    assert event.detail["before"] == {"sessions": 3}
    assert event.detail["after"] == {"sessions": 0}


def test_revoke_trust(harness):
    h = harness
    ada = h.add("ada")
    error = refused(h, h.service.revoke_trust, ada, REASON, "root")
    assert error.message == "The account has no trusted devices or networks."
    h.trust.trust(ada, "device-1", "192.0.2.1", "A")
    h.trust.trust(ada, "device-2", "192.0.2.9", "B")
    assert h.service.revoke_trust(ada, REASON, "root") == 3
    assert (len(ada.trusted_devices), len(ada.trusted_networks)) == (0, 0)
    event = only_event(h, events.TrustCleared)
    assert event.detail["before"] == {"trusted_devices": 2, "trusted_networks": 1}
    assert event.detail["after"] == {"trusted_devices": 0, "trusted_networks": 0}
    assert h.trust.code_reason(ada, "device-1", "192.0.2.1") is not None


# -- delete ----------------------------------------------------------------


def test_delete_removes_the_account_and_frees_its_address(harness):
    h = harness
    ada = h.add("ada", roles=("user", "admin"))
    index = ada.email_index
    h.service.delete(ada, REASON, "root")
    assert "ada" not in h.users
    assert h.users.find_by_email(index) is None
    event = only_event(h, events.UserDeleted)
    assert event.login == "ada"
    assert event.detail["before"] == {
        "email": "a•••@example.org",
        "roles": ["user", "admin"],
        "state": "active",
    }
    assert event.detail["after"] == {}
    # The address is free for a new account.
    h.events.clear()
    h.links.clear()
    h.service.create_user("ada2", "ada@example.org", ["user"], REASON, "root")


def test_an_admin_cannot_delete_themselves(harness):
    h = harness
    root = h.add("root", roles=("user", "admin"))
    error = refused(h, h.service.delete, root, REASON, "root")
    assert "cannot delete your own account" in error.message
    assert h.users["root"] is root


# -- bulk ------------------------------------------------------------------


def test_bulk_changes_each_account_and_skips_the_rest(harness):
    h = harness
    root = h.add("root", roles=("user", "admin"))
    ada, bob, cyd = h.add("ada"), h.add("bob"), h.add("cyd")
    bob.disabled = True
    h.sessions.start(ada, None, None)
    done, skipped = h.service.bulk([ada, bob, root, cyd], "disable", REASON, "root")
    assert done == ["ada", "cyd"]
    assert [login for login, _ in skipped] == ["bob", "root"]
    assert skipped[0][1] == "Already disabled."
    assert "your own account" in skipped[1][1]
    assert (ada.disabled, cyd.disabled, root.disabled) == (True, True, False)
    assert len(ada.sessions) == 0
    # One event per account changed.
    assert [(type(e), e.login) for e in h.events] == [
        (events.UserDisabled, "ada"),
        (events.UserDisabled, "cyd"),
    ]


@pytest.mark.parametrize(
    ("action", "effect"),
    [
        ("enable", lambda u: not u.disabled),
        ("force-reset", lambda u: u.must_reset),
        ("end-sessions", lambda u: len(u.sessions) == 0),
    ],
)
def test_bulk_actions(harness, action, effect):
    h = harness
    ada = h.add("ada")
    ada.disabled = True
    h.sessions.start(ada, None, None)
    done, skipped = h.service.bulk([ada], action, REASON, "root")
    assert (done, skipped) == (["ada"], [])
    assert effect(ada)


def test_bulk_needs_a_reason_before_anything(harness):
    h = harness
    ada = h.add("ada")
    refused(h, h.service.bulk, [ada], "disable", "x", "root")
    assert ada.disabled is False


# -- at the same moment ------------------------------------------------------


@pytest.mark.parametrize("other_sessions", [0, 1, 200])
@pytest.mark.parametrize("first", ["sign-in", "disable"])
def test_a_session_started_while_the_account_is_disabled_does_not_survive(
    harness, tmp_path, first, other_sessions
):
    """What a sign-in writes (a record in the sessions tree) and what
    disabling writes, from the same committed state, committed in either
    order: the account ends disabled with no session."""
    from ZODB import DB
    from ZODB.FileStorage import FileStorage

    from tests.unit.test_concurrency import commit, race

    h = harness
    db = DB(FileStorage(str(tmp_path / "Data.fs")))
    try:

        def setup(root: Any) -> None:
            root["users"] = users = Users()
            ada = h.add("ada")
            h.users.remove("ada")
            users.add_user("ada", ada)
            # None, one, or enough that the tree has several buckets.
            for _ in range(other_sessions):
                h.sessions.start(ada, None, None)

        commit(db, setup)

        def sign_in(root: Any) -> None:
            h.sessions.start(root["users"]["ada"], "192.0.2.1", "Agent")

        def disable(root: Any) -> None:
            h.service.disable(root["users"]["ada"], REASON, "root")

        changes = (sign_in, disable) if first == "sign-in" else (disable, sign_in)
        # Neither writes what the other does: both commit, no conflict.
        race(db, *changes)

        def read(root: Any) -> tuple:
            ada = root["users"]["ada"]
            return ada.disabled, len(ada.sessions)

        assert commit(db, read) == (True, 0)
    finally:
        db.close()
