"""User accounts: models, services, forms and views."""

from .passwords import PasswordHasher


def includeme(config):
    config.registry.password_hasher = PasswordHasher.from_settings(
        config.registry.settings
    )
    config.scan(".")
