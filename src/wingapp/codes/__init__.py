"""One-time verification codes."""


def includeme(config):
    config.scan(".")
