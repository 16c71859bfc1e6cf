"""The network around an address: how the trusted places and the reports
group the addresses people come from."""

from __future__ import annotations

import ipaddress


def network_of(ip: str | None, ipv6_prefix: int = 64) -> str | None:
    """The /24 around an IPv4 address, or the /``ipv6_prefix`` around an
    IPv6 one; None for anything that is not an address."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return None
    prefix = 24 if address.version == 4 else ipv6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
