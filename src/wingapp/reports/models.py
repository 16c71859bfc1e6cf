"""The reports container."""

from __future__ import annotations

from zope.interface import implementer

from ..folder import Folder
from ..interfaces import IReports


@implementer(IReports)
class Reports(Folder):
    """Stored reports."""
