"""Account operations; they take their collaborators as arguments."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..codes.events import CodeExpired, CodeFailed, CodeSent, CodeVerified
from ..codes.interfaces import ICodeService
from ..codes.mail import code_message
from ..codes.models import PENDING
from ..codes.services import CodeCooldown
from ..events import FailedAttempt
from ..interfaces import IClock, IKeyring, IMailer
from .events import (
    AccountExpired,
    DeviceTrusted,
    EmailChanged,
    EmailChangeFailed,
    EmailClaimRefused,
    EmailConfirmed,
    LockedOut,
    NetworkTrusted,
    NotMe,
    PasswordChanged,
    PasswordChangeFailed,
    PasswordReset,
    PasswordResetRefused,
    Registered,
    RegistrationRefused,
    SessionTimedOut,
    SignedIn,
    SignedOut,
    SignInFailed,
)
from .flow import Flow, clear_flow, load_flow, save_flow
from .identity import device_id, end_session, remember_device, start_session
from .interfaces import (
    IBackoff,
    IPasswordHasher,
    ISessionService,
    ITrustService,
)
from .mail import (
    already_registered_message,
    code_link_message,
    email_changed_message,
    password_changed_message,
)
from .models import (
    LOOKS_TAKEN,
    AccountError,
    EmailTaken,
    StandIn,
    User,
    Users,
    check_email,
    check_login,
    email_key,
    mask_email,
    normalize_email,
    normalize_login,
)
from .passwords import PasswordHasher, password_problems
from .settings import UNCONFIRMED_LIFETIME, UNCONFIRMED_SETTING


def account_problems(
    users: Users, login: str, email: str, password: str
) -> dict[str, str]:
    """What is wrong with each field of a new account, all at once (the
    address's owner is never named: that is not the form's to say)."""
    errors = {}
    try:
        login = check_login(login)
    except AccountError as e:
        errors["login"] = str(e)
    else:
        if login in users:
            errors["login"] = "This login name is taken. Choose another."
        elif users.looks_like(login):
            errors["login"] = LOOKS_TAKEN
    try:
        email = check_email(email)
    except AccountError as e:
        errors["email"] = str(e)
    problems = password_problems(password, user_inputs=(login, email))
    if problems:
        errors["password"] = " ".join(problems)
    return errors


def create_user(
    users: Users,
    login: str,
    email: str,
    password: str,
    *,
    hasher: PasswordHasher,
    keyring: Any,
    now: Callable[[], datetime],
    roles: tuple[str, ...] = ("user",),
    email_confirmed: bool = False,
    unconfirmed_for: timedelta | None = None,
) -> User:
    """Make an account after checking every rule; raise AccountError,
    with every field's problem at once, if any fails. ``unconfirmed_for``
    is given for an account that registers itself: it holds its address
    only once it confirms it, and expires if it does not in that time."""
    errors = account_problems(users, login, email, password)
    if errors:
        raise AccountError(" ".join(errors.values()), errors)
    login = check_login(login)
    user = User(created=now(), roles=roles)
    user.set_roles(roles)
    user.set_email(email, keyring)
    user.email_confirmed = email_confirmed
    user.password_hash = hasher.hash(password)
    user.password_changed = user.created
    if unconfirmed_for is not None:
        user.expires = user.created + unconfirmed_for
    return users.add_user(login, user)


def new_password_problems(user: User, password: str, keyring: Any) -> list[str]:
    """The policy's objections to ``password`` as ``user``'s new one."""
    return password_problems(
        password, user_inputs=(user.__name__, user.email(keyring) or "")
    )


def set_password(
    user: User,
    password: str,
    *,
    hasher: PasswordHasher,
    sessions: Any,
    now: Callable[[], datetime],
) -> int:
    """Store a new password and end every session of the account (the
    caller starts a new one if the person stays signed in); return how
    many ended."""
    user.password_hash = hasher.hash(password)
    user.password_changed = now()
    return sessions.end_all(user)


def may_reset(user: User) -> bool:
    """Whether a reset code may be mailed to ``user``: not when disabled,
    nor to an address nobody proved, unless an administrator or an import
    made the account for the person at that address."""
    return not user.disabled and (user.email_confirmed or user.must_reset)


class Refused(AccountError):
    """A request the account rules refuse: ``message`` for the top of the
    form, ``errors`` for the fields it concerns."""

    def __init__(self, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message, errors)
        self.message = message


REGISTRATION_EXPIRED = (
    "This registration has expired: its address was not confirmed in time. "
    "Register again."
)
CONFIRMED_ELSEWHERE = (
    "Another account confirmed this email address first, so this account "
    "cannot use it. Register again with another address, or sign in to the "
    "account that has it."
)
GENERIC_FAILURE = (
    "Sign-in failed: the login name or password is wrong. Check them and try "
    "again. After several failed attempts, sign-in waits a few minutes before "
    "it accepts even the right password: if you are sure of them, wait a few "
    "minutes."
)

DISABLED = "This account is disabled. Ask an administrator."
MUST_RESET = (
    "A new password must be set for this account before it can be used. We "
    "have mailed a code to its address: enter it here with your new password."
)

# The flows a stranger could start with a stolen password.
DENIABLE = ("sign-in", "reset-password")

CODE_LINKS = {
    # purpose of the mail: (the flow the link starts, the page it opens)
    "welcome": ("reset-password", "new-password"),
    "forced-reset": ("reset-password", "new-password"),
    "confirm": ("confirm-email", "confirm-email"),
}
LINK_NONCE = "link:"
"""How the nonce of a flow started by a mailed link begins. A flow's own
nonce is URL-safe base64, which has no colon, and a flow cookie cannot be
forged, so a flow whose nonce begins so came from a link."""
MAX_LINK_TOKEN = 64


def from_link(flow: Flow) -> bool:
    """Whether ``flow`` was started by a link in a mail, in whatever
    browser opened it, rather than by a password given in this one."""
    return flow.nonce.startswith(LINK_NONCE)


@dataclass
class CodeCheck:
    ok: bool
    message: str = ""
    start_again: bool = False


@dataclass
class SignInStep:
    """What a right password leads to: a finished sign-in (``flow`` None),
    or a flow waiting for an emailed code (its ``view`` asks for it)."""

    user: User
    flow: Flow | None = None
    view: str = ""
    message: str = ""
    """What to tell the person on the page the flow opens."""


class AccountService:
    """What the account views do: they parse a form, call one method here,
    and answer. Refusals raise :class:`Refused` (or ``CodeCooldown``).

    The collaborators come in as arguments; :meth:`factory` finds them for a
    request.
    """

    def __init__(
        self,
        request: Any,
        *,
        users: Users,
        hasher: PasswordHasher,
        keyring: Any,
        sessions: Any,
        trust: Any,
        backoff: Any,
        codes: Any,
        mailer: Any,
        clock: Callable[[], datetime],
        unconfirmed_lifetime: timedelta = UNCONFIRMED_LIFETIME,
    ) -> None:
        self.request = request
        self.unconfirmed_lifetime = unconfirmed_lifetime
        self.users = users
        self.hasher = hasher
        self.keyring = keyring
        self.sessions = sessions
        self.trust = trust
        self.backoff = backoff
        self.codes = codes
        self.mailer = mailer
        self.clock = clock

    @classmethod
    def factory(cls, context: Any, request: Any) -> AccountService:
        find = request.find_service
        return cls(
            request,
            users=request.root["users"],
            hasher=find(IPasswordHasher),
            keyring=find(IKeyring),
            sessions=find(ISessionService),
            trust=find(ITrustService),
            backoff=find(IBackoff),
            codes=find(ICodeService),
            mailer=find(IMailer),
            clock=find(IClock),
            unconfirmed_lifetime=request.registry.settings[UNCONFIRMED_SETTING],
        )

    def notify(self, event_type: Any, user: User | None = None, **kw: Any) -> None:
        login = None if user is None else user.__name__
        self.request.registry.notify(
            event_type(request=self.request, login=login, **kw)
        )

    # -- finding accounts ------------------------------------------------

    def password_matches(self, user: User, password: str) -> bool:
        """Whether ``password`` is ``user``'s. An account without one (made
        by an administrator or an import) matches nothing, in the time a
        wrong password takes."""
        if not user.password_hash:
            self.hasher.verify(self.hasher.dummy_hash(), password)
            return False
        return self.hasher.verify(user.password_hash, password)

    def email_index(self, email: str) -> str:
        return self.keyring.mac("email", email_key(email))

    def find_account(self, name: str) -> User | None:
        """The account a sign-in or reset form names, by login or email;
        None for one that registered and let its time to confirm pass."""
        if "@" in name:
            user = self.users.find_by_email(self.email_index(name))
        else:
            user = self.users.get(normalize_login(name))
        return None if user is None or user.has_expired(self.clock()) else user

    # -- codes -----------------------------------------------------------

    def not_me_url(self, code_id: str) -> str:
        token = self.keyring.mac("not-me", code_id)
        return self.request.public_url("not-me", query={"code": code_id, "t": token})

    def send_code(self, user: User, flow: Flow) -> None:
        """Issue a code for ``flow`` and mail it to ``user`` (for an email
        change, to the new address); raises CodeCooldown when the last one
        is too recent to send another."""
        request = self.request
        code, plain = self.codes.issue(
            flow.kind, user.__name__, flow.binding(self.keyring)
        )
        flow.code_id = code.__name__
        message = self.code_message(
            flow, code, plain, flow.new_email or user.email(self.keyring)
        )
        self.mailer.send(message, request.tm)
        self.notify(CodeSent, user, detail={"purpose": flow.kind})

    def stand_in(self, name: str) -> str:
        """The owner of the codes of a flow no account may finish: a keyed
        hash of the name or address typed, which no login can equal (a
        login has no "~"), the same for the same name."""
        return "~" + self.keyring.mac("stand-in", name.strip().lower())[:32]

    def fail_nobody(self, nobody: StandIn) -> None:
        """Count a failure against a name with no account, as the users
        domain counts an account's: none while it waits, and a lockout
        recorded when the count makes it wait."""
        now = self.clock()
        if self.backoff.wait(nobody, now):
            return
        if self.backoff.fail(nobody, now):
            self.notify(LockedOut)
        nobody.keep()

    def forget_old_failures(self) -> int:
        """Drop the failure counts of names with no account that the
        back-off has forgotten anyway; return how many."""
        tree = self.users.stand_ins
        if tree is None:
            return 0
        cutoff = self.clock() - self.backoff.reset_after
        stale = [key for key, record in tree.items() if record.last <= cutoff]
        for key in stale:
            del tree[key]
        return len(stale)

    def send_stand_in_code(self, flow: Flow, rehearse: bool = True) -> None:
        """What send_code does, for a flow that must not finish: a code is
        issued to ``flow.stand_in``, so that its wrong entries, its expiry
        and the cool-down before another answer exactly as a real one's
        would; but no entry matches it, and nothing is mailed. With
        ``rehearse``, its message is written to disk as if it were sent, so
        that the answer takes as long; without, a notice mailed to the
        address's owner stands for it."""
        code, plain = self.codes.issue(
            flow.kind, flow.stand_in, flow.binding(self.keyring)
        )
        code.digest = ""
        flow.code_id = code.__name__
        if rehearse:
            message = self.code_message(flow, code, plain, "nobody@stand-in.invalid")
            self.mailer.rehearse(message, self.request.tm)

    def code_message(self, flow: Flow, code: Any, plain: str, to: str) -> Any:
        request = self.request
        return code_message(
            to=to,
            code=plain,
            purpose=flow.kind,
            sender=self.mailer.default_sender,
            when=self.clock(),
            ip=request.client_addr or "unknown",
            user_agent=request.user_agent or "unknown",
            deny_url=self.not_me_url(code.__name__) if flow.kind in DENIABLE else None,
            lifetime=code.expires - code.created,
        )

    def start_flow(self, user: User, flow: Flow) -> Flow:
        """Send the code ``flow`` waits for and remember the flow in the
        browser; raises CodeCooldown if one was sent moments ago."""
        self.send_code(user, flow)
        save_flow(self.request, flow)
        return flow

    def check_code(self, user: User | None, flow: Flow, entered: str) -> CodeCheck:
        """The one code check every flow shares: the back-off first, then
        the code; a failure counts towards the back-off. ``user`` is None
        for a flow no account may finish: its stand-in code is checked the
        same way, and never matches."""
        if user is not None and user.disabled:
            # Disabled while the flow was under way: it cannot finish.
            return CodeCheck(
                False, "This code can no longer be used. Start again.", True
            )
        # Nobody's stand-in waits after failures as an account does.
        subject = user or self.users.nobody(flow.stand_in or flow.login)
        if self.backoff.wait(subject, self.clock()):
            return CodeCheck(
                False, "That code was not accepted. Wait a minute and try again."
            )
        owner = flow.stand_in or (user.__name__ if user is not None else "")
        result = self.codes.verify(
            flow.code_id or "",
            flow.kind,
            owner,
            flow.binding(self.keyring),
            entered,
        )
        purpose = {"purpose": flow.kind}
        if result.ok:
            # The back-off's count resets on this event (users.includeme).
            self.notify(CodeVerified, user, detail=purpose)
            return CodeCheck(True)
        failure = CodeExpired if result.reason == "expired" else CodeFailed
        self.notify(failure, user, detail={**purpose, "reason": result.reason})
        if user is None:
            # An account's failure is counted by the users domain's
            # subscriber to the event; nobody's is counted here.
            self.fail_nobody(subject)
        if result.reason == "wrong":
            left = result.attempts_left
            return CodeCheck(
                False,
                f"That code is not right. {left} attempt{'s' if left != 1 else ''} left.",
            )
        if result.reason == "expired":
            return CodeCheck(
                False, "This code has expired. Start again to get a new one.", True
            )
        if result.reason == "too-many-attempts":
            return CodeCheck(
                False,
                "Too many wrong codes: this code is cancelled. Start again.",
                True,
            )
        return CodeCheck(False, "This code can no longer be used. Start again.", True)

    # -- signing in and out ------------------------------------------------

    def sign_in(self, name: str, password: str, next_path: str) -> SignInStep:
        """Check a sign-in form; finish the sign-in, or start the flow for
        the code it still needs. Raises Refused with one message for every
        kind of failure."""
        user = self.find_account(name)
        if user is None:
            # As long as a wrong password takes: timing tells nothing.
            self.hasher.verify(self.hasher.dummy_hash(), password)
            self.fail_nobody(self.users.nobody(self.stand_in(name)))
            self.notify(SignInFailed, detail={"reason": "unknown"})
            raise Refused(GENERIC_FAILURE)
        if self.backoff.wait(user, self.clock()):
            # The password is not checked while the account waits, but a
            # hash is computed all the same: an answer that came at once
            # would say that the name is an account, and that it is locked.
            self.hasher.verify(self.hasher.dummy_hash(), password)
            self.notify(SignInFailed, user, counts=False, detail={"reason": "locked"})
            raise Refused(GENERIC_FAILURE)
        if not self.password_matches(user, password):
            self.notify(SignInFailed, user, detail={"reason": "password"})
            raise Refused(GENERIC_FAILURE)
        # Only whoever knows the password learns that the account is
        # disabled; anyone else got the generic answer above.
        if user.disabled:
            self.notify(SignInFailed, user, counts=False, detail={"reason": "disabled"})
            raise Refused(DISABLED)
        if self.hasher.needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        # A right password does not reset the back-off: wrong codes after
        # it keep counting until a code or the whole sign-in succeeds.
        request = self.request
        if user.must_reset:
            # The password no longer lets anyone in; the reset code, mailed
            # to the account's address, does.
            self.notify(
                SignInFailed, user, counts=False, detail={"reason": "must reset"}
            )
            flow = Flow(kind="reset-password", login=user.__name__)
            return SignInStep(
                user, self.start_flow(user, flow), "new-password", MUST_RESET
            )
        if not user.email_confirmed:
            return self.confirm_at_sign_in(user, next_path)
        why = self.trust.code_reason(user, device_id(request), request.client_addr)
        if why is not None:
            flow = Flow(
                kind="sign-in",
                login=user.__name__,
                next=next_path,
                why=why,
                sent_to=self.masked_address(user),
            )
            return SignInStep(user, self.start_flow(user, flow), "verify")
        self.finish_sign_in(user)
        return SignInStep(user)

    def masked_address(self, user: User) -> str:
        """Where a code to ``user`` goes, as the page asking for it says
        it ("a•••@example.org")."""
        return mask_email(user.email(self.keyring)) or ""

    def confirm_at_sign_in(self, user: User, next_path: str) -> SignInStep:
        """The right password of an account whose address is not confirmed
        yet: on to the page that asks for the code mailed to it."""
        flow = Flow(
            kind="confirm-email",
            login=user.__name__,
            next=next_path,
            sent_to=self.masked_address(user),
        )
        try:
            self.start_flow(user, flow)
        except CodeCooldown:
            # A code went out moments ago (at registration, perhaps in
            # another browser): this browser, which has just proved the
            # password, takes that code over rather than wait for another.
            code = self.codes.adopt(
                user.__name__, flow.kind, flow.binding(self.keyring)
            )
            flow.code_id = code.__name__
            save_flow(self.request, flow)
            return SignInStep(
                user,
                flow,
                "confirm-email",
                "Enter the code we emailed you moments ago.",
            )
        return SignInStep(user, flow, "confirm-email")

    def finish_sign_in(self, user: User) -> None:
        """The last step of every successful sign-in."""
        request = self.request
        start_session(request, user)
        device = device_id(request) or secrets.token_urlsafe(24)
        remember_device(request, device)
        new_device, new_network = self.trust.trust(
            user, device, request.client_addr, request.user_agent
        )
        if new_device:
            self.notify(DeviceTrusted, user)
        if new_network:
            self.notify(NetworkTrusted, user)
        clear_flow(request)
        # The reports count sign-ins from new and from returning browsers.
        self.notify(
            SignedIn, user, detail={"device": "new" if new_device else "returning"}
        )

    def sign_out(self, timed_out: bool) -> None:
        """End this browser's session on the server; record it once."""
        user = end_session(self.request)
        if user is not None:
            self.notify(SessionTimedOut if timed_out else SignedOut, user)

    # -- email change ------------------------------------------------------

    def request_email_change(
        self, user: User, new_email: str, current_password: str
    ) -> Flow:
        """Check the new address and the password, then mail a code to the
        new address (or, if another account has it, a notice to its owner:
        the answer is the same). Returns the flow to remember."""
        try:
            email = check_email(new_email)
        except AccountError as e:
            raise Refused(str(e), {"email": str(e)}) from None
        index = self.email_index(email)
        if index == user.email_index:
            raise Refused("That is your address already.")
        # Re-authentication: whoever sits at a signed-in browser must still
        # know the password to move the account to another address.
        self.check_current_password(user, current_password, EmailChangeFailed)
        flow = Flow(kind="change-email", login=user.__name__, new_email=email)
        if self.users.find_by_email(index) is not None:
            # Issued to the account itself: a change asked again within the
            # minute waits (CodeCooldown), as one to a free address does.
            flow.stand_in = user.__name__
            self.send_stand_in_code(flow, rehearse=False)
            self.mailer.send(
                already_registered_message(self.request, email), self.request.tm
            )
            save_flow(self.request, flow)
            return flow
        return self.start_flow(user, flow)

    def resend_code(self, user: User | None, flow: Flow) -> None:
        """Another code for ``flow`` (raises CodeCooldown when the last went
        out moments ago): to the account's address, or, for a flow no
        account may finish, a stand-in's, which answers the same."""
        if flow.stand_in:
            self.send_stand_in_code(flow)
        elif user is not None:
            self.send_code(user, flow)
        save_flow(self.request, flow)

    def cancel_flow(self, flow: Flow) -> None:
        """Give up a flow: its code can no longer be used."""
        self.codes.cancel(flow.code_id or "")
        clear_flow(self.request)

    def confirm_email_change(self, user: User, flow: Flow, entered: str) -> CodeCheck:
        """Check the code sent to the new address; on success move the
        account there and tell the old address."""
        result = self.check_code(user, flow, entered)
        if not result.ok:
            return result
        new_email = flow.new_email
        if self.users.find_by_email(self.email_index(new_email)) is not None:
            # Another account took the address since the code was sent.
            return CodeCheck(
                False, "Another account uses this address now. Choose another."
            )
        old_email = user.email(self.keyring)
        old_index = user.email_index
        user.set_email(new_email, self.keyring)
        self.users.reindex_email(user, old_index)
        user.email_confirmed = True
        self.mailer.send(
            email_changed_message(self.request, user, old_email), self.request.tm
        )
        self.notify(EmailChanged, user, actor=self.request.signed_in_user.__name__)
        clear_flow(self.request)
        return result

    # -- passwords -------------------------------------------------------

    def check_current_password(
        self, user: User, password: str, failure: type[FailedAttempt]
    ) -> None:
        """Re-authentication before a sensitive change: a wrong password is
        refused beside its field and counts towards the back-off, and while
        the account waits no password is even checked, so that whoever sits
        at a browser left signed in cannot go on guessing here."""
        if self.backoff.wait(user, self.clock()):
            raise Refused(
                "Too many wrong passwords: wait a few minutes and try again.",
                {"current_password": "Wait a few minutes, then enter it again."},
            )
        if not self.password_matches(user, password):
            self.notify(failure, user, detail={"reason": "current password"})
            raise Refused(
                "Your current password is not right.",
                {"current_password": "Not your current password."},
            )

    def check_new_password(self, user: User | None, password: str) -> None:
        problems = (
            password_problems(password)
            if user is None
            else new_password_problems(user, password, self.keyring)
        )
        if problems:
            raise Refused(" ".join(problems), {"password": " ".join(problems)})

    # -- password reset and "not me" ---------------------------------------

    def request_reset(self, name: str) -> None:
        """Mail a reset code if ``name`` is an account that may reset its
        password; remember a flow either way, so the answer looks the same."""
        user = self.find_account(name)
        flow = Flow(kind="reset-password", login="")
        try:
            if user is not None and may_reset(user):
                flow.login = user.__name__
                self.send_code(user, flow)
            else:
                # The same steps for nobody: a code that answers wrong
                # entries and a second request as an account's would.
                flow.stand_in = self.stand_in(name)
                self.send_stand_in_code(flow)
                self.notify(PasswordResetRefused, detail={"reason": "no account"})
        except CodeCooldown:
            flow = load_flow(self.request, "reset-password") or flow
        save_flow(self.request, flow)

    def reset_password(self, flow: Flow, entered: str, password: str) -> CodeCheck:
        """Check the reset code and set the new password; every session of
        the account ends and the owner is told."""
        user = self.users.get(flow.login) if flow.login else None
        if user is not None and not may_reset(user):
            # Disabled since the code was sent.
            return CodeCheck(
                False, "This code can no longer be used. Start again.", True
            )
        # Checked first for every flow, an account's or nobody's: a weak
        # password is refused in the same words, and uses no attempt.
        self.check_new_password(user, password)
        result = self.check_code(user, flow, entered)
        if not result.ok or user is None:
            return result
        ended = set_password(
            user, password, hasher=self.hasher, sessions=self.sessions, now=self.clock
        )
        # The password is the account's own again, and the code that came
        # to its address proved the address (if no other account has it).
        user.must_reset = False
        if not user.email_confirmed:
            user.email_confirmed = self.users.claim_email(user)
        self.mailer.send(
            password_changed_message(self.request, user, reset=True), self.request.tm
        )
        self.notify(PasswordReset, user, detail={"sessions_ended": ended})
        end_session(self.request)
        clear_flow(self.request)
        return result

    def not_me(self, code: Any) -> bool:
        """Someone else asked for ``code``, so someone else knows the
        password: cancel the code, end every session of its account (and
        this browser's), forget its trusted browsers and networks, and let
        the password open nothing until a reset by code has set a new one.
        False, changing nothing, when the link was used already."""
        if code.denied_at is not None:
            return False
        code.denied_at = self.clock()
        self.codes.cancel(code.__name__)
        user = self.users.get(code.owner)
        if user is not None:
            ended = self.sessions.end_all(user)
            self.trust.forget_all(user)
            user.must_reset = True
            self.notify(NotMe, user, detail={"sessions_ended": ended})
        end_session(self.request)
        return True

    def not_me_entry(self, user: User, entry: Any) -> None:
        """The signed-in owner says ``entry`` of their history was not
        them: every other session of the account ends and every trusted
        browser and network is forgotten, so that signing in elsewhere asks
        for a code again. The view then asks for a new password."""
        request = self.request
        ended = self.sessions.end_all(user, keep=request.sign_in.key)
        forgotten = sum(self.trust.forget_all(user))
        self.notify(
            NotMe,
            user,
            actor=user.__name__,
            detail={
                "entry": entry.kind,
                "sessions_ended": ended,
                "trust_forgotten": forgotten,
            },
        )

    # -- codes mailed with a link, for an administrator ---------------------

    def mail_code_link(self, user: User, purpose: str) -> None:
        """Mail ``user`` a code, and a link that starts its flow in whatever
        browser opens it: "welcome" (set the first password of an account
        an administrator made), "forced-reset" (set a new password) or
        "confirm" (confirm the address). An administrator asked for it, so
        no cool-down applies: a code still pending is cancelled instead."""
        kind, view = CODE_LINKS[purpose]
        login = user.__name__
        pending = self.codes.codes.newest_code(login, kind)
        if pending is not None:
            self.codes.cancel(pending.__name__)
        token = secrets.token_urlsafe(24)
        flow = Flow(kind=kind, login=login, nonce=LINK_NONCE + token)
        code, plain = self.codes.issue(kind, login, flow.binding(self.keyring))
        request = self.request
        link = request.public_url(view, query={"code": code.__name__, "n": token})
        message = code_link_message(
            request, user, purpose, plain, link, code.expires - code.created
        )
        self.mailer.send(message, request.tm)
        self.notify(CodeSent, user, detail={"purpose": kind, "link": purpose})

    def open_code_link(self, kind: str, code_id: str, token: str) -> Flow | None:
        """Start, in this browser, the ``kind`` flow a mailed link names;
        None if its code can no longer be used (expired, used, replaced, or
        never sent by a link) or its account can no longer take it."""
        code = self.codes.codes.get(code_id) if code_id else None
        if (
            code is None
            or code.purpose != kind
            or code.status(self.clock()) != PENDING
            or len(token) > MAX_LINK_TOKEN
        ):
            return None
        flow = Flow(
            kind=kind, login=code.owner, code_id=code_id, nonce=LINK_NONCE + token
        )
        user = self.users.get(code.owner)
        if (
            not hmac.compare_digest(flow.binding(self.keyring), code.binding)
            or user is None
            or user.disabled
        ):
            return None
        flow.sent_to = self.masked_address(user)
        save_flow(self.request, flow)
        return flow

    def change_password(self, user: User, current: str, password: str) -> None:
        """Needs the current password; ends every other session, keeps this
        browser signed in under a new session id, and tells the owner."""
        self.check_current_password(user, current, PasswordChangeFailed)
        if password == current:
            message = "That is your current password. Choose a new one."
            raise Refused(message, {"password": message})
        self.check_new_password(user, password)
        ended = set_password(
            user, password, hasher=self.hasher, sessions=self.sessions, now=self.clock
        )
        # A new session id for the one who changed it; every other ends.
        start_session(self.request, user)
        self.mailer.send(
            password_changed_message(self.request, user, reset=False), self.request.tm
        )
        self.notify(PasswordChanged, user, detail={"sessions_ended": ended - 1})

    # -- registration ----------------------------------------------------

    def register(self, login: str, email: str, password: str) -> None:
        """Make an unconfirmed account and mail it a code; for an address
        that has an account, answer the same and tell its owner instead."""
        request = self.request
        # A name whose account let its time to confirm pass is free again.
        stale = self.users.get(normalize_login(login))
        if stale is not None and stale.has_expired(self.clock()):
            self.expire(stale)
        try:
            user = create_user(
                self.users,
                login,
                email,
                password,
                hasher=self.hasher,
                keyring=self.keyring,
                now=self.clock,
                unconfirmed_for=self.unconfirmed_lifetime,
            )
        except EmailTaken:
            self.mailer.send(already_registered_message(request, email), request.tm)
            self.notify(
                RegistrationRefused, detail={"reason": "email already registered"}
            )
            # The same page as for a new address: where the code "went",
            # and a code that answers as that account's would.
            flow = Flow(
                kind="confirm-email",
                login="",
                sent_to=mask_email(normalize_email(email)) or "",
            )
            # A new account has codes of its own, so a stand-in of its own:
            # no earlier registration's code is waited for or cancelled.
            flow.stand_in = self.stand_in(flow.nonce)
            self.send_stand_in_code(flow, rehearse=False)
        except AccountError as e:
            raise Refused(str(e), e.errors) from None
        else:
            self.notify(Registered, user)
            flow = Flow(
                kind="confirm-email",
                login=user.__name__,
                sent_to=self.masked_address(user),
            )
            # A brand-new account has no earlier code, so no cool-down applies.
            self.send_code(user, flow)
        save_flow(request, flow)

    def confirm_email(self, user: User) -> str | None:
        """The code mailed to ``user``'s address came back: the account
        holds the address now. Or why it cannot: its time to confirm has
        passed, or another account confirmed the address first."""
        if user.has_expired(self.clock()):
            return REGISTRATION_EXPIRED
        if not self.users.claim_email(user):
            self.notify(EmailClaimRefused, user)
            return CONFIRMED_ELSEWHERE
        user.email_confirmed = True
        self.notify(EmailConfirmed, user)
        return None

    def expire(self, user: User) -> None:
        """Remove an account whose time to confirm its address has passed."""
        # Written, so that a confirmation committing at the same moment
        # conflicts with the removal instead of confirming an account gone.
        user._p_changed = True
        self.notify(AccountExpired, user)
        self.users.remove(user.__name__)

    def sweep_expired(self, logins: list[str]) -> int:
        """Remove those of ``logins`` whose time to confirm has passed;
        return how many."""
        now = self.clock()
        expired = [
            user
            for user in map(self.users.get, logins)
            if user is not None and user.has_expired(now)
        ]
        for user in expired:
            self.expire(user)
        return len(expired)
