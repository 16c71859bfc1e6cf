"""Report charts: well-formed, CSP-safe SVG with a text alternative, every
number written as text, user labels escaped, and zero data drawn sensibly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from wingapp.reports.charts import (
    HEAT_STEPS,
    SVG,
    bar_chart,
    heatmap,
    line_chart,
)

NS = "{http://www.w3.org/2000/svg}"
NASTY = "<script>&\"'"
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOURS = [f"{hour:02d}" for hour in range(24)]
ALLOWED_TAGS = {
    "svg",
    "rect",
    "line",
    "polyline",
    "circle",
    "text",
    "g",
    "title",
    "desc",
}


def empty_week() -> list[list[int]]:
    return [[0] * 24 for _ in DAYS]


def busy_week() -> list[list[int]]:
    grid = empty_week()
    grid[1][14] = 12  # Tuesday 14:00-15:00
    grid[0][9] = 3
    grid[4][22] = 7
    return grid


def bars(**kw) -> SVG:
    args = {
        "title": "Sign-ins by browser",
        "summary": "Firefox led the week.",
        "labels": ["Firefox", "Chrome", "Safari"],
        "values": [120, 30, 60],
    }
    return bar_chart("browsers", **(args | kw))


def line(**kw) -> SVG:
    args = {
        "title": "Failed sign-ins per day",
        "summary": "A spike on Friday.",
        "labels": ["Mon", "Tue", "Wed", "Thu", "Fri"],
        "values": [4, 10, 0, 2, 33],
    }
    return line_chart("failures", **(args | kw))


def heat(**kw) -> SVG:
    args = {
        "title": "When sign-ins fail",
        "summary": "Mostly in the afternoon.",
        "rows": DAYS,
        "columns": HOURS,
        "grid": busy_week(),
    }
    return heatmap("hours", **(args | kw))


def parse(svg: str) -> ET.Element:
    # Our own output, and a strict parser is the point: it must be well-formed.
    return ET.fromstring(svg)  # noqa: S314


def desc(root: ET.Element) -> str:
    return root.find(f"{NS}desc").text


def texts(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text")]


def tooltips(root: ET.Element, tag: str) -> list[str]:
    found = (el.find(f"{NS}title") for el in root.iter(f"{NS}{tag}"))
    return [title.text for title in found if title is not None]


def cells(root: ET.Element) -> list[ET.Element]:
    """The grid's cells: rects with a tooltip (legend swatches have none)."""
    return [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]


CHARTS = [bars, line, heat]


@pytest.mark.parametrize("chart", CHARTS)
def test_the_svg_is_an_image_labelled_by_its_title_and_desc(chart):
    root = parse(chart())
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("class") == "chart"
    assert re.fullmatch(r"0 0 600 \d+(\.\d)?", root.get("viewBox"))
    title, description = list(root)[:2]
    assert title.tag == f"{NS}title"
    assert description.tag == f"{NS}desc"
    assert root.get("aria-labelledby").split() == [
        title.get("id"),
        description.get("id"),
    ]
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("chart", CHARTS)
def test_chameleon_inserts_the_chart_unescaped(chart):
    svg = chart()
    assert isinstance(svg, SVG)
    assert isinstance(svg, str)
    assert svg.__html__() is svg


@pytest.mark.parametrize("chart", CHARTS)
def test_nothing_the_csp_or_weasyprint_would_refuse(chart):
    svg = chart()
    assert "<script" not in svg
    assert "style" not in svg
    assert "href" not in svg
    assert svg.count("http") == 1
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    root = parse(svg)
    assert {el.tag.removeprefix(NS) for el in root.iter()} <= ALLOWED_TAGS


@pytest.mark.parametrize("chart", CHARTS)
def test_text_is_large_enough_and_sans_serif(chart):
    root = parse(chart())
    drawn = list(root.iter(f"{NS}text"))
    assert drawn
    for text in drawn:
        assert float(text.get("font-size")) >= 11
        assert text.get("font-family") == "sans-serif"


def test_bar_desc_is_the_summary_then_every_value():
    assert desc(parse(bars())) == (
        "Firefox led the week. Firefox: 120 events; Chrome: 30 events; Safari: 60 events."
    )


def test_bars_write_their_labels_and_values_and_carry_tooltips():
    root = parse(bars(unit="sign-ins"))
    drawn = texts(root)
    assert {"Firefox", "Chrome", "Safari", "120", "30", "60"} <= set(drawn)
    assert tooltips(root, "rect") == [
        "Firefox: 120 sign-ins",
        "Chrome: 30 sign-ins",
        "Safari: 60 sign-ins",
    ]


def test_bar_lengths_are_proportional_to_the_values():
    values = [120, 30, 60]
    root = parse(bars(values=values))
    widths = [float(r.get("width")) for r in root.iter(f"{NS}rect")]
    assert widths.index(max(widths)) == values.index(max(values))
    for width, value in zip(widths, values, strict=True):
        assert width / widths[0] == pytest.approx(value / 120, abs=0.01)


def test_each_value_is_written_just_after_its_bar():
    root = parse(bars())
    ends = [float(r.get("x")) + float(r.get("width")) for r in root.iter(f"{NS}rect")]
    positions = {t.text: float(t.get("x")) for t in root.iter(f"{NS}text")}
    for end, value in zip(ends, ["120", "30", "60"], strict=True):
        assert 0 < positions[value] - end < 12


def test_long_bar_labels_are_cut_in_the_drawing_only():
    long = "Firefox 128.0 on Ubuntu Linux x86_64 (Wayland)"
    root = parse(bars(labels=[long, "Chrome", "Safari"]))
    shown = texts(root)[0]
    assert len(shown) == 28
    assert shown == long[:27] + "\u2026"
    assert f"{long}: 120 events" in desc(root)
    assert tooltips(root, "rect")[0] == f"{long}: 120 events"


def test_the_bar_chart_grows_with_its_rows():
    def height(count):
        svg = bars(labels=[f"b{i}" for i in range(count)], values=[1] * count)
        return float(parse(svg).get("viewBox").split()[3])

    assert height(2) < height(3) < height(10)
    assert height(10) - height(9) == height(3) - height(2)


def test_zero_bars_have_no_length_and_say_zero():
    root = parse(bars(values=[0, 0, 0]))
    assert [r.get("width") for r in root.iter(f"{NS}rect")] == ["0", "0", "0"]
    assert texts(root).count("0") == 3
    assert "Firefox: 0 events; Chrome: 0 events; Safari: 0 events." in desc(root)


def test_line_desc_is_the_summary_then_every_value():
    assert desc(parse(line())) == (
        "A spike on Friday. Mon: 4 events; Tue: 10 events; Wed: 0 events;"
        " Thu: 2 events; Fri: 33 events."
    )


def test_line_points_are_joined_with_each_value_above_and_label_below():
    root = parse(line())
    circles = list(root.iter(f"{NS}circle"))
    assert len(circles) == 5
    assert tooltips(root, "circle")[4] == "Fri: 33 events"
    polyline = root.find(f"{NS}polyline")
    joined = [tuple(map(float, p.split(","))) for p in polyline.get("points").split()]
    assert joined == [(float(c.get("cx")), float(c.get("cy"))) for c in circles]
    drawn = {
        t.text: t for t in root.iter(f"{NS}text") if t.get("text-anchor") == "middle"
    }
    for circle, value, label in zip(
        circles,
        ["4", "10", "0", "2", "33"],
        ["Mon", "Tue", "Wed", "Thu", "Fri"],
        strict=True,
    ):
        cx, cy = float(circle.get("cx")), float(circle.get("cy"))
        above, below = drawn[value], drawn[label]
        assert float(above.get("x")) == cx == float(below.get("x"))
        assert float(above.get("y")) < cy < float(below.get("y"))


def test_line_heights_follow_the_values_from_a_baseline_at_zero():
    root = parse(line())
    baseline = next(
        el for el in root.iter(f"{NS}line") if el.get("stroke-dasharray") is None
    )
    zero_y = float(baseline.get("y1"))
    assert float(baseline.get("y2")) == zero_y
    heights = [zero_y - float(c.get("cy")) for c in root.iter(f"{NS}circle")]
    for height, value in zip(heights, [4, 10, 0, 2, 33], strict=True):
        assert height == pytest.approx(heights[4] * value / 33, abs=0.2)
    axis = [t for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert [t.text for t in axis] == ["0", "33"]
    assert float(axis[1].get("y")) < float(axis[0].get("y"))


def test_a_single_point_sits_in_the_middle():
    root = parse(line(labels=["Mon"], values=[5]))
    circle = root.find(f"{NS}circle")
    assert float(circle.get("cx")) == pytest.approx((64 + 584) / 2)


def test_crowded_line_labels_are_thinned_but_every_value_stays():
    labels = [f"2025-03-{day:02d}" for day in range(1, 31)]
    root = parse(line(labels=labels, values=list(range(30))))
    drawn = texts(root)
    shown = [label for label in labels if label in drawn]
    assert labels[0] in shown
    assert 3 <= len(shown) < 30
    assert all(str(value) in drawn for value in range(30))
    assert len(tooltips(root, "circle")) == 30


def test_zero_line_lies_on_the_baseline():
    root = parse(line(values=[0, 0, 0, 0, 0]))
    baseline = root.find(f"{NS}line")
    assert {c.get("cy") for c in root.iter(f"{NS}circle")} == {baseline.get("y1")}
    axis = [t.text for t in root.iter(f"{NS}text") if t.get("text-anchor") == "end"]
    assert axis == ["0"]
    assert texts(root).count("0") == 6
    assert "Mon: 0 events" in desc(root)


def test_heatmap_desc_gives_total_busiest_and_empty_cells():
    assert desc(parse(heat())) == (
        "Mostly in the afternoon. total: 22 events;"
        " busiest: Tuesday 14:00\u201315:00, 12 events; 165 of 168 cells empty."
    )


def test_heatmap_ties_are_named_together():
    grid = empty_week()
    grid[0][23] = grid[6][0] = 4
    assert (
        "busiest: Monday 23:00\u201324:00 and Sunday 00:00\u201301:00, 4 events each;"
        in desc(parse(heat(grid=grid)))
    )
    grid[2][5] = 4
    assert (
        "busiest: Monday 23:00\u201324:00, Wednesday 05:00\u201306:00"
        " and Sunday 00:00\u201301:00, 4 events each;"
    ) in desc(parse(heat(grid=grid)))
    full = [[1] * 24 for _ in DAYS]
    assert (
        "busiest: Monday 00:00\u201301:00, Monday 01:00\u201302:00,"
        " Monday 02:00\u201303:00 and 165 more, 1 events each; 0 of 168 cells empty."
    ) in desc(parse(heat(grid=full)))


def test_heatmap_cells_darken_with_the_count():
    root = parse(heat())
    grid = busy_week()
    fills = [r.get("fill") for r in cells(root)]
    assert len(fills) == 168
    flat = [count for line in grid for count in line]
    assert fills[flat.index(12)] == HEAT_STEPS[-1] == "#174a96"
    assert fills[flat.index(0)] == HEAT_STEPS[0] == "#eef0f4"
    assert fills[flat.index(7)] == HEAT_STEPS[3]
    assert fills[flat.index(3)] == HEAT_STEPS[1]
    assert tooltips(root, "rect")[1 * 24 + 14] == "Tuesday 14:00\u201315:00: 12 events"


def test_heatmap_names_days_on_the_left_and_every_third_hour_on_top():
    root = parse(heat())
    drawn = {t.text: t for t in root.iter(f"{NS}text")}
    grid_left = min(float(r.get("x")) for r in cells(root))
    grid_top = min(float(r.get("y")) for r in cells(root))
    for day in DAYS:
        assert float(drawn[day].get("x")) < grid_left
    hours = [h for h in HOURS if h in drawn]
    assert hours == ["00", "03", "06", "09", "12", "15", "18", "21"]
    assert all(float(drawn[h].get("y")) < grid_top for h in hours)


def test_heatmap_legend_runs_from_fewer_to_more_with_its_numbers():
    root = parse(heat())
    drawn = texts(root)
    legend = drawn[drawn.index("fewer") :]
    assert legend == [
        "fewer",
        "0",
        "1\u20133",
        "4\u20136",
        "7\u20139",
        "10\u201312",
        "more",
    ]
    swatches = [r.get("fill") for r in root.iter(f"{NS}rect") if r not in cells(root)]
    assert swatches == list(HEAT_STEPS)


def test_the_legend_leaves_out_steps_no_whole_count_falls_in():
    grid = empty_week()
    grid[0][0], grid[0][1] = 1, 2
    root = parse(heat(grid=grid))
    drawn = texts(root)
    assert drawn[drawn.index("fewer") :] == ["fewer", "0", "1", "2", "more"]
    fills = [r.get("fill") for r in cells(root)]
    assert fills[:2] == [HEAT_STEPS[2], HEAT_STEPS[4]]


def test_zero_heatmap_is_all_grey():
    root = parse(heat(grid=empty_week()))
    assert {r.get("fill") for r in cells(root)} == {HEAT_STEPS[0]}
    assert desc(root) == (
        "Mostly in the afternoon. total: 0 events; 168 of 168 cells empty."
    )
    drawn = texts(root)
    assert drawn[drawn.index("fewer") :] == ["fewer", "0", "more"]


def test_columns_that_are_not_hours_are_named_as_given():
    root = parse(
        heat(
            rows=["Web", "API"],
            columns=["Week 1", "Week 2", "24"],
            grid=[[0, 5, 1], [2, 0, 5]],
            unit="",
        )
    )
    assert "busiest: Web Week 2 and API 24, 5 each;" in desc(root)
    assert tooltips(root, "rect")[0] == "Web Week 1: 0"


@pytest.mark.parametrize(
    "svg",
    [
        bars(labels=[NASTY, "b", "c"], title=NASTY, summary=NASTY, unit=NASTY),
        line(labels=["a", NASTY, "c", "d", "e"], title=NASTY, summary=NASTY),
        heat(rows=[NASTY, *DAYS[1:]], columns=[NASTY, *HOURS[1:]], title=NASTY),
    ],
)
def test_user_text_is_escaped(svg):
    assert "<script" not in svg
    root = parse(svg)
    assert root.find(f"{NS}title").text == NASTY
    assert NASTY in texts(root)
    assert any(
        NASTY in tip for tip in tooltips(root, "rect") + tooltips(root, "circle")
    )


def test_characters_xml_cannot_carry_are_replaced():
    root = parse(bars(labels=["Fire\x00fox\x1b", "Chrome\ud800", "Safari\n"]))
    assert texts(root)[0::2] == ["Fire\ufffdfox\ufffd", "Chrome\ufffd", "Safari\n"]


@pytest.mark.parametrize("chart", [bars, line])
def test_no_points_at_all_says_no_data(chart):
    root = parse(chart(labels=[], values=[]))
    assert texts(root) == ["No data"]
    assert desc(root).endswith(" No data.")


@pytest.mark.parametrize(
    ("rows", "columns", "grid"), [([], HOURS, []), (DAYS[:2], [], [[], []])]
)
def test_an_empty_heatmap_says_no_data(rows, columns, grid):
    root = parse(heat(rows=rows, columns=columns, grid=grid))
    assert texts(root) == ["No data"]


def test_an_empty_summary_leaves_only_the_data():
    assert desc(parse(bars(summary="  "))).startswith("Firefox: 120 events;")


@pytest.mark.parametrize(
    "chart_id", ["", "1st", "-x", "a b", 'a"b', "a\n", "caf\u00e9", "x_y", "a<b"]
)
@pytest.mark.parametrize(
    "chart",
    [
        lambda cid: bar_chart(cid, title="t", summary="s", labels=["a"], values=[1]),
        lambda cid: line_chart(cid, title="t", summary="s", labels=["a"], values=[1]),
        lambda cid: heatmap(
            cid, title="t", summary="s", rows=["a"], columns=["b"], grid=[[1]]
        ),
    ],
)
def test_unsafe_ids_are_refused(chart, chart_id):
    with pytest.raises(ValueError, match="chart id"):
        chart(chart_id)


def test_a_safe_id_names_the_title_and_desc():
    root = parse(
        bar_chart("Top-10-browsers", title="t", summary="s", labels=["a"], values=[1])
    )
    assert root.get("aria-labelledby") == "Top-10-browsers-title Top-10-browsers-desc"


@pytest.mark.parametrize("chart", [bars, line])
def test_labels_and_values_must_pair_up(chart):
    with pytest.raises(ValueError, match="3 labels but 2 values"):
        chart(labels=["a", "b", "c"], values=[1, 2])


@pytest.mark.parametrize("chart", [bars, line])
def test_negative_counts_are_refused(chart):
    with pytest.raises(ValueError, match="negative"):
        chart(labels=["a", "b"], values=[1, -1])


@pytest.mark.parametrize(
    "grid",
    [
        busy_week()[:6],
        [*busy_week(), [0] * 24],
        [*busy_week()[:6], [0] * 23],
        [*busy_week()[:6], [0] * 25],
    ],
)
def test_the_grid_must_match_rows_and_columns(grid):
    with pytest.raises(ValueError, match="7 rows of 24 counts"):
        heat(grid=grid)


def test_negative_cells_are_refused():
    grid = busy_week()
    grid[3][3] = -2
    with pytest.raises(ValueError, match="negative"):
        heat(grid=grid)
