"""Weekly security reports, counted from the event log as it records."""

from ..events import IEntryRecorded
from .counting import entry_recorded
from .models import Reports


def includeme(config):
    config.add_container("reports", Reports, "Reports", order=30)
    config.add_subscriber(entry_recorded, IEntryRecorded)
    config.include(".views")
    config.include(".api")
    config.scan(".")
