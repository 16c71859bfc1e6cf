"""Small helpers the account views share."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from ...urls import safe_next
from ..flow import clear_flow


def page(request: Any, template: str, status: int = 200, **values: Any) -> Any:
    """Render ``template`` with ``values``; a 4xx status for form errors."""
    values.setdefault("errors", {})
    values.setdefault("form", {})
    values.setdefault("message", "")
    response = render_to_response(
        f"wingapp:templates/users/{template}", values, request
    )
    response.status_int = status
    return response


def restart(request: Any, message: str, url: str) -> HTTPSeeOther:
    """End a half-finished flow: say why, and go back to where it starts."""
    request.session.flash(message)
    clear_flow(request)
    return HTTPSeeOther(location=url)


def after_sign_in_url(request: Any, user: Any, next_path: str | None) -> str:
    return safe_next(request, next_path) or request.resource_url(user)


def shown_again(data: Any) -> dict:
    """What to show again in a refused form: never a password back."""
    return {
        k: v for k, v in dict(data).items() if "password" not in k and k != "csrf_token"
    }


def wait_for_code(cooldown: Any, then: str = "try again") -> str:
    """What to say when a new code was asked for too soon."""
    return (
        f"A code was sent moments ago. Wait {cooldown.seconds_left} seconds and {then}."
    )
