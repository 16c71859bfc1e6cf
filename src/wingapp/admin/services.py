"""What administrators do to accounts (:class:`IAdminService`).

Every change checks everything first and only then writes, so a refused
change writes nothing; then it records one admin event, with the reason
and the fields before and after (an address masked, never a secret).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..interfaces import IClock, IKeyring, IMailer
from ..users.interfaces import (
    IAccountService,
    IPasswordHasher,
    ISessionService,
    ITrustService,
)
from ..users.mail import email_changed_message
from ..users.models import (
    LOOKS_TAKEN,
    ROLES,
    AccountError,
    User,
    Users,
    check_email,
    check_login,
    email_key,
    mask_email,
)
from ..users.services import Refused, new_password_problems
from .events import (
    ConfirmationResent,
    EmailSet,
    MarkedConfirmed,
    PasswordSet,
    ResetForced,
    RolesSet,
    SessionsEnded,
    TrustCleared,
    UserCreated,
    UserDeleted,
    UserDisabled,
    UserEnabled,
)

REASON_LENGTH = (3, 200)
REASON_MESSAGE = (
    "Give a reason of 3 to 200 characters: it goes into the account's history."
)


def check_reason(reason: str) -> str:
    reason = (reason or "").strip()
    low, high = REASON_LENGTH
    if not low <= len(reason) <= high:
        raise Refused(REASON_MESSAGE, {"reason": REASON_MESSAGE})
    return reason


def check_roles(roles: Any) -> tuple[str, ...]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        message = f"Unknown role: {', '.join(unknown)}. Choose from {', '.join(ROLES)}."
        raise Refused(message, {"roles": message})
    # In the one order ROLES gives, so that equal sets compare equal.
    return tuple(r for r in ROLES if r in roles)


class AdminService:
    """The admin views and console commands call one method here each.

    The collaborators come in as arguments; :meth:`factory` finds them for
    a request. ``accounts`` is the account service, which mails one-time
    codes with a link that starts their flow.
    """

    def __init__(
        self,
        request: Any,
        *,
        users: Users,
        keyring: Any,
        sessions: Any,
        trust: Any,
        hasher: Any,
        accounts: Any,
        mailer: Any,
        clock: Callable[[], datetime],
    ) -> None:
        self.request = request
        self.users = users
        self.keyring = keyring
        self.sessions = sessions
        self.trust = trust
        self.hasher = hasher
        self.accounts = accounts
        self.mailer = mailer
        self.clock = clock

    @classmethod
    def factory(cls, context: Any, request: Any) -> AdminService:
        find = request.find_service
        return cls(
            request,
            users=request.root["users"],
            keyring=find(IKeyring),
            sessions=find(ISessionService),
            trust=find(ITrustService),
            hasher=find(IPasswordHasher),
            accounts=find(IAccountService),
            mailer=find(IMailer),
            clock=find(IClock),
        )

    # -- helpers ---------------------------------------------------------

    def record(
        self,
        event_type: Any,
        login: str,
        actor: str,
        reason: str,
        before: dict | None = None,
        after: dict | None = None,
    ) -> None:
        before, after = before or {}, after or {}
        # Only what changed: a field equal on both sides says nothing.
        same = {k for k in before.keys() & after.keys() if before[k] == after[k]}
        detail = {
            "reason": reason,
            "before": {k: v for k, v in before.items() if k not in same},
            "after": {k: v for k, v in after.items() if k not in same},
        }
        self.request.registry.notify(
            event_type(request=self.request, login=login, actor=actor, detail=detail)
        )

    def check_email_free(self, email: str, user: User | None = None) -> tuple[str, str]:
        """The address, normalised, and its index; refused if another
        account has it. An admin may be told which account: they can see
        every account anyway."""
        try:
            email = check_email(email)
        except AccountError as e:
            raise Refused(str(e), {"email": str(e)}) from None
        index = self.keyring.mac("email", email_key(email))
        owner = self.users.find_by_email(index)
        if owner is not None and owner is not user:
            message = f"The account “{owner.__name__}” has this address already."
            raise Refused(message, {"email": message})
        return email, index

    @staticmethod
    def refuse_self(user: User, actor: str, what: str) -> None:
        if user.__name__ == actor:
            raise Refused(
                f"You cannot {what} your own account: you would lock yourself out. "
                "Ask another administrator."
            )

    # -- the changes -------------------------------------------------------

    def create_user(
        self, login: str, email: str, roles: Any, reason: str, actor: str
    ) -> User:
        reason = check_reason(reason)
        try:
            login = check_login(login)
        except AccountError as e:
            raise Refused(str(e), {"login": str(e)}) from None
        if login in self.users:
            message = f"The login name “{login}” is taken. Choose another."
            raise Refused(message, {"login": message})
        if self.users.looks_like(login):
            raise Refused(LOOKS_TAKEN, {"login": LOOKS_TAKEN})
        email, _ = self.check_email_free(email)
        roles = check_roles(roles)
        # No password: the owner sets one with the code mailed below, so no
        # admin ever knows it; until then the account can only be entered
        # through that reset.
        user = User(created=self.clock(), roles=roles)
        user.set_email(email, self.keyring)
        user.must_reset = True
        self.users.add_user(login, user)
        self.record(
            UserCreated,
            login,
            actor,
            reason,
            after={
                "email": mask_email(email),
                "roles": list(roles),
                "state": user.state,
            },
        )
        self.accounts.mail_code_link(user, "welcome")
        return user

    def set_email(self, user: User, email: str, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        email, index = self.check_email_free(email, user)
        if index == user.email_index:
            message = "This is the account's address already."
            raise Refused(message, {"email": message})
        old_email, old_index = user.email(self.keyring), user.email_index
        before = {
            "email": mask_email(old_email),
            "email_confirmed": user.email_confirmed,
        }
        user.set_email(email, self.keyring)
        self.users.reindex_email(user, old_index)
        # The admin vouches for the new address.
        user.email_confirmed = True
        after = {"email": mask_email(email), "email_confirmed": True}
        self.record(EmailSet, user.__name__, actor, reason, before, after)
        # The old address learns that mail goes elsewhere now, as after the
        # owner's own change: if the owner did not ask, they can say so.
        if old_email is not None:
            self.mailer.send(
                email_changed_message(self.request, user, old_email), self.request.tm
            )

    def set_roles(self, user: User, roles: Any, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        roles = check_roles(roles)
        if roles == user.roles:
            raise Refused("The account has these roles already.")
        if user.__name__ == actor and "admin" in user.roles and "admin" not in roles:
            raise Refused(
                "You cannot remove your own admin role: you would lock yourself "
                "out. Ask another administrator.",
                {"roles": "Keep your own admin role."},
            )
        before = {"roles": list(user.roles)}
        user.set_roles(roles)
        self.record(
            RolesSet, user.__name__, actor, reason, before, {"roles": list(roles)}
        )

    def disable(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        if user.disabled:
            raise Refused("Already disabled.")
        self.refuse_self(user, actor, "disable")
        state = user.state
        user.disabled = True
        ended = self.sessions.end_all(user)
        self.record(
            UserDisabled,
            user.__name__,
            actor,
            reason,
            {"state": state, "sessions": ended},
            {"state": user.state, "sessions": 0},
        )

    def enable(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        if not user.disabled:
            raise Refused("Already enabled.")
        user.disabled = False
        self.record(
            UserEnabled,
            user.__name__,
            actor,
            reason,
            {"state": "disabled"},
            {"state": user.state},
        )

    def force_reset(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        if user.must_reset:
            raise Refused(
                "A password reset is pending already: the account's owner can "
                "ask for a new code from the sign-in page."
            )
        user.must_reset = True
        ended = self.sessions.end_all(user)
        self.record(
            ResetForced,
            user.__name__,
            actor,
            reason,
            {"must_reset": False, "sessions": ended},
            {"must_reset": True, "sessions": 0},
        )
        self.accounts.mail_code_link(user, "forced-reset")

    def set_password(self, user: User, password: str, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        problems = new_password_problems(user, password, self.keyring)
        if problems:
            message = " ".join(problems)
            raise Refused(message, {"password": message})
        before = {
            "password_changed": _iso(user.password_changed),
            "must_reset": user.must_reset,
        }
        user.password_hash = self.hasher.hash(password)
        user.password_changed = self.clock()
        user.must_reset = False
        before["sessions"] = self.sessions.end_all(user)
        after = {
            "password_changed": _iso(user.password_changed),
            "must_reset": False,
            "sessions": 0,
        }
        self.record(PasswordSet, user.__name__, actor, reason, before, after)

    def resend_confirmation(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        if user.email_confirmed:
            raise Refused("The address is confirmed already.")
        self.record(ConfirmationResent, user.__name__, actor, reason)
        self.accounts.mail_code_link(user, "confirm")

    def mark_confirmed(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        if user.email_confirmed:
            raise Refused("The address is confirmed already.")
        if not self.users.claim_email(user):
            raise Refused(
                "Another account has confirmed this address: this one cannot "
                "have it. Give it another address first."
            )
        user.email_confirmed = True
        self.record(
            MarkedConfirmed,
            user.__name__,
            actor,
            reason,
            {"email_confirmed": False},
            {"email_confirmed": True},
        )

    def end_sessions(self, user: User, reason: str, actor: str) -> int:
        reason = check_reason(reason)
        if not len(user.sessions):
            raise Refused("The account has no sessions to end.")
        ended = self.sessions.end_all(user)
        self.record(
            SessionsEnded,
            user.__name__,
            actor,
            reason,
            {"sessions": ended},
            {"sessions": 0},
        )
        return ended

    def revoke_trust(self, user: User, reason: str, actor: str) -> int:
        reason = check_reason(reason)
        if not len(user.trusted_devices) and not len(user.trusted_networks):
            raise Refused("The account has no trusted devices or networks.")
        devices, networks = self.trust.forget_all(user)
        self.record(
            TrustCleared,
            user.__name__,
            actor,
            reason,
            {"trusted_devices": devices, "trusted_networks": networks},
            {"trusted_devices": 0, "trusted_networks": 0},
        )
        return devices + networks

    def delete(self, user: User, reason: str, actor: str) -> None:
        reason = check_reason(reason)
        self.refuse_self(user, actor, "delete")
        login = user.__name__
        before = {
            "email": mask_email(user.email(self.keyring)),
            "roles": list(user.roles),
            "state": user.state,
        }
        # Its codes stay behind: they expire on their own, and nothing
        # redeems a code for an account that is not there.
        self.users.remove(login)
        self.record(UserDeleted, login, actor, reason, before, {})

    def bulk(
        self, users: list[User], action: str, reason: str, actor: str
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """Apply ``action`` (a key of :data:`BULK_METHODS`) to each of
        ``users``: one change, and one event, per account. Return the
        logins changed, and those skipped with why (nothing to change, or
        the acting admin's own account)."""
        check_reason(reason)
        method = getattr(self, BULK_METHODS[action])
        done: list[str] = []
        skipped: list[tuple[str, str]] = []
        for user in users:
            try:
                method(user, reason, actor)
            except Refused as e:
                skipped.append((user.__name__, e.message))
            else:
                done.append(user.__name__)
        return done, skipped


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


BULK_METHODS = {
    "disable": "disable",
    "enable": "enable",
    "force-reset": "force_reset",
    "end-sessions": "end_sessions",
}
"""What each bulk action of the listing calls, per account."""
