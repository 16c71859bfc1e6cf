"""Reports built from the event log."""

from .models import Reports


def includeme(config):
    config.add_container("reports", Reports, "Reports", order=30)
    config.scan(".")
