"""The OpenAPI 3.1 document at ``/openapi.json``.

The core knows no path of any domain: each package describes its own
endpoints from its ``includeme`` with ``config.add_api_operation(path,
method, operation)``, and the view puts together what was registered.
A form's body is derived from its colander schema (:func:`form_body`), so
the document says what the form really takes.

Traversal has no URL patterns: each path is a template of the resource
tree (``/users/{login}/password``), a view name after the resource.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import version
from typing import Any

import colander
from zope.interface import Interface

from .interfaces import IRoot
from .permissions import VIEW
from .sessions import SESSION_COOKIE

OPENAPI_VERSION = "3.1.0"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HTML = "text/html"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

Operation = dict[str, Any] | Callable[[], dict[str, Any]]


class IApiOperations(Interface):
    """The registered operations, a dict (path, method) -> operation (or a
    callable that makes it when the document is drawn)."""


def add_api_operation(
    config: Any, path: str, method: str, operation: Operation
) -> None:
    """Describe what ``method`` on ``path`` takes and answers."""
    method = method.lower()

    def register() -> None:
        found = config.registry.queryUtility(IApiOperations)
        if found is None:
            found = {}
            config.registry.registerUtility(found, IApiOperations)
        found[(path, method)] = operation

    # Two packages describing one operation is a configuration conflict.
    config.action(("wingapp:api-operation", path, method), register)


def add_api_operations(
    config: Any, described: dict[tuple[str, str], Operation]
) -> None:
    """Describe a package's operations at once: (path, method) -> operation."""
    for (path, method), operation in described.items():
        add_api_operation(config, path, method, operation)


def operations(registry: Any) -> dict[tuple[str, str], dict[str, Any]]:
    found = registry.queryUtility(IApiOperations) or {}
    return {
        key: operation() if callable(operation) else operation
        for key, operation in sorted(found.items())
    }


# --- JSON Schema from colander ---


def _constraints(validator: Any) -> dict[str, Any]:
    """What JSON Schema can say of a colander validator. Others (account
    rules, a deferred check) stay the server's: the 400 says what failed."""
    if isinstance(validator, colander.All):
        merged: dict[str, Any] = {}
        for each in validator.validators:
            merged.update(_constraints(each))
        return merged
    if isinstance(validator, colander.Length):
        limits = {"minLength": validator.min, "maxLength": validator.max}
        return {k: v for k, v in limits.items() if v is not None}
    if isinstance(validator, colander.Regex):
        return {"pattern": validator.match_object.pattern}
    if isinstance(validator, colander.OneOf):
        return {"enum": list(validator.choices)}
    return {}


def _item_limits(constraints: dict[str, Any]) -> dict[str, Any]:
    # A Length on a list counts its items.
    names = {"minLength": "minItems", "maxLength": "maxItems"}
    return {names.get(k, k): v for k, v in constraints.items()}


def schema_of(node: Any) -> dict[str, Any]:
    """A colander node as JSON Schema, as a form sends it: every value is
    text, a Set or Sequence is a field repeated."""
    typ = node.typ
    found: dict[str, Any]
    if isinstance(typ, colander.Mapping):
        return {
            "type": "object",
            "properties": {child.name: schema_of(child) for child in node.children},
            # A deferred "missing" is decided per request (the admin's
            # password only after an old sign-in): not required here.
            "required": [
                child.name
                for child in node.children
                if child.required and not isinstance(child.missing, colander.deferred)
            ],
        }
    if isinstance(typ, colander.Set):
        found = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
        found.update(_item_limits(_constraints(node.validator)))
    elif isinstance(typ, colander.Sequence):
        found = {"type": "array", "items": schema_of(node.children[0])}
        found.update(_item_limits(_constraints(node.validator)))
    elif isinstance(typ, colander.Int):
        # Digits in a form field; the view checks the range.
        found = {"type": "string", "pattern": "^[0-9]{1,19}$"}
    elif isinstance(typ, colander.Boolean):
        # A ticked box; colander reads "", "false" and "0" as no.
        found = {"type": "string", "examples": ["true", "false"]}
    else:
        found = {"type": "string", **_constraints(node.validator)}
    if node.title:
        found["title"] = str(node.title)
    return found


def form_schema(
    schema: Any = None,
    extra: dict[str, dict[str, Any]] | None = None,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The fields of a form: its colander schema's, ``extra`` ones a view
    reads itself, and the CSRF token every post carries."""
    found: dict[str, Any] = (
        schema_of(schema)
        if schema is not None
        else {"type": "object", "properties": {}, "required": []}
    )
    found["properties"].update(extra or {})
    found["properties"][CSRF_FIELD] = {
        "type": "string",
        "description": "The token from the session, as on the page's form.",
    }
    found["required"] = [*found["required"], *required, CSRF_FIELD]
    return found


def form_body(
    schema: Any = None,
    extra: dict[str, dict[str, Any]] | None = None,
    required: Iterable[str] = (),
    media_type: str = FORM,
) -> dict[str, Any]:
    return {
        "required": True,
        "content": {media_type: {"schema": form_schema(schema, extra, required)}},
    }


# --- Answers ---


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def json_answer(
    description: str, schema: dict[str, Any] | None = None, html: bool = False
) -> dict[str, Any]:
    """A 2xx in JSON (and the same page in HTML when ``html``)."""
    content: dict[str, Any] = {JSON: {"schema": schema or {"type": "object"}}}
    if html:
        content[HTML] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def page(description: str) -> dict[str, Any]:
    """A page in the layout."""
    return {
        "description": description,
        "content": {HTML: {"schema": {"type": "string"}}},
    }


def answers(*statuses: int, **described: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Responses: the shared ones by status (see :data:`SHARED`), and
    ``described`` ones by status written as ``_200=...``."""
    found = {str(status): ref("responses", SHARED[status][0]) for status in statuses}
    found.update({name.lstrip("_"): value for name, value in described.items()})
    return dict(sorted(found.items()))


def path_parameter(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def query_parameter(
    name: str, description: str, required: bool = False, **schema: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def listing_parameters(
    orders: Iterable[str], filters: dict[str, Iterable[str] | None] | None = None
) -> list[dict[str, Any]]:
    """The query of a listing (see :mod:`wingapp.views.folder`): its
    paging, its sort orders, and its filters, by their choices when they
    have a fixed set (empty is any) and as free text when None."""
    orders = list(orders)
    found = [
        query_parameter(
            "limit", "Items per page, 1 to 500 (default 50).", pattern="^[0-9]{1,3}$"
        ),
        query_parameter(
            "order_by",
            "The key to sort by; a leading - sorts descending.",
            enum=[*orders, *(f"-{name}" for name in orders)],
        ),
        query_parameter("cursor", "The next_cursor of the previous page."),
        query_parameter("start", "A value of the sort key to begin at."),
    ]
    for name, choices in (filters or {}).items():
        schema = {} if choices is None else {"enum": ["", *choices]}
        found.append(query_parameter(name, f"Only these: by {name}.", **schema))
    return found


LISTING_SCHEMA = {
    "type": "object",
    "required": ["type", "name", "url", "items", "limit", "order_by", "next_cursor"],
    "properties": {
        "type": {"type": "string"},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "url": {"type": "string"},
        "items": {"type": "array", "items": {"type": "object"}},
        "limit": {"type": "integer"},
        "order_by": {"type": "string"},
        "next_cursor": {"type": ["string", "null"]},
    },
}


def csrf_header() -> dict[str, Any]:
    """The CSRF token of a post whose body is not a form."""
    return {
        "name": CSRF_HEADER,
        "in": "header",
        "required": True,
        "description": "The token from the session, as the page's script sends it.",
        "schema": {"type": "string"},
    }


SIGNED_IN = [{"session": []}]
"""An operation's ``security``: the session cookie of a signed-in account."""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "status", "message"],
    "properties": {
        "error": {"type": "string", "description": "A short title."},
        "status": {"type": "integer"},
        "message": {"type": "string", "description": "What to do about it."},
        "parameter": {"type": "string", "description": "The query parameter at fault."},
        "allowed": {"type": "string", "description": "What that parameter takes."},
        "offers": {"type": "array", "items": {"type": "string"}},
    },
}

SHARED: dict[int, tuple[str, str]] = {
    303: ("SeeOther", "Done, or sign in first: go to the Location."),
    400: (
        "BadRequest",
        "The request was refused (a missing or expired CSRF token, a form "
        "with errors, a bad parameter): the page or JSON says what to fix. "
        "Nothing was changed.",
    ),
    401: ("Unauthorized", "Sign in first (a client that asked for JSON)."),
    403: ("Forbidden", "The signed-in account may not do this."),
    404: ("NotFound", "There is nothing at this address."),
    406: ("NotAcceptable", "The page is offered only in the types it names."),
    429: ("TooManyRequests", "Wait before asking for a new code."),
    503: ("ServiceUnavailable", "Too busy right now; try again (Retry-After)."),
}


def _shared_response(status: int, description: str) -> dict[str, Any]:
    if status == 303:
        return {
            "description": description,
            "headers": {
                "Location": {
                    "description": "Where to go next.",
                    "schema": {"type": "string"},
                }
            },
        }
    return {
        "description": description,
        "content": {
            JSON: {"schema": ref("schemas", "Error")},
            HTML: {"schema": {"type": "string"}},
        },
    }


def document(request: Any) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), operation in operations(request.registry).items():
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "wingapp",
            "version": version("wingapp"),
            "description": (
                "Accounts, one-time codes, administration and weekly reports. "
                "Every JSON answer is asked for with Accept: application/json; "
                "every form post carries the session's CSRF token."
            ),
        },
        "servers": [{"url": request.application_url}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "responses": {
                name: _shared_response(status, description)
                for status, (name, description) in SHARED.items()
            },
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}
            },
        },
    }


def openapi_view(context: Any, request: Any) -> dict[str, Any]:
    return document(request)


def includeme(config: Any) -> None:
    config.add_directive("add_api_operation", add_api_operation)
    config.add_directive("add_api_operations", add_api_operations)
    config.add_view(
        openapi_view,
        context=IRoot,
        name="openapi.json",
        request_method="GET",
        permission=VIEW,
        renderer="json",
    )
    config.add_api_operation(
        "/openapi.json",
        "get",
        {
            "summary": "This document",
            "operationId": "openapi",
            "responses": answers(
                _200=json_answer(
                    "The OpenAPI 3.1 document",
                    {"type": "object", "required": ["openapi", "info", "paths"]},
                )
            ),
        },
    )
