"""A half-finished sign-in, email confirmation or password reset.

Kept in its own cookie, SameSite=Strict, encrypted with Fernet, whose
timestamp bounds the flow to ten minutes. The code it waits for is bound
to the flow's random nonce: a code is no use without the browser that
asked for it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, replace
from typing import Any

from cryptography.fernet import InvalidToken

from ..interfaces import IClock, ICookiePolicy, IKeyring

FLOW_COOKIE = "wingapp_flow"
FLOW_SECONDS = 600
MAX_COOKIE_BYTES = 4000
"""Under the 4096 bytes a browser stores for a cookie, name and flags
included; a longer one would be dropped silently."""


@dataclass
class Flow:
    kind: str
    login: str
    code_id: str | None = None
    nonce: str = ""
    next: str = ""
    new_email: str = ""
    """For an email change: the address the code went to (the cookie is
    encrypted, so it is not readable in the browser)."""
    sent_to: str = ""
    """Where the code went, masked ("a•••@example.org"), for the page that
    asks for it."""
    why: str = ""
    """For a sign-in: why a code is asked ("device", "network", "both" or
    "always", see TrustService.code_reason)."""
    stand_in: str = ""
    """For a flow that no account may finish (a reset for an unknown name, a
    registration or an email change to a taken address): the owner of the
    code it waits for, which is issued and checked like any other but mailed
    to nobody (AccountService.send_stand_in_code)."""

    def __post_init__(self) -> None:
        if not self.nonce:
            self.nonce = secrets.token_urlsafe(24)

    def binding(self, keyring: Any) -> str:
        return keyring.mac("flow", self.nonce)


def _set_cookie(request: Any, value: str, **kw: Any) -> None:
    # On whatever response the request ends with, redirect or page alike.
    def set_it(request: Any, response: Any) -> None:
        response.set_cookie(
            FLOW_COOKIE,
            value,
            path="/",
            secure=request.find_service(ICookiePolicy).secure,
            httponly=True,
            samesite="Strict",
            **kw,
        )

    request.add_response_callback(set_it)


PAD_TO = 256
"""The flow's JSON is padded to a multiple of this many bytes before it is
encrypted: the cookie's length would otherwise tell a flow for an account
(its login, its masked address) from one for nobody."""


def _seal(request: Any, flow: Flow) -> bytes:
    text = json.dumps(asdict(flow))
    # JSON reads trailing spaces as nothing.
    text += " " * (-len(text.encode()) % PAD_TO)
    # Stamped with the application's clock, which also decides expiry.
    return request.find_service(IKeyring).encrypt(
        text, now=request.find_service(IClock)().timestamp()
    )


def save_flow(request: Any, flow: Flow) -> None:
    token = _seal(request, flow)
    if len(token) > MAX_COOKIE_BYTES:
        # Only the page to come back to is taken from the form as it came;
        # one this long is no path safe_next would follow anyway.
        token = _seal(request, replace(flow, next=""))
    _set_cookie(request, token.decode())


def load_flow(request: Any, kind: str) -> Flow | None:
    token = request.cookies.get(FLOW_COOKIE)
    if not token:
        return None
    try:
        text = request.find_service(IKeyring).decrypt_fresh(
            token.encode(), FLOW_SECONDS, request.find_service(IClock)().timestamp()
        )
        data = json.loads(text)
        flow = Flow(**data)
    except (InvalidToken, TypeError, ValueError):
        return None
    return flow if flow.kind == kind else None


def clear_flow(request: Any) -> None:
    _set_cookie(request, "", max_age=0)
