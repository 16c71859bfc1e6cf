"""What the layout shows of a signed-in session: the idle-timeout dialog."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import get_csrf_token
from pyramid.decorator import reify

from ..interfaces import ISessionService


class SessionUI:
    """Given to the layout as ``site.helper('session')``."""

    def __init__(self, request: Any) -> None:
        self.request = request

    @reify
    def service(self) -> Any:
        # Looked up only when a page shows a session: most pages a visitor
        # who is not signed in sees never need it.
        return self.request.find_service(ISessionService)

    def timing(self, root_url: str) -> dict[str, str]:
        """What the idle-timeout script needs, as data- attributes.
        ``root_url`` is the site root's URL, which the layout has worked
        out already; the three pages are directly under it."""
        request = self.request
        if request.sign_in is None:
            return {}
        timeouts = self.service.timeouts
        remaining, because = self.service.remaining(request.sign_in.record)
        return {
            "data-idle-timeout": str(int(timeouts.idle.total_seconds())),
            "data-idle-warning": str(int(timeouts.warning.total_seconds())),
            "data-expires-in": str(remaining),
            "data-ping-url": f"{root_url}ping",
            "data-logout-url": f"{root_url}logout",
            "data-logged-out-url": f"{root_url}logged-out",
            "data-csrf-token": get_csrf_token(request),
            "data-ends-because": because,
        }

    def absolute_limit(self) -> str:
        hours = self.service.timeouts.absolute.total_seconds() / 3600
        if hours >= 1 and hours == int(hours):
            return f"{int(hours)} hour{'s' if hours != 1 else ''}"
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
