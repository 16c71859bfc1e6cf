"""Weekly security reports, counted from the event log as it records."""

from ..events import IEntryRecorded
from .counting import entry_recorded
from .models import Reports


def spread_active(root) -> None:
    root["reports"].spread_active()


def includeme(config):
    config.add_container("reports", Reports, "Reports", order=30)
    config.add_subscriber(entry_recorded, IEntryRecorded)
    config.add_evolve_step(
        12, "spread each live week's active logins over sets", spread_active
    )
    config.include(".views")
    config.include(".api")
    config.scan(".")
