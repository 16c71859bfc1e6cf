"""CSV that a spreadsheet opens safely, for every download the site offers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

# A spreadsheet runs a cell that starts with one of these as a formula; an
# export puts an apostrophe before it, and the import takes that off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def for_spreadsheet(text: str) -> str:
    """``text`` made inert for a spreadsheet (OWASP's advice on CSV
    injection): an address may start with "=", and whoever registers one
    should not run a formula on the machine of the admin who exports it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def from_spreadsheet(text: str) -> str:
    return text[1:] if text[:1] == "'" and text[1:].startswith(FORMULA_STARTS) else text


def csv_line(values: Iterable[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(values)
    return out.getvalue()
