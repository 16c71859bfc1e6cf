"""Who the request is: the glue between cookies and server-side sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken

from ..interfaces import IClock, ICookiePolicy, IKeyring
from .events import SessionTimedOut
from .interfaces import IAccountService, ISessionService
from .sessions import NOT_ACTIVITY, SignInSession

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
        login = request.find_service(IKeyring).decrypt(token.encode())
    except InvalidToken:
        return None
    user = request.root["users"].get(login)
    return None if user is None else (user, sid)


def current_sign_in(request: Any) -> SignedIn | None:
    found = _session_user(request)
    if found is None:
        return None
    user, sid = found
    if user.disabled:
        # Disabling ends every session; one that started meanwhile (or a
        # record that survived) signs no one in either. Nothing is written:
        # the browser simply is not signed in.
        return None
    service = request.find_service(ISessionService)
    key = service.key(sid)
    record = user.sessions.get(key)
    if record is None:
        return None
    if not service.is_live(record):
        # The server noticed the timeout before the browser said so (or
        # without it, the tab being closed): the session ends here, and
        # the timeout is recorded once, since the record is gone after.
        service.end(user, key)
        request.registry.notify(
            SessionTimedOut(
                request=request, login=user.__name__, detail={"noticed": "server"}
            )
        )
        return None
    if request.method not in SAFE_METHODS and NOT_ACTIVITY not in request.environ:
        # Only a state-changing request (a form, the keep-alive ping)
        # counts as activity, so reading a page never writes; nor does a
        # view that says it is not activity (the strength meter).
        service.touch(record)
    return SignedIn(user, key, record)


def signed_in_user(request: Any) -> Any:
    sign_in = request.sign_in
    return None if sign_in is None else sign_in.user


def reauth_prompt(request: Any) -> str | None:
    """Before a sensitive change by whoever is signed in: what to ask them
    if their sign-in is too old to make it without the password again
    (ASVS 3.7.1), else None. A form shows its password field only then."""
    return request.find_service(ISessionService).reauth_prompt(request.sign_in.record)


def reauthenticate(request: Any, password: str, failure: type) -> None:
    """Check the password that the signed-in person gave again; note the
    time in their session, so the changes that follow within
    ``auth.reauth_after`` need it no more. A wrong one raises ``Refused``
    (message beside ``current_password``) and is recorded as ``failure``,
    a failed attempt on their account that counts towards its back-off."""
    sign_in = request.sign_in
    request.find_service(IAccountService).check_current_password(
        sign_in.user, password, failure
    )
    request.find_service(ISessionService).reauthenticated(sign_in.record)


def stale_session_key(request: Any) -> tuple[Any, str] | None:
    """The user and record key a cookie names even when the session has
    expired, so sign-out can remove what a timeout left behind."""
    found = _session_user(request)
    if found is None:
        return None
    user, sid = found
    return user, request.find_service(ISessionService).key(sid)


def start_session(request: Any, user: Any) -> SignedIn:
    """Sign ``user`` in: a fresh cookie session and a new server record."""
    service = request.find_service(ISessionService)
    service.purge_expired(user)
    # A new cookie session (and CSRF token) at every sign-in: nothing a
    # visitor planted before signing in survives it.
    request.session.invalidate()
    sid = service.start(user, request.client_addr, request.user_agent)
    request.session["sid"] = sid
    request.session["u"] = (
        request.find_service(IKeyring).encrypt(user.__name__).decode()
    )
    user.record_sign_in(request.find_service(IClock)())
    key = service.key(sid)
    sign_in = SignedIn(user, key, user.sessions[key])
    request.sign_in = sign_in
    request.signed_in_user = user
    return sign_in


def end_session(request: Any) -> Any:
    """Sign out: remove the server record, drop the cookie session.

    Returns the user whose session it was, if a live record was removed
    (a timeout the server noticed first is recorded already).
    """
    found = stale_session_key(request)
    request.session.invalidate()
    request.sign_in = None
    request.signed_in_user = None
    if found is None:
        return None
    user, key = found
    return user if request.find_service(ISessionService).end(user, key) else None


def device_id(request: Any) -> str | None:
    token = request.cookies.get(DEVICE_COOKIE)
    if not token:
        return None
    try:
        return request.find_service(IKeyring).decrypt(token.encode())
    except InvalidToken:
        return None


def remember_device(request: Any, device: str) -> None:
    token = request.find_service(IKeyring).encrypt(device).decode()

    def set_it(request: Any, response: Any) -> None:
        response.set_cookie(
            DEVICE_COOKIE,
            token,
            max_age=DEVICE_COOKIE_AGE,
            path="/",
            secure=request.find_service(ICookiePolicy).secure,
            httponly=True,
            samesite="Lax",
        )

    request.add_response_callback(set_it)
