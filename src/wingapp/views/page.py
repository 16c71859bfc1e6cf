"""What every page's layout needs, handed to templates as ``site``."""

from __future__ import annotations

from typing import Any

from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender, subscriber

from ..directives import containers, layout_extra


class Page:
    def __init__(self, request: Any) -> None:
        self.request = request
        self._extras: dict[str, Any] = {}

    @property
    def user(self) -> Any:
        return self.request.signed_in_user

    def user_url(self) -> str:
        return self.request.resource_url(self.user)

    def csrf_token(self) -> str:
        return get_csrf_token(self.request)

    def navigation(self) -> list[tuple[str, str]]:
        """(title, URL) of each registered container the visitor may see."""
        request = self.request
        root = request.root
        return [
            (c.title, request.resource_url(root[c.name]))
            for c in containers(request.registry)
            if c.name in root and request.has_permission(c.permission, root[c.name])
        ]

    def helper(self, name: str) -> Any:
        """What a domain registered for the layout under ``name``, or None."""
        if name not in self._extras:
            factory = layout_extra(self.request.registry, name)
            self._extras[name] = None if factory is None else factory(self.request)
        return self._extras[name]

    @staticmethod
    def field(
        errors: dict[str, str], name: str, *described_by: str, id: str | None = None
    ) -> dict[str, str | None]:
        """The attributes of the input for the field ``name`` (whose element
        id is ``id``, by default the name): marked invalid when ``errors``
        has a message for it, and described by that message (the element
        ``<id>-error``) and by ``described_by``'s elements."""
        invalid = name in errors
        ids = [f"{id or name}-error"] if invalid else []
        ids += described_by
        return {
            "aria-invalid": "true" if invalid else None,
            "aria-describedby": " ".join(ids) or None,
        }

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
