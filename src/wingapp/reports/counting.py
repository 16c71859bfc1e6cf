"""Counting each event into its week's report as the log records it."""

from __future__ import annotations

from typing import Any

from ..agents import browser_family
from ..interfaces import IKeyring
from ..networks import network_of


def source_network(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) around ``ip``: the reports group
    sources by the block one provider gives one customer."""
    return network_of(ip, ipv6_prefix=48)


def count_entry(
    reports: Any, entry: Any, ip: str | None, agent: str | None, keyring: Any
) -> bool:
    """Count the log ``entry``, recorded from ``ip`` by ``agent``, into
    its week's report; False if that week is frozen already."""
    network = source_network(ip)
    return reports.for_time(entry.time).count(
        entry,
        browser=browser_family(agent),
        network_key=keyring.mac("report-network", network) if network else None,
        new_device=entry.detail.get("device") == "new",
    )


def entry_recorded(event: Any) -> None:
    """Subscribed to every entry the event log records."""
    request = event.request
    count_entry(
        request.root["reports"],
        event.entry,
        request.client_addr,
        request.user_agent,
        request.find_service(IKeyring),
    )
