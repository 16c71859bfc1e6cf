"""One-time verification codes: making, issuing, checking, sweeping, browsing."""

from .settings import CodeSettings


def includeme(config):
    # Read the settings once at start-up so a bad value stops the app there,
    # not at the first sign-in.
    config.registry.code_settings = CodeSettings.from_settings(config.registry.settings)
    config.scan(".")
