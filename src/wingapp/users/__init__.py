"""User accounts: registration, sign-in, sessions, passwords, trust."""

from __future__ import annotations

from .backoff import Backoff
from .identity import current_sign_in, signed_in_user
from .passwords import PasswordHasher
from .sessions import SessionService, Timeouts
from .trust import TrustService


def includeme(config) -> None:
    registry = config.registry
    settings = registry.settings
    registry.password_hasher = PasswordHasher.from_settings(settings)
    registry.timeouts = Timeouts.from_settings(settings)
    registry.session_service = SessionService(
        registry.keyring, registry.timeouts, lambda: registry.clock()
    )
    registry.backoff = Backoff.from_settings(settings)
    registry.trust_service = TrustService(
        registry.keyring,
        lambda: registry.clock(),
        settings.get("auth.two_step", "new_ip_or_device"),
    )
    config.add_request_method(current_sign_in, "sign_in", reify=True)
    config.add_request_method(signed_in_user, "signed_in_user", reify=True)
    config.scan(".")
