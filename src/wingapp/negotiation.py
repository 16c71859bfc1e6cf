"""Content negotiation: JSON only for clients that ask for it first.

Pyramid's own ``accept`` predicate matches when there is no Accept header
at all, which would hand browsers and bare ``curl`` JSON. This predicate
matches only when JSON is preferred to HTML.
"""

from __future__ import annotations

from typing import Any

OFFERS = ["text/html", "application/json"]


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


def includeme(config) -> None:
    config.add_view_predicate("json", WantsJSONPredicate)
