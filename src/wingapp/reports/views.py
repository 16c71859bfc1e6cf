"""The reports' pages and downloads, for administrators."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPNotFound
from pyramid.renderers import render
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from ..interfaces import IClock, IKeyring, IReport, IReports
from ..permissions import ADMIN_REPORTS_READ
from ..spreadsheet import csv_line, for_spreadsheet
from ..views.errors import error_response
from ..views.folder import (
    Listing,
    Orders,
    answer,
    html_links,
    parse_listing,
    parse_text,
)
from ..walks import HIGH, page_of, walk
from . import charts
from .figures import TABLES, build
from .models import FAILURES, SIGN_INS
from .pdf import PDFUnavailable, html_to_pdf
from .weeks import DAYS, describe, week_of

REPORT_TEMPLATE = "wingapp:templates/reports/report.pt"


WEEK_ORDERS = Orders({"name": parse_text}, default="-name")


def week_row(report: Any, request: Any, current: str) -> dict[str, Any]:
    events = report.event_counts()
    name = report.__name__
    return {
        "name": name,
        "title": describe(name),
        "url": request.resource_url(report),
        "live": name == current,
        "registrations": events.get(("registration", "success"), 0),
        "sign_ins": events.get(("sign-in", "success"), 0),
        "failed_sign_ins": events.get(("sign-in", "failure"), 0),
    }


@view_defaults(context=IReports, permission=ADMIN_REPORTS_READ, request_method="GET")
class WeekList:
    """The weeks that have a report, newest first, a page at a time, as
    every listing is paged (see wingapp.views.folder)."""

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def listing(self) -> tuple[Listing, dict]:
        request, reports = self.request, self.context
        listing = parse_listing(request, WEEK_ORDERS)
        start = listing.start
        if start is not None and listing.descending:
            start += HIGH  # "2026" begins at that year's last week
        keys = walk(reports.trees, listing.descending, listing.after, start)
        names, after = page_of(keys, listing.limit)
        current = week_of(request.find_service(IClock)())
        items = [week_row(reports[name], request, current) for name in names]
        data = answer(request, reports, listing, items, after, length=len(reports))
        data["current_week"] = {
            "name": current,
            "url": request.resource_url(reports[current]),
        }
        return listing, data

    @view_config(renderer="wingapp:templates/reports/list.pt")
    def html(self) -> dict:
        listing, data = self.listing()
        data.update(html_links(self.request, self.context, listing, data))
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()[1]


def report_data(report: Any, request: Any) -> dict[str, Any]:
    """The report's figures, once it is known to be a week with a report:
    not one still to come, nor one before the first stored week. Reading
    writes nothing: the first event of a later week freezes an ended one
    (Reports.for_time), and nothing counts into it meanwhile."""
    now = request.find_service(IClock)()
    first = report.__parent__.first_week() or week_of(now)
    if report.start > now or report.__name__ < first:
        raise HTTPNotFound(f"There is no report for {report.__name__}.")
    return build(report, request.find_service(IKeyring), now)


def draw_charts(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's charts, drawn on the server as inline SVG, each with
    the title its figure's caption shows."""
    total = sum(map(sum, data["hours"]))
    failed = [row["failed_sign_ins"] for row in data["failed_by_day"]]
    browsers = data["browsers"]
    devices = data["devices"]
    drawn = {
        "heatmap": (
            charts.heatmap,
            "hours",
            "Events by hour of day and weekday (UTC)",
            f"{total} events were recorded this week.",
            {
                "rows": DAYS,
                "columns": [f"{hour:02d}" for hour in range(24)],
                "grid": data["hours"],
            },
        ),
        "failed": (
            charts.line_chart,
            "failed-sign-ins",
            "Failed sign-ins by day",
            f"{sum(failed)} failed sign-ins this week.",
            {
                "labels": [day[:3] for day in DAYS],
                "values": failed,
                "unit": "failed sign-ins",
            },
        ),
        "browsers": (
            charts.bar_chart,
            "browsers",
            "Sign-ins by browser family",
            f"Successful sign-ins from {len(browsers)} browser families.",
            {
                "labels": [row["browser"] for row in browsers],
                "values": [row[SIGN_INS] for row in browsers],
                "unit": "sign-ins",
            },
        ),
        "devices": (
            charts.bar_chart,
            "devices",
            "Sign-ins from new and returning devices",
            "Successful sign-ins from browsers the account had not used "
            "before, and from ones it had.",
            {
                "labels": [row["device"] for row in devices],
                "values": [row[SIGN_INS] for row in devices],
                "unit": "sign-ins",
            },
        ),
    }
    return {
        name: {
            "title": title,
            "svg": draw(chart_id, title=title, summary=summary, **values),
        }
        for name, (draw, chart_id, title, summary, values) in drawn.items()
    }


def page_values(data: dict[str, Any], printing: bool) -> dict[str, Any]:
    return {
        **data,
        "charts": draw_charts(data),
        "tables": [
            {"name": name, "title": title} for name, (title, _) in TABLES.items()
        ],
        "columns": (SIGN_INS, FAILURES),
        "printing": printing,
    }


def report_pdf(data: dict[str, Any], request: Any) -> bytes:
    """The whole report (``data``, from :func:`report_data`) as a PDF: the
    page's own template, charts included, laid out for print."""
    values = page_values(data, printing=True)
    html = render(REPORT_TEMPLATE, values, request=request)
    return html_to_pdf(html, title=values["title"])


def table_csv(data: dict[str, Any], table: str) -> str:
    _, rows = TABLES[table]
    return "".join(
        csv_line(for_spreadsheet(c) if isinstance(c, str) else c for c in row)
        for row in rows(data)
    )


def _download(body: bytes, kind: str, filename: str, **kw: Any) -> Response:
    response = Response(body=body, content_type=kind, **kw)
    response.content_disposition = f'attachment; filename="{filename}"'
    return response


@view_defaults(context=IReport, permission=ADMIN_REPORTS_READ, request_method="GET")
class ReportPage:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(renderer=REPORT_TEMPLATE)
    def html(self) -> dict:
        data = report_data(self.context, self.request)
        return page_values(data, printing=False)

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return report_data(self.context, self.request)

    @view_config(name="report.json", renderer="json")
    def json_download(self) -> dict:
        data = report_data(self.context, self.request)
        self.request.response.content_disposition = (
            f'attachment; filename="wingapp-{self.context.__name__}.json"'
        )
        return data

    @view_config(name="report.pdf")
    def pdf(self) -> Response:
        try:
            data = report_data(self.context, self.request)
            body = report_pdf(data, self.request)
        except PDFUnavailable as e:
            return error_response(self.request, 503, "PDF not available", str(e))
        return _download(
            body,
            "application/pdf",
            f"wingapp-{self.context.__name__}.pdf",
        )


def csv_download(context: Any, request: Any) -> Response:
    table = request.view_name.removesuffix(".csv")
    return _download(
        table_csv(report_data(context, request), table).encode("utf-8"),
        "text/csv",
        f"wingapp-{context.__name__}-{table}.csv",
        charset="utf-8",
    )


def includeme(config) -> None:
    for table in TABLES:
        config.add_view(
            csv_download,
            context=IReport,
            name=f"{table}.csv",
            permission=ADMIN_REPORTS_READ,
            request_method="GET",
        )
