"""What every page's layout needs, handed to templates as ``site``."""

from __future__ import annotations

from typing import Any

from pyramid.events import BeforeRender, subscriber

from ..permissions import ADMIN_BROWSE


class Page:
    def __init__(self, request: Any) -> None:
        self.request = request

    @property
    def can_browse(self) -> bool:
        return bool(self.request.has_permission(ADMIN_BROWSE, self.request.root))

    def flashes(self) -> list[str]:
        return self.request.session.pop_flash()

    def url(self, *elements: str, **kw: Any) -> str:
        return self.request.resource_url(self.request.root, *elements, **kw)

    def static(self, path: str) -> str:
        return self.request.static_url(f"wingapp:static/{path}")


@subscriber(BeforeRender)
def add_page(event: BeforeRender) -> None:
    request = event.get("request")
    if request is not None and event.get("renderer_name", "").endswith(".pt"):
        event["site"] = Page(request)
