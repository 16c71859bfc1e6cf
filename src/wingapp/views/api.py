"""The site's own endpoint in ``/openapi.json``: the root, whose JSON
lists the containers to an admin."""

from __future__ import annotations

from typing import Any

from ..openapi import answers, json_answer

ROOT_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "url"],
    "properties": {
        "type": {"const": "root"},
        "title": {"type": "string"},
        "url": {"type": "string"},
        "generation": {"type": "integer", "description": "Admins only."},
        "containers": {
            "type": "array",
            "items": {"type": "object"},
            "description": "Admins only.",
        },
    },
}


def includeme(config: Any) -> None:
    config.add_api_operation(
        "/",
        "get",
        {
            "summary": "The site",
            "responses": answers(
                _200=json_answer(
                    "The site and, for an admin, its containers", ROOT_SCHEMA, html=True
                )
            ),
        },
    )
