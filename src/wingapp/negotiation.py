"""Content negotiation: JSON only for clients that ask for it first.

Pyramid's own ``accept`` predicate matches when there is no Accept header
at all, which would hand browsers and bare ``curl`` JSON. This predicate
matches only when JSON is preferred to HTML.

A page drawn only in HTML does not answer a client that prefers JSON with
HTML it cannot read: the :func:`html_only_tween_factory` turns that answer
into a 406 that says what the page offers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyramid.response import Response
from pyramid.tweens import EXCVIEW, INGRESS

OFFERS = ["text/html", "application/json"]
HTML = "text/html"


def wants_json(request: Any) -> bool:
    if "Accept" not in request.headers:
        return False
    # acceptable_offers sorts by quality and keeps our order among equals,
    # so "*/*" still means HTML.
    offers = request.accept.acceptable_offers(OFFERS)
    return bool(offers) and offers[0][0] == "application/json"


class WantsJSONPredicate:
    def __init__(self, value: bool, config: Any) -> None:
        self.value = bool(value)

    def text(self) -> str:
        return f"json = {self.value}"

    phash = text

    def __call__(self, context: Any, request: Any) -> bool:
        return wants_json(request) == self.value


def not_acceptable(offers: list[str]) -> Response:
    """A 406 in JSON, like every error a JSON client gets, naming what the
    page does offer."""
    return Response(
        status=406,
        json_body={
            "error": "Not acceptable",
            "status": 406,
            "message": "This page is offered only as "
            + ", ".join(offers)
            + ": ask for that in the Accept header.",
            "offers": offers,
        },
    )


def html_only_tween_factory(
    handler: Callable[[Any], Any], registry: Any
) -> Callable[[Any], Any]:
    """A successful HTML page asked for as JSON becomes a 406. Errors are
    JSON for such clients already, and redirects stay redirects."""

    def html_only(request: Any) -> Any:
        response = handler(request)
        if (
            200 <= response.status_int < 300
            and response.content_type == HTML
            and wants_json(request)
        ):
            return not_acceptable([HTML])
        return response

    return html_only


def includeme(config) -> None:
    config.add_view_predicate("json", WantsJSONPredicate)
    # Beneath the transaction's tween, so that its veto sees the 406 and
    # nothing the page would have done is committed; above the exception
    # views, which draw error pages.
    config.add_tween(
        "wingapp.negotiation.html_only_tween_factory",
        under=("pyramid_tm.tm_tween_factory", INGRESS),
        over=EXCVIEW,
    )
