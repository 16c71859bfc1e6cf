"""The codes container."""

from __future__ import annotations

from zope.interface import implementer

from ..folder import Folder
from ..interfaces import ICodes


@implementer(ICodes)
class Codes(Folder):
    """One-time codes, each held under a random id."""
