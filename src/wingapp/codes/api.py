"""The codes' endpoints in ``/openapi.json``: the admin's listing and each
code's metadata (never the code: only its keyed hash is kept)."""

from __future__ import annotations

from typing import Any

from ..openapi import (
    LISTING_SCHEMA,
    SIGNED_IN,
    answers,
    json_answer,
    listing_parameters,
    path_parameter,
)
from .models import PURPOSES, STATES
from .views import FILTERS, ORDERS

CODE_SCHEMA = {
    "type": "object",
    "required": ["type", "name", "url", "purpose", "state"],
    "properties": {
        "type": {"const": "code"},
        "name": {"type": "string"},
        "url": {"type": "string"},
        "purpose": {"enum": list(PURPOSES)},
        "owner": {"type": "string"},
        "created": {"type": "string"},
        "expires": {"type": "string"},
        "attempts": {"type": "integer"},
        "state": {"enum": list(STATES)},
    },
}


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    choices = {"state": STATES, "purpose": PURPOSES}
    return {
        ("/codes/", "get"): {
            "summary": "The codes, newest expiry first, a page at a time",
            "security": SIGNED_IN,
            "parameters": listing_parameters(
                ORDERS.starts, {name: choices[name] for name in FILTERS}
            ),
            "responses": answers(
                303,
                400,
                401,
                403,
                _200=json_answer("A page of codes", LISTING_SCHEMA, html=True),
            ),
        },
        ("/codes/{code}", "get"): {
            "summary": "One code's metadata",
            "security": SIGNED_IN,
            "parameters": [path_parameter("code", "The code's id in the listing.")],
            "responses": answers(
                303,
                401,
                403,
                404,
                _200=json_answer("The code", CODE_SCHEMA, html=True),
            ),
        },
    }


def includeme(config: Any) -> None:
    config.add_api_operations(operations())
