"""Admin browsing of codes: what was sent to whom and what became of it.

Metadata only: a code's digest never leaves the database, not even to an
admin, since it is all an offline guess at the digits would need.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pyramid.traversal import find_root
from pyramid.view import view_config, view_defaults

from ..interfaces import IClock, ICode, ICodes
from ..permissions import ADMIN_CODES_READ
from ..views.folder import (
    Listing,
    Orders,
    answer,
    html_links,
    one_of,
    parse_listing,
    parse_moment,
)
from ..walks import HIGH, page_of, walk
from .models import PURPOSES, STATES, Code

# The codes' timelines are keyed (-expiry, id): walked forwards, the newest
# first, which is "-expires".
ORDERS = Orders({"expires": parse_moment}, default="-expires")
FILTERS = {"state": one_of(STATES), "purpose": one_of(PURPOSES)}


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


def owner_url(request: Any, codes: Any, login: str) -> str | None:
    """The admin page of a code's owner; None once the account is gone."""
    users = find_root(codes)["users"]
    if login not in users:
        return None
    return request.resource_url(users[login], "@@admin")


@view_defaults(context=ICodes, permission=ADMIN_CODES_READ)
class CodesViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def listing(self) -> tuple[Listing, dict]:
        listing = parse_listing(self.request, ORDERS, FILTERS)
        now = self.request.find_service(IClock)()
        keys = self._matching(listing, now)
        found, after = page_of(keys, listing.limit)
        filtered = any(v is not None for v in listing.filters.values())
        data = answer(
            self.request,
            self.context,
            listing,
            [code_metadata(self.context[name], now, self.request) for _, name in found],
            after,
            # Counting what a filter lets through would read every code.
            length=None if filtered else len(self.context),
            **listing.filters,
        )
        return listing, data

    def _matching(self, listing: Listing, now: datetime) -> Iterator[Any]:
        """The timeline keys of the codes the filters let through, in the
        listing's order. Without a filter no code is loaded to be skipped."""
        start = listing.start
        newest_first = listing.descending
        if start is not None:
            moment = -start.timestamp()
            start = (moment,) if newest_first else (moment, HIGH)
        keys = walk(self.context.timelines, not newest_first, listing.after, start)
        state, purpose = listing.filters["state"], listing.filters["purpose"]
        if state is None and purpose is None:
            return keys
        return (
            key
            for key in keys
            if (purpose is None or self.context[key[1]].purpose == purpose)
            and (state is None or self.context[key[1]].status(now) == state)
        )

    @view_config(renderer="wingapp:templates/codes/listing.pt")
    def html(self) -> dict:
        listing, data = self.listing()
        data.update(html_links(self.request, self.context, listing, data))
        data.update(states=STATES, purposes=PURPOSES, format_time=format_time)
        # A filtered count is known only when one page holds every match
        # (see listing); the total always is.
        whole = listing.after is None and listing.start is None
        complete = whole and data["next_cursor"] is None
        data.update(
            total=len(self.context),
            matched=len(data["items"]) if complete else None,
        )
        for item in data["items"]:
            item["owner_url"] = owner_url(self.request, self.context, item["owner"])
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()[1]


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
            owner_url=owner_url(
                self.request, self.context.__parent__, self.context.owner
            ),
        )
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return code_metadata(
            self.context, self.request.find_service(IClock)(), self.request
        )
