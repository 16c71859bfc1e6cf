"""The reports' endpoints in ``/openapi.json``: the weeks that have a
report, and a week's report as JSON (the page, or the download)."""

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
from .views import WEEK_ORDERS

WEEK = path_parameter(
    "week", "An ISO week, like 2026-W48.", pattern="^[0-9]{4}-W[0-9]{2}$"
)
REPORT_SCHEMA = {
    "type": "object",
    "required": ["week", "title", "start", "end", "summary"],
    "properties": {
        "week": {"type": "string"},
        "title": {"type": "string"},
        "start": {"type": "string"},
        "end": {"type": "string"},
        "live": {"type": "boolean"},
        "summary": {"type": ["array", "object"]},
        "hours": {"type": "array"},
        "failed_by_day": {"type": "array"},
        "networks": {"type": "object"},
        "browsers": {"type": "array"},
    },
}


def report(summary: str, html: bool) -> dict[str, Any]:
    return {
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": [WEEK],
        "responses": answers(
            303, 401, 403, 404, _200=json_answer(summary, REPORT_SCHEMA, html=html)
        ),
    }


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        ("/reports/", "get"): {
            "summary": "The weeks that have a report, newest first",
            "security": SIGNED_IN,
            "parameters": listing_parameters(WEEK_ORDERS.starts),
            "responses": answers(
                303,
                400,
                401,
                403,
                _200=json_answer("A page of weeks", LISTING_SCHEMA, html=True),
            ),
        },
        ("/reports/{week}", "get"): report("A week's report", html=True),
        ("/reports/{week}/report.json", "get"): report(
            "A week's report, as a file to download", html=False
        ),
    }


def includeme(config: Any) -> None:
    config.add_api_operations(operations())
