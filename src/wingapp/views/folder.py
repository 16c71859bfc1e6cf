"""The listing protocol every container answers, and the generic listing
of any folder, as HTML or JSON.

A listing takes these query parameters, and no others:

- ``limit``: how many items a page holds, 1 to :data:`MAX_LIMIT`
  (default :data:`DEFAULT_LIMIT`);
- ``order_by``: one of the container's sort keys, ``-`` before it for
  descending order;
- ``cursor``: the ``next_cursor`` of the page before, to continue after
  it (opaque, and signed: one that was altered is refused);
- ``start``: instead of a cursor, a value of the sort key to begin at (a
  name or login prefix, an ISO date or time);

plus the filters a container adds. A value out of range, a cursor this
site did not make, or any other parameter is a 400 that names the
parameter and says what it allows (as JSON for clients that ask for it).

Pages are walks over sorted trees from a bound (:func:`wingapp.walks.walk`): the
deepest page costs what the first does.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import colander
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.renderers import render_to_response
from pyramid.view import exception_view_config, view_config, view_defaults

from ..folder import MAX_NAME_LENGTH
from ..interfaces import IFolder, IKeyring
from ..negotiation import wants_json
from ..permissions import ADMIN_BROWSE
from ..walks import HIGH, page_of, walk
from .errors import error_response

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
LIMIT_ALLOWED = f"an integer from 1 to {MAX_LIMIT}"
CURSOR_ALLOWED = "the next_cursor of a page of this listing"
MOMENT_ALLOWED = "an ISO date or time, like 2026-03-01 or 2026-03-01T12:00:00Z"
TEXT_ALLOWED = f"text of 1 to {MAX_NAME_LENGTH} characters"

# Parsing a listing's parameters


class BadParameter(HTTPBadRequest):
    """A query parameter a listing refuses: which, and what it allows."""

    def __init__(self, parameter: str, allowed: str, problem: str) -> None:
        super().__init__(
            f"Bad query parameters: {parameter}: {problem}. Allowed: {allowed}."
        )
        self.parameter = parameter
        self.allowed = allowed


def refused(value: str) -> str:
    """What a message says of a value it refuses: the value, cut short."""
    shown = value if len(value) <= 40 else value[:40] + "…"
    return f"{shown!r} is not allowed"


@exception_view_config(BadParameter)
def bad_parameter(exc: BadParameter, request: Any) -> Any:
    """The 400 of a listing: in the layout, or as JSON that names the
    parameter and what it allows, for a program to act on."""
    if not wants_json(request):
        return error_response(request, 400, "Bad request", exc.detail)
    body = {
        "error": "Bad request",
        "status": 400,
        "message": exc.detail,
        "parameter": exc.parameter,
        "allowed": exc.allowed,
    }
    response = render_to_response("json", body, request)
    response.status_int = 400
    return response


def parse_text(value: str) -> str:
    if not 0 < len(value) <= MAX_NAME_LENGTH:
        raise ValueError(TEXT_ALLOWED)
    return value


def parse_moment(value: str) -> datetime:
    """An ISO date or time; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(MOMENT_ALLOWED) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


@dataclass(frozen=True)
class Filter:
    """A parameter a container adds to its listing: ``parse`` turns the
    text into a value or raises ``ValueError``; ``allowed`` says what it
    takes. An empty value (a form's "any") means no filter."""

    parse: Callable[[str], Any]
    allowed: str


def one_of(choices: Iterable[str]) -> Filter:
    choices = tuple(choices)
    allowed = "one of " + ", ".join(choices) + ", or empty for any"

    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(allowed)
        return value

    return Filter(parse, allowed)


@dataclass(frozen=True)
class Orders:
    """The sort keys a listing offers, each with how its ``start`` reads."""

    starts: Mapping[str, Callable[[str], Any]]
    default: str

    @property
    def allowed(self) -> str:
        keys = [f"{k}, -{k}" for k in self.starts]
        return "one of " + ", ".join(keys)


@dataclass(frozen=True)
class Listing:
    """A listing's parameters, checked."""

    limit: int
    order_by: str
    """As asked, e.g. ``-created``."""
    after: Any = None
    """Where the cursor says the page before ended."""
    start: Any = None
    """The ``start`` value, parsed for the sort key."""
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.order_by.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.order_by.startswith("-")


class LimitSchema(colander.SchemaNode):
    schema_type = colander.Int
    missing = DEFAULT_LIMIT
    validator = colander.Range(min=1, max=MAX_LIMIT)


LISTING_PARAMETERS = ("limit", "order_by", "cursor", "start")


def parse_listing(
    request: Any, orders: Orders, filters: Mapping[str, Filter] | None = None
) -> Listing:
    """Check a listing's query parameters; a bad one is a
    :class:`BadParameter` naming it."""
    filters = filters or {}
    params = request.GET
    known = (*LISTING_PARAMETERS, *filters)
    for name in params:
        if name not in known:
            raise BadParameter(name, "one of " + ", ".join(known), "unknown parameter")
        if len(params.getall(name)) > 1:
            raise BadParameter(name, "one value", "given more than once")
    try:
        limit = LimitSchema().deserialize(params.get("limit", colander.null))
    except colander.Invalid:
        raise BadParameter("limit", LIMIT_ALLOWED, refused(params["limit"])) from None
    order_by, after = _order_and_cursor(request, orders)
    return Listing(
        limit=limit,
        order_by=order_by,
        after=after,
        start=_start(params, orders, order_by, after),
        filters={name: _filter(params, name, f) for name, f in filters.items()},
    )


def _order_and_cursor(request: Any, orders: Orders) -> tuple[str, Any]:
    params = request.GET
    order_by = params.get("order_by")
    if order_by is not None and order_by.removeprefix("-") not in orders.starts:
        raise BadParameter("order_by", orders.allowed, refused(order_by))
    if "cursor" not in params:
        return order_by or orders.default, None
    cursor_order, after = decode_cursor(request, params["cursor"])
    if order_by is not None and order_by != cursor_order:
        raise BadParameter(
            "cursor", CURSOR_ALLOWED, f"it continues order_by={cursor_order}"
        )
    return cursor_order, after


def _start(params: Any, orders: Orders, order_by: str, after: Any) -> Any:
    if "start" not in params:
        return None
    if after is not None:
        raise BadParameter("start", "start or cursor, not both", "given with a cursor")
    try:
        return orders.starts[order_by.removeprefix("-")](params["start"])
    except ValueError as e:
        raise BadParameter("start", str(e), refused(params["start"])) from None


def _filter(params: Any, name: str, found: Filter) -> Any:
    value = params.get(name, "")
    if value == "":
        return None
    try:
        return found.parse(value)
    except ValueError:
        raise BadParameter(name, found.allowed, refused(value)) from None


# Cursors: the sort order and the last key of a page, as URL-safe base64 of
# JSON, with a keyed hash of it and of the listing's path: a cursor cannot
# be altered into a key the walks were never given, nor used on another
# listing.

CURSOR_PURPOSE = "listing-cursor"
SIGNATURE_LENGTH = 32


def _signature(request: Any, payload: str) -> str:
    keyring = request.find_service(IKeyring)
    signed = f"{request.path}\n{payload}"
    return keyring.mac(CURSOR_PURPOSE, signed)[:SIGNATURE_LENGTH]


def encode_cursor(request: Any, order_by: str, after: Any) -> str:
    data = json.dumps([order_by, after], separators=(",", ":"))
    payload = base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")
    return f"{payload}.{_signature(request, payload)}"


def decode_cursor(request: Any, cursor: str) -> tuple[str, Any]:
    """The order and the key a cursor holds; a cursor this listing did not
    make (altered, garbled, from another listing) is a 400."""
    payload, _, signature = cursor.partition(".")
    expected = _signature(request, payload)
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise BadParameter("cursor", CURSOR_ALLOWED, "not a cursor of this listing")
    # Signed, so made by encode_cursor: it reads back.
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    order_by, after = json.loads(data)
    # JSON has no tuples; keys that were tuples come back as lists.
    return order_by, tuple(after) if isinstance(after, list) else after


# The page's links


def listing_url(request: Any, context: Any, listing: Listing, **changes: Any) -> str:
    """The listing's address with its filters, limit and order, changed by
    ``changes`` (a None value leaves a parameter out)."""
    query = dict(listing.filters)
    query.update(limit=listing.limit, order_by=listing.order_by)
    query.update(changes)
    return request.resource_url(
        context, query={k: v for k, v in query.items() if v is not None}
    )


def answer(
    request: Any, context: Any, listing: Listing, items: list, after: Any, **more: Any
) -> dict:
    """What every listing answers: its items, its parameters and the cursor
    of the next page (None on the last)."""
    next_cursor = (
        None if after is None else encode_cursor(request, listing.order_by, after)
    )
    return {
        "type": type_name(context),
        "name": context.__name__,
        "title": context.title,
        "url": request.resource_url(context),
        "items": items,
        "limit": listing.limit,
        "order_by": listing.order_by,
        "next_cursor": next_cursor,
        **more,
    }


def html_links(request: Any, context: Any, listing: Listing, data: dict) -> dict:
    """The links of an HTML page: next, first page, and each order."""
    paged = listing.after is not None or listing.start is not None
    next_cursor = data["next_cursor"]
    return {
        "next_url": None
        if next_cursor is None
        else listing_url(request, context, listing, cursor=next_cursor),
        "first_url": listing_url(request, context, listing) if paged else None,
        "order_url": lambda order_by: listing_url(
            request, context, listing, order_by=order_by
        ),
    }


def type_name(obj: Any) -> str:
    return type(obj).__name__.lower()


# The generic folder listing

FOLDER_ORDERS = Orders({"name": parse_text}, default="name")


@view_defaults(context=IFolder, permission=ADMIN_BROWSE)
class FolderViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def listing(self) -> tuple[Listing, dict]:
        listing = parse_listing(self.request, FOLDER_ORDERS)
        start = listing.start
        if start is not None and listing.descending:
            # "m" begins at the last name that starts with "m".
            start += HIGH
        keys = walk(self.context.trees, listing.descending, listing.after, start)
        names, after = page_of(keys, listing.limit)
        items = [self._item(name) for name in names]
        data = answer(
            self.request,
            self.context,
            listing,
            items,
            after,
            length=len(self.context),
        )
        return listing, data

    def _item(self, name: str) -> dict:
        item = self.context[name]
        return {
            "name": name,
            "type": type_name(item),
            "url": self.request.resource_url(item),
        }

    @view_config(renderer="wingapp:templates/site/folder.pt")
    def html(self) -> dict:
        listing, data = self.listing()
        data.update(html_links(self.request, self.context, listing, data))
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()[1]
