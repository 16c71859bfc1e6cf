"""A JSON renderer on orjson, several times faster than the stdlib's."""

from __future__ import annotations

from typing import Any

import orjson

OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def json_renderer_factory(info: Any):
    def render(value: Any, system: dict) -> bytes:
        request = system.get("request")
        if request is not None:
            response = request.response
            if response.content_type == response.default_content_type:
                response.content_type = "application/json"
        return orjson.dumps(value, option=OPTIONS)

    return render


def includeme(config) -> None:
    config.add_renderer("json", json_renderer_factory)
