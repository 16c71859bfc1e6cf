"""Security headers on every response, error pages included."""

from __future__ import annotations

from pyramid.events import NewResponse

from .sessions import SESSION_COOKIE

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}

HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(event: NewResponse) -> None:
    response = event.response
    request = event.request
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if SESSION_COOKIE in request.cookies and "Cache-Control" not in response.headers:
        # Pages seen with a session may hold personal data: keep them out
        # of every cache, the browser's back/forward cache included.
        response.headers["Cache-Control"] = "no-store"


def includeme(config) -> None:
    config.add_subscriber(add_security_headers, NewResponse)
