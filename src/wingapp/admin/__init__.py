"""Administration of accounts: the users listing, each user's admin page,
bulk actions, imports and exports, and the audit trail."""

from __future__ import annotations

from .interfaces import IAdminService
from .services import AdminService


def includeme(config) -> None:
    config.register_service_factory(AdminService.factory, IAdminService)
    config.include(".api")
    config.scan(".")
