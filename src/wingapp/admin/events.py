"""What administrators do to accounts: one event class, and one interface,
per kind of change.

Each is an :class:`~wingapp.events.AdminAction`: the event log records it
with the acting admin (``actor``), the account (``login``) and a
``detail`` of ``{"reason": ..., "before": {...}, "after": {...}}``, the
fields that changed, never a secret. The one failure here,
:class:`ReauthFailed`, is the administrator's own: a wrong password given
again before a sensitive change.
"""

from __future__ import annotations

from typing import ClassVar

from zope.interface import implementer

from ..events import AdminAction, FailedAttempt, IAdminAction, IFailedAttempt


class IUserCreated(IAdminAction):
    """An admin (or an import) made an account."""


class IEmailSet(IAdminAction):
    """An admin moved an account to another address."""


class IRolesSet(IAdminAction):
    """An admin changed an account's roles."""


class IUserDisabled(IAdminAction):
    """An admin disabled an account; its sessions ended."""


class IUserEnabled(IAdminAction):
    """An admin enabled a disabled account."""


class IResetForced(IAdminAction):
    """An admin made an account set a new password through a mailed code."""


class IPasswordSet(IAdminAction):
    """An operator set an account's password from the console."""


class IConfirmationResent(IAdminAction):
    """An admin mailed an unconfirmed account a new code."""


class IMarkedConfirmed(IAdminAction):
    """An admin marked an account's address as confirmed."""


class ISessionsEnded(IAdminAction):
    """An admin ended every session of an account."""


class ITrustCleared(IAdminAction):
    """An admin forgot every trusted device and network of an account."""


class IUserDeleted(IAdminAction):
    """An admin removed an account."""


class IUserImported(IAdminAction):
    """An import made or updated an account."""


class IReauthFailed(IFailedAttempt):
    """An administrator, asked for their password again before changing an
    account's address or roles, gave a wrong one. A failed attempt on the
    administrator's own account (``login``), not an admin action: it counts
    towards that account's back-off, as a wrong password at sign-in does."""


@implementer(IUserCreated)
class UserCreated(AdminAction):
    kind: ClassVar[str] = "admin-create"


@implementer(IEmailSet)
class EmailSet(AdminAction):
    kind: ClassVar[str] = "admin-email"


@implementer(IRolesSet)
class RolesSet(AdminAction):
    kind: ClassVar[str] = "admin-roles"


@implementer(IUserDisabled)
class UserDisabled(AdminAction):
    kind: ClassVar[str] = "admin-disable"


@implementer(IUserEnabled)
class UserEnabled(AdminAction):
    kind: ClassVar[str] = "admin-enable"


@implementer(IResetForced)
class ResetForced(AdminAction):
    kind: ClassVar[str] = "admin-force-reset"


@implementer(IPasswordSet)
class PasswordSet(AdminAction):
    kind: ClassVar[str] = "admin-set-password"


@implementer(IConfirmationResent)
class ConfirmationResent(AdminAction):
    kind: ClassVar[str] = "admin-resend-confirmation"


@implementer(IMarkedConfirmed)
class MarkedConfirmed(AdminAction):
    kind: ClassVar[str] = "admin-mark-confirmed"


@implementer(ISessionsEnded)
class SessionsEnded(AdminAction):
    kind: ClassVar[str] = "admin-end-sessions"


@implementer(ITrustCleared)
class TrustCleared(AdminAction):
    kind: ClassVar[str] = "admin-revoke-trust"


@implementer(IUserDeleted)
class UserDeleted(AdminAction):
    kind: ClassVar[str] = "admin-delete"


@implementer(IUserImported)
class UserImported(AdminAction):
    kind: ClassVar[str] = "admin-import"


@implementer(IReauthFailed)
class ReauthFailed(FailedAttempt):
    # Not "admin-…": that prefix marks the actions taken on accounts, which
    # an account's history lists as such.
    kind: ClassVar[str] = "reauth"
