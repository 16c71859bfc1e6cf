"""Charts for the weekly security report, drawn on the server as inline SVG.

The page's CSP is ``style-src 'self'`` and the same page goes through
weasyprint, so the markup uses presentation attributes only (no style, no
script, no link) and keeps to rect, line, polyline, circle, text, title and
desc. Each chart carries a text alternative in its ``<desc>``, and every
number is also written as text, so neither a screen reader nor a greyscale
printout depends on color.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Iterator, Sequence

WIDTH = 600
FONT_SIZE = 12
TEXT_COLOR = "#1b1b1b"
AXIS_COLOR = "#5f6368"
GRID_COLOR = "#c4c9d2"
BAR_COLOR = "#1f5fbf"
LINE_COLOR = "#b3261e"
# Grey for nothing, then blues evenly spaced in lightness so the steps stay
# apart when printed in greyscale.
HEAT_STEPS = ("#eef0f4", "#b4c8e6", "#7a9fd6", "#4374bb", "#174a96")
BAR_LABEL_CHARS = 28
X_LABEL_CHARS = 16
ROW_LABEL_CHARS = 12
COLUMN_LABEL_CHARS = 8
HEAT_LABEL_EVERY = 3

ELLIPSIS = "\u2026"
EN_DASH = "\u2013"

_SAFE_ID = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# XML 1.0 refuses these even as character references, and labels are user
# data (browser names), so one stray byte must not break the whole page.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Rough width of one character of a sans-serif font, in font-size units; only
# used to keep labels apart, never to place them exactly.
_CHAR_WIDTH = 0.6


class SVG(str):
    """SVG markup, already escaped: Chameleon inserts it as it is."""

    __slots__ = ()

    def __html__(self) -> SVG:
        return self


def bar_chart(
    chart_id: str,
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    values: Sequence[int],
    unit: str = "events",
) -> SVG:
    """Horizontal bars, one row per label, each value written after its bar."""
    _check_series(chart_id, labels, values)
    if not labels:
        return _no_data(chart_id, title, summary)
    row, bar, pad = 24, 16, 8
    label_right, bar_left = 208, 216
    # Room after the longest bar for its value.
    bar_room = WIDTH - bar_left - 72
    top = max(values)
    height = 2 * pad + row * len(labels)
    body = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        middle = pad + row * index + row / 2
        baseline = _baseline(middle)
        width = value / top * bar_room if top else 0.0
        body.append(
            _text(label_right, baseline, _shorten(label, BAR_LABEL_CHARS), "end")
        )
        body.append(
            f'<rect x="{bar_left}" y="{_num(middle - bar / 2)}" '
            f'width="{_num(width)}" height="{bar}" fill="{BAR_COLOR}">'
            f"{_tooltip(label, value, unit)}</rect>"
        )
        body.append(_text(bar_left + width + 6, baseline, f"{value:,}"))
    body.append(_line(bar_left, pad, bar_left, height - pad, AXIS_COLOR))
    desc = _join(summary, _series_words(labels, values, unit))
    return _svg(chart_id, title, desc, height, body)


def line_chart(
    chart_id: str,
    *,
    title: str,
    summary: str,
    labels: Sequence[str],
    values: Sequence[int],
    unit: str = "events",
) -> SVG:
    """Points joined by a line over a baseline at 0, each value above its point."""
    _check_series(chart_id, labels, values)
    if not labels:
        return _no_data(chart_id, title, summary)
    height = 240
    left, right, plot_top, bottom = 64, WIDTH - 16, 32, height - 40
    top = max(values)
    # Each point sits in the middle of its own slot, so one point is centred
    # and there is no division by (count - 1).
    slot = (right - left) / len(labels)
    xs = [left + slot * (index + 0.5) for index in range(len(labels))]
    ys = [bottom - (v / top * (bottom - plot_top) if top else 0.0) for v in values]
    shown = [_shorten(label, X_LABEL_CHARS) for label in labels]
    # Long or many labels would run into each other: write every n-th one.
    widest = max(len(label) for label in shown) * FONT_SIZE * _CHAR_WIDTH + 8
    every = max(1, math.ceil(widest / slot))

    body = [_text(left - 8, _baseline(bottom), "0", "end")]
    if top:
        body.append(_line(left, plot_top, right, plot_top, GRID_COLOR, dashed=True))
        body.append(_text(left - 8, _baseline(plot_top), f"{top:,}", "end"))
    body.append(_line(left, bottom, right, bottom, AXIS_COLOR))
    points = " ".join(f"{_num(x)},{_num(y)}" for x, y in zip(xs, ys, strict=True))
    body.append(
        f'<polyline points="{points}" fill="none" stroke="{LINE_COLOR}" '
        f'stroke-width="2" stroke-linejoin="round"/>'
    )
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x, y = xs[index], ys[index]
        body.append(
            f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{LINE_COLOR}">'
            f"{_tooltip(label, value, unit)}</circle>"
        )
        body.append(_text(x, y - 9, f"{value:,}", "middle"))
        if index % every == 0:
            body.append(_text(x, bottom + 20, shown[index], "middle"))
    desc = _join(summary, _series_words(labels, values, unit))
    return _svg(chart_id, title, desc, height, body)


def heatmap(
    chart_id: str,
    *,
    title: str,
    summary: str,
    rows: Sequence[str],
    columns: Sequence[str],
    grid: Sequence[Sequence[int]],
    unit: str = "events",
) -> SVG:
    """A rows x columns grid of cells, darker for more, with a legend.

    ``grid[row][column]``; columns that are hours ("00" to "23") are named as
    hour ranges in the text alternative.
    """
    _check_id(chart_id)
    if len(grid) != len(rows) or any(len(line) != len(columns) for line in grid):
        raise ValueError(
            f"The grid must have {len(rows)} rows of {len(columns)} counts each."
        )
    _check_counts(count for line in grid for count in line)
    if not rows or not columns:
        return _no_data(chart_id, title, summary)
    left, grid_top, cell_height = 96, 28, 22
    cell_width = (WIDTH - left - 8) / len(columns)
    top = max(max(line) for line in grid)

    body = []
    for column, name in enumerate(columns):
        if column % HEAT_LABEL_EVERY == 0:
            x = left + cell_width * (column + 0.5)
            body.append(
                _text(x, grid_top - 8, _shorten(name, COLUMN_LABEL_CHARS), "middle")
            )
    for row, (day, line) in enumerate(zip(rows, grid, strict=True)):
        y = grid_top + cell_height * row
        body.append(
            _text(
                left - 8,
                _baseline(y + cell_height / 2),
                _shorten(day, ROW_LABEL_CHARS),
                "end",
            )
        )
        for column, count in enumerate(line):
            body.append(
                f'<rect x="{_num(left + cell_width * column + 1)}" '
                f'y="{_num(y + 1)}" width="{_num(cell_width - 2)}" '
                f'height="{cell_height - 2}" '
                f'fill="{HEAT_STEPS[_heat_step(count, top)]}">'
                f"{_tooltip(_cell_name(day, columns[column]), count, unit)}</rect>"
            )
    legend_top = grid_top + cell_height * len(rows) + 14
    body.extend(_legend(left, legend_top, top))
    height = legend_top + 12 + 22
    desc = _join(summary, _heat_words(rows, columns, grid, unit))
    return _svg(chart_id, title, desc, height, body)


def _check_id(chart_id: str) -> None:
    if not _SAFE_ID.fullmatch(chart_id):
        raise ValueError(
            "A chart id is a letter followed by letters, digits and hyphens,"
            f" not {chart_id!r}."
        )


def _check_series(chart_id: str, labels: Sequence[str], values: Sequence[int]) -> None:
    _check_id(chart_id)
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels but {len(values)} values.")
    _check_counts(values)


def _check_counts(counts: Iterable[int]) -> None:
    if any(count < 0 for count in counts):
        raise ValueError("Counts cannot be negative.")


def _heat_step(count: int, top: int) -> int:
    """The color step of a count: 0 for none, the darkest for the largest."""
    if count == 0:
        return 0
    steps = len(HEAT_STEPS) - 1
    # ceil(count * steps / top), in integers so the largest lands exactly on
    # the last step.
    return (count * steps + top - 1) // top


def _legend_steps(top: int) -> Iterator[tuple[int, str]]:
    """Each color step in use with the counts it stands for."""
    yield 0, "0"
    steps = len(HEAT_STEPS) - 1
    for step in range(1, steps + 1):
        low, high = (step - 1) * top // steps + 1, step * top // steps
        # With a small largest count some steps hold no whole number.
        if low > high:
            continue
        yield step, f"{low:,}" if low == high else f"{low:,}{EN_DASH}{high:,}"


def _legend(left: float, top_y: float, top: int) -> Iterator[str]:
    steps = list(_legend_steps(top))
    widest = max(len(words) for _, words in steps)
    pitch = max(40.0, widest * FONT_SIZE * _CHAR_WIDTH + 10)
    swatch, swatch_height = 18, 12
    yield _text(left, _baseline(top_y + swatch_height / 2), "fewer")
    x = left + 48
    for step, words in steps:
        yield (
            f'<rect x="{_num(x + (pitch - swatch) / 2)}" y="{_num(top_y)}" '
            f'width="{swatch}" height="{swatch_height}" fill="{HEAT_STEPS[step]}" '
            f'stroke="{AXIS_COLOR}" stroke-width="0.5"/>'
        )
        yield _text(x + pitch / 2, top_y + swatch_height + 15, words, "middle")
        x += pitch
    yield _text(x + 8, _baseline(top_y + swatch_height / 2), "more")


def _cell_name(row: str, column: str) -> str:
    if column.isascii() and column.isdigit() and int(column) < 24:
        hour = int(column)
        return f"{row} {hour:02d}:00{EN_DASH}{hour + 1:02d}:00"
    return f"{row} {column}"


def _heat_words(
    rows: Sequence[str],
    columns: Sequence[str],
    grid: Sequence[Sequence[int]],
    unit: str,
) -> str:
    counts = [count for line in grid for count in line]
    top = max(counts)
    parts = [f"total: {_amount(sum(counts), unit)}"]
    if top:
        busiest = [
            _cell_name(rows[row], columns[column])
            for row, line in enumerate(grid)
            for column, count in enumerate(line)
            if count == top
        ]
        each = " each" if len(busiest) > 1 else ""
        parts.append(f"busiest: {_listing(busiest)}, {_amount(top, unit)}{each}")
    empty = sum(1 for count in counts if count == 0)
    parts.append(f"{empty:,} of {len(counts):,} cells empty")
    return "; ".join(parts) + "."


def _listing(names: list[str], most: int = 3) -> str:
    """ "A", "A and B", "A, B and C", "A, B, C and 4 more"."""
    if len(names) == 1:
        return names[0]
    if len(names) <= most:
        return ", ".join(names[:-1]) + " and " + names[-1]
    return ", ".join(names[:most]) + f" and {len(names) - most:,} more"


def _series_words(labels: Sequence[str], values: Sequence[int], unit: str) -> str:
    pairs = zip(labels, values, strict=True)
    return "; ".join(f"{label}: {_amount(value, unit)}" for label, value in pairs) + "."


def _no_data(chart_id: str, title: str, summary: str) -> SVG:
    body = [_text(WIDTH / 2, 26, "No data", "middle")]
    return _svg(chart_id, title, _join(summary, "No data."), 40, body)


def _svg(chart_id: str, title: str, desc: str, height: float, body: list[str]) -> SVG:
    return SVG(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc"'
        f' viewBox="0 0 {WIDTH} {_num(height)}" width="100%" class="chart"'
        f' id="{chart_id}">'
        f'<title id="{chart_id}-title">{_escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{_escape(desc)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, words: str, anchor: str = "start") -> str:
    return (
        f'<text x="{_num(x)}" y="{_num(y)}" font-family="sans-serif"'
        f' font-size="{FONT_SIZE}" fill="{TEXT_COLOR}" text-anchor="{anchor}">'
        f"{_escape(words)}</text>"
    )


def _line(
    x1: float, y1: float, x2: float, y2: float, color: str, dashed: bool = False
) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"'
        f' stroke="{color}" stroke-width="1"{dash}/>'
    )


def _tooltip(label: str, value: int, unit: str) -> str:
    return f"<title>{_escape(f'{label}: {_amount(value, unit)}')}</title>"


def _baseline(middle: float) -> float:
    """The y of a text line centred on ``middle``.

    Worked out here rather than with dominant-baseline, which renderers do
    not all honour.
    """
    return middle + FONT_SIZE * 0.35


def _amount(value: int, unit: str) -> str:
    return f"{value:,} {unit}" if unit else f"{value:,}"


def _join(summary: str, words: str) -> str:
    return " ".join(part for part in (summary.strip(), words) if part)


def _shorten(label: str, most: int) -> str:
    return label if len(label) <= most else label[: most - 1] + ELLIPSIS


def _num(x: float) -> str:
    """A coordinate with at most one decimal, to keep the markup short."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _escape(words: str) -> str:
    return html.escape(_NOT_XML.sub("\ufffd", words), quote=True)
