"""Small helpers the account views share."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render_to_response

from ...urls import safe_next


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


def see_other(url: str, response: Any = None) -> HTTPSeeOther:
    """A post/redirect/get answer, keeping cookies set on ``response``."""
    redirect = HTTPSeeOther(location=url)
    if response is not None:
        for name, value in response.headerlist:
            if name.lower() == "set-cookie":
                redirect.headerlist.append((name, value))
    return redirect


def user_url(request: Any, user: Any) -> str:
    return request.resource_url(user)


def after_sign_in_url(request: Any, user: Any, next_path: str | None) -> str:
    return safe_next(request, next_path) or user_url(request, user)


def csrf_failure_free_form(data: Any) -> dict:
    """What to show again in a refused form: never a password back."""
    return {
        k: v for k, v in dict(data).items() if "password" not in k and k != "csrf_token"
    }
