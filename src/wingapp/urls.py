"""Redirect targets: only paths on this site, never another host."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

# Characters a path or query may hold as they are; '%' among them, so a
# target that is already percent-encoded stays as it was.
URL_SAFE = "/?#[]@!$&'()*+,;=:%-._~"


def safe_next(request: Any, target: str | None) -> str | None:
    """``target`` as an absolute URL on this site, or None if it is not a
    plain local path (no scheme, no host, no '//' or backslash tricks)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # A path that starts with one '/' has neither scheme nor host, and
    # browsers read a backslash as a slash, so '/\\host' is refused too.
    if "\\" in target or not target.isprintable() or len(target) > 2000:
        return None
    # Mounted under a prefix (SCRIPT_NAME), stay inside it.
    prefix = request.script_name
    if prefix and target != prefix and not target.startswith(prefix + "/"):
        return None
    # A header is Latin-1 at most, and a Location must be ASCII: '/€' (as a
    # browser decodes it from next=%E2%82%AC) goes back to its UTF-8 escapes.
    return request.host_url + quote(target, safe=URL_SAFE)
