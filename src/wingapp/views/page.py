"""What every page's layout needs, handed to templates as ``site``."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, subscriber

from ..permissions import ADMIN_BROWSE


class Page:
    def __init__(self, request: Any) -> None:
        self.request = request

    @property
    def user(self) -> Any:
        return self.request.signed_in_user

    def user_url(self) -> str:
        return self.request.resource_url(self.user)

    def csrf_token(self) -> str:
        return get_csrf_token(self.request)

    def session_timing(self) -> dict[str, str]:
        """What the idle-timeout script needs, as data- attributes."""
        request = self.request
        if request.sign_in is None:
            return {}
        timeouts = request.registry.timeouts
        remaining, because = request.registry.session_service.remaining(
            request.sign_in.record
        )
        return {
            "data-idle-timeout": str(int(timeouts.idle.total_seconds())),
            "data-idle-warning": str(int(timeouts.warning.total_seconds())),
            "data-expires-in": str(remaining),
            "data-ping-url": self.url("ping"),
            "data-logout-url": self.url("logout"),
            "data-logged-out-url": self.url("logged-out"),
            "data-csrf-token": self.csrf_token(),
            "data-ends-because": because,
        }

    def absolute_limit(self) -> str:
        hours = self.request.registry.timeouts.absolute.total_seconds() / 3600
        if hours >= 1 and hours == int(hours):
            return f"{int(hours)} hour{'s' if hours != 1 else ''}"
        minutes = max(1, round(hours * 60))
        return f"{minutes} minute{'s' if minutes != 1 else ''}"

    @property
    def can_browse(self) -> bool:
        return bool(self.request.has_permission(ADMIN_BROWSE, self.request.root))

    def flashes(self) -> list[str]:
        return self.request.session.pop_flash()

    def url(self, *elements: str, **kw: Any) -> str:
        return self.request.resource_url(self.request.root, *elements, **kw)

    def container_url(self, name: str) -> str:
        # The container itself, not a name appended to the root's URL: under
        # a virtual root (X-Vhm-Root) the container may be the root.
        return self.request.resource_url(self.request.root[name])

    def static(self, path: str) -> str:
        return self.request.static_url(f"wingapp:static/{path}")


@subscriber(BeforeRender)
def add_page(event: BeforeRender) -> None:
    request = event.get("request")
    if request is not None and event.get("renderer_name", "").endswith(".pt"):
        event["site"] = Page(request)
