"""Admin browsing of codes: what was sent to whom and what became of it.

Metadata only: a code's digest never leaves the database, not even to an
admin, since it is all an offline guess at the digits would need.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import colander
from pyramid.view import view_config, view_defaults

from ..interfaces import IClock, ICode, ICodes
from ..permissions import ADMIN_CODES_READ
from ..views.folder import PageQuery, parse_query
from .models import PURPOSES, STATES, Code


class CodeListingQuery(PageQuery):
    # An empty value (the form's "any") means no filter.
    state = colander.SchemaNode(
        colander.String(), missing=None, validator=colander.OneOf(STATES)
    )
    purpose = colander.SchemaNode(
        colander.String(), missing=None, validator=colander.OneOf(PURPOSES)
    )


def format_time(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def code_metadata(code: Code, now: datetime, request: Any) -> dict:
    return {
        "type": "code",
        "name": code.__name__,
        "url": request.resource_url(code),
        "purpose": code.purpose,
        "owner": code.owner,
        "created": code.created,
        "expires": code.expires,
        "attempts": code.attempts,
        "state": code.status(now),
    }


@view_defaults(context=ICodes, permission=ADMIN_CODES_READ)
class CodesViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def listing(self) -> dict:
        query = parse_query(CodeListingQuery(), self.request.GET)
        page, size = query["page"], query["size"]
        now = self.request.find_service(IClock)()
        codes, more = self.context.select(
            now,
            state=query["state"],
            purpose=query["purpose"],
            offset=(page - 1) * size,
            limit=size,
        )
        return {
            "type": "codes",
            "name": self.context.__name__,
            "title": self.context.title,
            "url": self.request.resource_url(self.context),
            "length": len(self.context),
            "page": page,
            "size": size,
            "state": query["state"],
            "purpose": query["purpose"],
            "previous": self._page_url(query, page - 1) if page > 1 else None,
            "next": self._page_url(query, page + 1) if more else None,
            "items": [code_metadata(code, now, self.request) for code in codes],
        }

    def _page_url(self, query: dict, page: int) -> str:
        # Paging keeps the filters; filters left empty stay out of the link.
        params = {"page": page, "size": query["size"]}
        params.update(
            (key, query[key]) for key in ("state", "purpose") if query[key] is not None
        )
        return self.request.resource_url(self.context, query=params)

    @view_config(renderer="wingapp:templates/codes/listing.pt")
    def html(self) -> dict:
        data = self.listing()
        data.update(states=STATES, purposes=PURPOSES, format_time=format_time)
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()


@view_defaults(context=ICode, permission=ADMIN_CODES_READ)
class CodeViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(renderer="wingapp:templates/codes/code.pt")
    def html(self) -> dict:
        data = code_metadata(
            self.context, self.request.find_service(IClock)(), self.request
        )
        data.update(
            title=f"Code {self.context.__name__}",
            codes_url=self.request.resource_url(self.context.__parent__),
            format_time=format_time,
        )
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return code_metadata(
            self.context, self.request.find_service(IClock)(), self.request
        )
