"""Browsers as people know them, read from User-Agent strings with
ua-parser: "Firefox 130 on Linux" on pages and in mails, "Firefox" in the
reports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ua_parser import parse as parse_agent

UNKNOWN = "unknown"
OTHER = "Other"
"""What ua-parser calls a browser or system it does not know."""
SHORT_AGENT = 60


@functools.lru_cache(maxsize=4096)
def browser_label(agent: str | None, parse: Callable[[str], Any] = parse_agent) -> str:
    """A browser as a person knows it ("Firefox 130 on Linux": family,
    major version, system) when ua-parser recognises it, else the start of
    what it said it was. Kept once worked out: a user's page labels every
    session and device at each view, and parsing them was a tenth of the
    page's time; people use few distinct browsers."""
    if not agent:
        return UNKNOWN
    found = parse(agent).with_defaults()
    browser, system = found.user_agent.family, found.os.family
    if browser != OTHER:
        # Two sessions of one browser on one system differ by version
        # often enough to tell apart; the minor version rarely does.
        if found.user_agent.major:
            browser = f"{browser} {found.user_agent.major}"
        return browser if system == OTHER else f"{browser} on {system}"
    flat = " ".join(agent.split())
    return flat if len(flat) <= SHORT_AGENT else flat[: SHORT_AGENT - 1] + "…"


@functools.lru_cache(maxsize=4096)
def browser_family(agent: str | None) -> str:
    """ "Firefox", "Chrome Mobile", "curl"...: what ua-parser calls the
    browser, without its version. A crowd sends few distinct agents, so
    each is parsed once."""
    if not agent:
        return UNKNOWN
    family = parse_agent(agent).with_defaults().user_agent.family
    return UNKNOWN if family == OTHER else family
