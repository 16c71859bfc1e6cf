"""Where an account has signed in before: trusted devices and networks.

A device is a browser holding our long-lived, signed device cookie; a
network is the /24 (IPv4) or /64 (IPv6) around the address. Both are kept
as keyed hashes, with the readable label encrypted, so the database never
holds an IP address in the clear.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from BTrees.OOBTree import OOBTree
from persistent import Persistent

from ..networks import network_of


class Trusted(Persistent):
    def __init__(self, created: datetime, label_token: bytes | None) -> None:
        self.created = created
        self.last_used = created
        self.label_token = label_token


class TrustService:
    def __init__(self, keyring: Any, now: Callable[[], datetime], mode: str) -> None:
        self.keyring = keyring
        self.now = now
        # Checked with the other settings at start-up (users.settings).
        self.mode = mode

    def device_key(self, device_id: str) -> str:
        return self.keyring.mac("device", device_id)

    def network_key(self, network: str) -> str:
        return self.keyring.mac("network", network)

    def knows_device(self, user: Any, device_id: str | None) -> bool:
        return bool(device_id) and self.device_key(device_id) in user.trusted_devices

    def knows_network(self, user: Any, ip: str | None) -> bool:
        network = network_of(ip)
        return (
            network is not None and self.network_key(network) in user.trusted_networks
        )

    def code_reason(
        self, user: Any, device_id: str | None, ip: str | None
    ) -> str | None:
        """Why signing in from here needs an emailed code: "always" (the
        site asks every time), "device", "network" or "both" (not used
        before); None when it needs none."""
        if self.mode == "never":
            return None
        if self.mode == "always":
            return "always"
        new_ip = not self.knows_network(user, ip)
        new_device = not self.knows_device(user, device_id)
        if self.mode == "new_ip":
            return "network" if new_ip else None
        if self.mode == "new_device":
            return "device" if new_device else None
        if new_ip and new_device:
            return "both"
        return "network" if new_ip else "device" if new_device else None

    def forget_all(self, user: Any) -> tuple[int, int]:
        """Forget every trusted browser and network of ``user``; return how
        many of each there were. New trees rather than deletes, as
        SessionService.end_all does: a sign-in trusting a place at the same
        moment writes the old tree, which nothing reaches any more."""
        forgotten = len(user.trusted_devices), len(user.trusted_networks)
        user.trusted_devices = OOBTree()
        user.trusted_networks = OOBTree()
        return forgotten

    def trust(
        self, user: Any, device_id: str, ip: str | None, agent: str | None
    ) -> tuple[bool, bool]:
        """Remember this device and network for ``user``; say which of the
        two were new."""
        now = self.now()
        encrypt = self.keyring.encrypt
        new_device = new_network = False
        key = self.device_key(device_id)
        if key not in user.trusted_devices:
            user.trusted_devices[key] = Trusted(now, encrypt(agent) if agent else None)
            new_device = True
        network = network_of(ip)
        if network is not None:
            key = self.network_key(network)
            if key not in user.trusted_networks:
                user.trusted_networks[key] = Trusted(now, encrypt(network))
                new_network = True
        return new_device, new_network

    def revoke(self, user: Any, key: str) -> bool:
        for records in (user.trusted_devices, user.trusted_networks):
            if key in records:
                del records[key]
                return True
        return False
