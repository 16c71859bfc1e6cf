"""What happens to accounts: one event class, and one interface, per kind.

The event log records them all (they are :class:`RecordedEvent`); the
back-off counts the :class:`FailedAttempt` among them; the reports will
count them by kind. Subscribe to an interface to hear one kind only.
"""

from __future__ import annotations

from typing import ClassVar

from zope.interface import implementer

from ..events import (
    FAILURE,
    FailedAttempt,
    IFailedAttempt,
    IRecordedEvent,
    RecordedEvent,
)


class IRegistered(IRecordedEvent):
    """A new account was made (it still has to confirm its address)."""


class IRegistrationRefused(IRecordedEvent):
    """A registration named an address that has an account already."""


class IEmailConfirmed(IRecordedEvent):
    """An account proved its address with a code."""


class ISignedIn(IRecordedEvent):
    """A sign-in completed: a new session started."""


class ISignInFailed(IFailedAttempt):
    """A sign-in was refused (unknown name, wrong password, or waiting)."""


class ILockedOut(IRecordedEvent):
    """An account's failures made it wait before the next try."""


class ISignedOut(IRecordedEvent):
    """A session was ended by its owner signing out."""


class ISessionTimedOut(IRecordedEvent):
    """A session ended because it was idle, or too old, for too long."""


class ISessionEnded(IRecordedEvent):
    """A user ended one of their sessions from their page."""


class IPasswordChanged(IRecordedEvent):
    """A signed-in user changed their password."""


class IPasswordChangeFailed(IFailedAttempt):
    """A password change gave the wrong current password."""


class IPasswordReset(IRecordedEvent):
    """A password was set through an emailed reset code."""


class IEmailClaimRefused(IRecordedEvent):
    """A right code came back, but another account had confirmed the
    address first."""


class IAccountExpired(IRecordedEvent):
    """An account that registered itself never confirmed its address in
    time, and was removed."""


class IPasswordResetRefused(IRecordedEvent):
    """A reset asked for a name or address no account may reset with."""


class IEmailChanged(IRecordedEvent):
    """An account moved to a new, confirmed, address."""


class IEmailChangeFailed(IFailedAttempt):
    """An email change gave the wrong current password."""


class IDeviceTrusted(IRecordedEvent):
    """A browser was remembered for an account."""


class INetworkTrusted(IRecordedEvent):
    """A network was remembered for an account."""


class ITrustRevoked(IRecordedEvent):
    """A remembered browser or network was forgotten."""


class INotMe(IRecordedEvent):
    """The owner said a sign-in code was not asked for by them."""


@implementer(IRegistered)
class Registered(RecordedEvent):
    kind: ClassVar[str] = "registration"


@implementer(IRegistrationRefused)
class RegistrationRefused(RecordedEvent):
    kind: ClassVar[str] = "registration"
    outcome: ClassVar[str] = FAILURE


@implementer(IEmailConfirmed)
class EmailConfirmed(RecordedEvent):
    kind: ClassVar[str] = "email-confirmed"


@implementer(ISignedIn)
class SignedIn(RecordedEvent):
    kind: ClassVar[str] = "sign-in"


@implementer(ISignInFailed)
class SignInFailed(FailedAttempt):
    kind: ClassVar[str] = "sign-in"


@implementer(ILockedOut)
class LockedOut(RecordedEvent):
    kind: ClassVar[str] = "lockout"
    outcome: ClassVar[str] = FAILURE


@implementer(ISignedOut)
class SignedOut(RecordedEvent):
    kind: ClassVar[str] = "sign-out"


@implementer(ISessionTimedOut)
class SessionTimedOut(RecordedEvent):
    kind: ClassVar[str] = "timeout"


@implementer(ISessionEnded)
class SessionEnded(RecordedEvent):
    kind: ClassVar[str] = "session-ended"


@implementer(IPasswordChanged)
class PasswordChanged(RecordedEvent):
    kind: ClassVar[str] = "password-change"


@implementer(IPasswordChangeFailed)
class PasswordChangeFailed(FailedAttempt):
    kind: ClassVar[str] = "password-change"


@implementer(IPasswordReset)
class PasswordReset(RecordedEvent):
    kind: ClassVar[str] = "password-reset"


@implementer(IEmailClaimRefused)
class EmailClaimRefused(RecordedEvent):
    kind: ClassVar[str] = "email-confirmed"
    outcome: ClassVar[str] = FAILURE


@implementer(IAccountExpired)
class AccountExpired(RecordedEvent):
    kind: ClassVar[str] = "account-expired"


@implementer(IPasswordResetRefused)
class PasswordResetRefused(RecordedEvent):
    kind: ClassVar[str] = "password-reset"
    outcome: ClassVar[str] = FAILURE


@implementer(IEmailChanged)
class EmailChanged(RecordedEvent):
    kind: ClassVar[str] = "email-change"


@implementer(IEmailChangeFailed)
class EmailChangeFailed(FailedAttempt):
    kind: ClassVar[str] = "email-change"


@implementer(IDeviceTrusted)
class DeviceTrusted(RecordedEvent):
    kind: ClassVar[str] = "device-trusted"


@implementer(INetworkTrusted)
class NetworkTrusted(RecordedEvent):
    kind: ClassVar[str] = "network-trusted"


@implementer(ITrustRevoked)
class TrustRevoked(RecordedEvent):
    kind: ClassVar[str] = "trust-revoked"


@implementer(INotMe)
class NotMe(RecordedEvent):
    kind: ClassVar[str] = "not-me"
