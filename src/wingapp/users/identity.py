"""Who the request is: the glue between cookies and server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken

from .sessions import SignInSession

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
DEVICE_COOKIE = "wingapp_device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600


@dataclass
class SignedIn:
    user: Any
    key: str
    record: SignInSession


def _session_user(request: Any) -> tuple[Any, str] | None:
    sid = request.session.get("sid")
    token = request.session.get("u")
    if not isinstance(sid, str) or not isinstance(token, str):
        return None
    try:
        login = request.registry.keyring.decrypt(token.encode())
    except InvalidToken:
        return None
    user = request.root["users"].get(login)
    return None if user is None else (user, sid)


def current_sign_in(request: Any) -> SignedIn | None:
    found = _session_user(request)
    if found is None:
        return None
    user, sid = found
    service = request.registry.session_service
    record = service.find(user, sid)
    if record is None:
        return None
    if request.method not in SAFE_METHODS:
        # Only a state-changing request (a form, the keep-alive ping)
        # counts as activity, so reading a page never writes.
        service.touch(record)
    return SignedIn(user, service.key(sid), record)


def signed_in_user(request: Any) -> Any:
    sign_in = request.sign_in
    return None if sign_in is None else sign_in.user


def stale_session_key(request: Any) -> tuple[Any, str] | None:
    """The user and record key a cookie names even when the session has
    expired, so sign-out can remove what a timeout left behind."""
    found = _session_user(request)
    if found is None:
        return None
    user, sid = found
    return user, request.registry.session_service.key(sid)


def start_session(request: Any, user: Any) -> SignedIn:
    """Sign ``user`` in: a fresh cookie session and a new server record."""
    registry = request.registry
    service = registry.session_service
    service.purge_expired(user)
    # A new cookie session (and CSRF token) at every sign-in: nothing a
    # visitor planted before signing in survives it.
    request.session.invalidate()
    sid = service.start(user, request.client_addr, request.user_agent)
    request.session["sid"] = sid
    request.session["u"] = registry.keyring.encrypt(user.__name__).decode()
    user.last_sign_in = registry.clock()
    registry.backoff.succeed(user)
    key = service.key(sid)
    sign_in = SignedIn(user, key, user.sessions[key])
    request.sign_in = sign_in
    request.signed_in_user = user
    return sign_in


def end_session(request: Any) -> Any:
    """Sign out: remove the server record, drop the cookie session.

    Returns the user whose session it was, if the cookie named one.
    """
    found = stale_session_key(request)
    request.session.invalidate()
    request.sign_in = None
    request.signed_in_user = None
    if found is None:
        return None
    user, key = found
    request.registry.session_service.end(user, key)
    return user


def device_id(request: Any) -> str | None:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return None
    try:
        return request.registry.keyring.decrypt(token.encode())
    except InvalidToken:
        return None


def remember_device(request: Any, device: str) -> None:
    token = request.registry.keyring.encrypt(device).decode()

    def set_it(request: Any, response: Any) -> None:
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_AGE,
            path="/",
            secure=request.registry.secure_cookies,
            httponly=True,
            samesite="Lax",
        )

    request.add_response_callback(set_it)
