"""The application's clock, a service so that tests can set the time."""

from __future__ import annotations

from datetime import UTC, datetime

from .interfaces import IClock


def utcnow() -> datetime:
    return datetime.now(UTC)


def includeme(config) -> None:
    config.register_service(utcnow, IClock)
