"""Reports built from the event log."""


def includeme(config):
    config.scan(".")
