"""The site's public address, and the host names it answers to.

A link in a mail outlives the request that sent it and is followed from
somewhere else, so it is made from ``wingapp.public_url``, the address the
operator configured, never from the request's Host header, which whoever
sends the request chooses. Links in pages may follow the request, since
they go back to the browser that asked; a request naming a host this site
does not answer to (``wingapp.allowed_hosts``) is refused with a 400 before
any view runs, so no page, redirect or mail is ever made for it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .settings import Setting, SettingsError, group, setting
from .views.errors import refused_before_routing

PUBLIC_URL = "wingapp.public_url"
ALLOWED_HOSTS = "wingapp.allowed_hosts"

# A DNS name or an IPv4 address (letters, digits, dots, hyphens; an
# underscore shows up in some internal names), or an IPv6 address in brackets.
HOST_NAME = re.compile(r"[a-z0-9_.-]+|\[[0-9a-f:.]+\]")


def host_name(host: str) -> str | None:
    """The lower-case name in a Host header or an address's netloc,
    without its port or trailing dot; None when it is not a host name."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host.partition("]")
        name += bracket
    else:
        name, _, rest = host.partition(":")
        rest = ":" + rest if rest else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    name = name.rstrip(".") if not name.startswith("[") else name
    return name if name and HOST_NAME.fullmatch(name) else None


class PublicURL(Setting):
    """An http or https address with a host, and perhaps a path under
    which the site is mounted; no query, fragment or user name."""

    def __init__(self) -> None:
        super().__init__(
            "the address people use to reach this site, such as "
            "https://accounts.example.org"
        )

    def parse(self, node: Any, text: str) -> str:
        parts = urlsplit(text)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or host_name(parts.netloc) is None
            or parts.query
            or parts.fragment
            or "@" in parts.netloc
        ):
            raise self.refuse(node, text)
        return text.rstrip("/")


class HostNames(Setting):
    """Host names separated by spaces or commas: ``example.org``, or
    ``.example.org`` for it and every name under it, or ``*`` for any."""

    def __init__(self) -> None:
        super().__init__(
            "host names separated by spaces (.example.org for a domain and "
            "its subdomains, * for any)"
        )

    def parse(self, node: Any, text: str) -> tuple[str, ...]:
        names = tuple(text.lower().replace(",", " ").split())
        for name in names:
            if name != "*" and host_name(name.removeprefix(".")) is None:
                raise self.refuse(node, name)
        return names


SITE = group(
    "site",
    # No default: links in mail must never point at a guessed address.
    setting(PUBLIC_URL, PublicURL(), None),
    # Blank: the public address's own host name.
    setting(ALLOWED_HOSTS, HostNames(), ()),
)


def allows(patterns: tuple[str, ...], name: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or name == pattern:
            return True
        if pattern.startswith(".") and (name == pattern[1:] or name.endswith(pattern)):
            return True
    return False


def public_url(request: Any, *elements: str, query: dict | None = None) -> str:
    """The public address of a page under the site's root: for a link in a
    mail, made from the configured address whatever host was asked."""
    base = request.registry.settings[PUBLIC_URL]
    path = "/".join(quote(element, safe="") for element in elements)
    url = f"{base}/{path}"
    return f"{url}?{urlencode(query)}" if query else url


def allowed_host_tween_factory(handler: Any, registry: Any) -> Any:
    patterns = registry.settings[ALLOWED_HOSTS]

    def allowed_host(request: Any) -> Any:
        name = host_name(request.host)
        if name is not None and allows(patterns, name):
            return handler(request)
        return refused_before_routing(
            request, "This site does not answer to the host name this request gave."
        )

    return allowed_host


def includeme(config: Any) -> None:
    values = config.add_settings_schema(SITE)
    public = values[PUBLIC_URL]
    if public is None:
        raise SettingsError(
            [
                f"{PUBLIC_URL} is not set: give the address people use to reach "
                "this site, such as https://accounts.example.org (links in mail "
                "are made from it)."
            ]
        )
    allowed = values[ALLOWED_HOSTS] or (host_name(urlsplit(public).netloc),)
    config.registry.settings[PUBLIC_URL] = public
    config.registry.settings[ALLOWED_HOSTS] = allowed
    config.add_request_method(public_url, "public_url")
    # Outermost of the app's own tweens, inside the transaction (which the
    # 400 aborts): nothing below it sees a request for another host.
    config.add_tween(
        "wingapp.hosts.allowed_host_tween_factory",
        under="pyramid_tm.tm_tween_factory",
        over="wingapp.requests.sane_request_tween_factory",
    )
