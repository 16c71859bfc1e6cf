"""Security headers on every response, error pages included."""

from __future__ import annotations

from pyramid.events import NewResponse

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
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if event.request.scheme == "https":
        response.headers.setdefault("Strict-Transport-Security", HSTS)


def includeme(config) -> None:
    config.add_subscriber(add_security_headers, NewResponse)
