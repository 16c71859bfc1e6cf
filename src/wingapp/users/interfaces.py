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
    (:class:`.services.AccountService`).

    Sign-in refuses a disabled account (with its own message, to whoever
    gives the right password only) and sends an account that must reset
    its password to the reset, with a code mailed; a successful reset
    clears the must-reset mark and confirms the address.
    """

    def mail_code_link(user, purpose):
        """Mail ``user`` a one-time code with a link that starts the
        matching flow in whatever browser opens it. ``purpose`` is
        "welcome" (set the first password of an account made for its
        owner), "forced-reset" (set a new password) or "confirm" (confirm
        the address). For administrators: no cool-down refuses it; a code
        of the same flow still pending is cancelled. Records CodeSent."""

    def open_code_link(kind, code_id, token):
        """Start, in this browser, the ``kind`` flow ("reset-password" or
        "confirm-email") of a link :meth:`mail_code_link` sent; return the
        flow, or None if its code can no longer be used."""

    def not_me_entry(user, entry):
        """The signed-in owner says ``entry`` of their history was not
        them: end every other session, forget every trusted browser and
        network, record NotMe."""
