"""The cookie session: signed, JSON-serialised, holding no personal data.

It carries the CSRF token, flash messages and the id of the server-side
sign-in session; who is signed in is always decided on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.session import JSONSerializer, SignedCookieSessionFactory

from .interfaces import ICookiePolicy, IKeyring
from .settings import boolean, group

SESSION_COOKIE = "wingapp_session"
MAX_FLASHES = 5
"""Messages kept until a page shows them: a client that posts again and
again without reading a page would otherwise grow the cookie past what a
browser stores (4 KB), and every answer would fail."""

# Secure by default; only plain-HTTP development turns it off.
COOKIES = group("cookies", boolean("session.secure_cookie", True))


def session_factory(secret: str, secure: bool):
    base = SignedCookieSessionFactory(
        secret,
        cookie_name=SESSION_COOKIE,
        secure=secure,
        httponly=True,
        samesite="Lax",
        # No Max-Age: the browser drops it when it closes; the server-side
        # session enforces the idle and absolute timeouts.
        max_age=None,
        timeout=None,
        reissue_time=None,
        hashalg="sha512",
        salt="wingapp.session.",
        serializer=JSONSerializer(),
    )

    class Session(base):
        def flash(self, msg: str, queue: str = "", allow_duplicate: bool = False):
            # The same message twice says nothing more.
            super().flash(msg, queue, allow_duplicate)
            del self["_f_" + queue][:-MAX_FLASHES]

        def pop_flash(self, queue: str = "") -> list:
            # Popping marks the session changed, and a changed session sends
            # its cookie again: every page pops, most have nothing to show.
            return super().pop_flash(queue) if self.peek_flash(queue) else []

    return Session


@dataclass(frozen=True)
class CookiePolicy:
    """How every cookie wingapp sets is flagged."""

    secure: bool


def includeme(config) -> None:
    config.include(".settings")
    secure = config.add_settings_schema(COOKIES)["session.secure_cookie"]
    # Every cookie we set (session, device, sign-in flow) follows this.
    config.register_service(CookiePolicy(secure), ICookiePolicy)
    config.set_session_factory(
        session_factory(config.registry.getUtility(IKeyring).session_secret, secure)
    )
    config.set_default_csrf_options(require_csrf=True)
