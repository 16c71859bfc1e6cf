"""The cookie session: signed, JSON-serialised, holding no personal data.

It carries the CSRF token, flash messages and the id of the server-side
sign-in session; who is signed in is always decided on the server.
"""

from __future__ import annotations

from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from pyramid.settings import asbool

SESSION_COOKIE = "wingapp_session"


def session_factory(secret: str, secure: bool):
    return SignedCookieSessionFactory(
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


def includeme(config) -> None:
    settings = config.registry.settings
    secure = asbool(settings.get("session.secure_cookie", True))
    # Every cookie we set (session, device, sign-in flow) follows this.
    config.registry.secure_cookies = secure
    config.set_session_factory(
        session_factory(config.registry.keyring.session_secret, secure)
    )
    config.set_default_csrf_options(require_csrf=True)
