"""Listing of any folder: paged and sortable, as HTML or JSON."""

from __future__ import annotations

import math
from typing import Any

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.view import view_config, view_defaults

from ..interfaces import IFolder
from ..permissions import ADMIN_BROWSE

MAX_PAGE_SIZE = 100


class PageQuery(colander.MappingSchema):
    """Which page of a listing, and how long a page is."""

    page = colander.SchemaNode(
        colander.Int(), missing=1, validator=colander.Range(min=1, max=10**9)
    )
    size = colander.SchemaNode(
        colander.Int(), missing=20, validator=colander.Range(min=1, max=MAX_PAGE_SIZE)
    )


class ListingQuery(PageQuery):
    sort = colander.SchemaNode(
        colander.String(), missing="name", validator=colander.OneOf(["name", "-name"])
    )


def parse_query(schema: colander.Schema, params: Any) -> dict:
    """Validate query parameters; a bad one is a 400 that names it."""
    try:
        return schema.deserialize(dict(params))
    except colander.Invalid as e:
        problems = "; ".join(f"{k}: {v}" for k, v in sorted(e.asdict().items()))
        raise HTTPBadRequest(f"Bad query parameters: {problems}") from None


def type_name(obj: Any) -> str:
    return type(obj).__name__.lower()


@view_defaults(context=IFolder, permission=ADMIN_BROWSE)
class FolderViews:
    def __init__(self, context, request):
        self.context = context
        self.request = request

    def listing(self) -> dict:
        query = parse_query(ListingQuery(), self.request.GET)
        total = len(self.context)
        pages = max(1, math.ceil(total / query["size"]))
        offset = (query["page"] - 1) * query["size"]
        items = self.context.page(
            offset, query["size"], reverse=query["sort"] == "-name"
        )
        return {
            "type": type_name(self.context),
            "name": self.context.__name__,
            "title": self.context.title,
            "url": self.request.resource_url(self.context),
            "length": total,
            "page": query["page"],
            "pages": pages,
            "size": query["size"],
            "sort": query["sort"],
            "items": [
                {
                    "name": name,
                    "type": type_name(item),
                    "url": self.request.resource_url(item),
                }
                for name, item in items
            ],
        }

    @view_config(renderer="wingapp:templates/site/folder.pt")
    def html(self) -> dict:
        data = self.listing()
        data["page_url"] = self._page_url
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()

    def _page_url(self, page: int, size: int, sort: str) -> str:
        return self.request.resource_url(
            self.context, query={"page": page, "size": size, "sort": sort}
        )
