"""``GET /logout``: a page to sign out from, for someone who typed the
address or followed a link to it.

Signing out stays a POST with the CSRF token: a link or an image on
another site must not be able to sign anyone out.
"""

from __future__ import annotations

from typing import Any

from pyramid.view import view_config

from ...interfaces import IRoot
from ...permissions import VIEW


@view_config(
    context=IRoot,
    name="logout",
    request_method="GET",
    permission=VIEW,
    renderer="wingapp:templates/users/logged_out.pt",
)
def logout_page(context: Any, request: Any) -> dict:
    """The sign-out button when signed in; else a way to sign in."""
    user = request.signed_in_user
    return {
        "title": "Sign out" if user is not None else "Not signed in",
        "offer": "sign-out" if user is not None else "sign-in",
        "user_name": None if user is None else user.__name__,
        "timed_out": False,
        "at_limit": False,
        "login_url": request.resource_url(context, "login"),
    }
