"""The users domain's services, found with ``request.find_service(I...)``."""

from zope.interface import Interface


class IPasswordHasher(Interface):
    """Hashes and verifies passwords (:class:`.passwords.PasswordHasher`)."""


class ISessionService(Interface):
    """Server-side sign-in sessions (:class:`.sessions.SessionService`)."""


class IBackoff(Interface):
    """The per-account back-off after failures (:class:`.backoff.Backoff`)."""


class ITrustService(Interface):
    """Trusted devices and networks (:class:`.trust.TrustService`)."""


class IAccountService(Interface):
    """Account flows: sign-in, codes, email change, reset, "not me"
    (:class:`.services.AccountService`)."""
