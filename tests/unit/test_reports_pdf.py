"""The weekly report's PDF: what poppler reads back from it, and what
weasyprint is kept from loading."""

from __future__ import annotations

import logging
import os
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from wingapp.reports.pdf import RefusedURL, fetch_static, html_to_pdf

ROOT = Path(__file__).resolve().parents[2]

PAGE = """<!doctype html>
<html><head>
<title>Report page title</title>
<link rel="stylesheet" href="/static/css/wingapp.css">
</head><body>
<header class="site-header"><a class="brand" href="/">wingapp</a>
  <nav class="site-nav"><a href="/accounts">Accounts menu</a>
    <form method="post" action="/logout"><button>Sign out now</button></form>
  </nav>
</header>
<main class="content">
<h1>Weekly security report</h1>
<div class="table-wrap"><table class="listing">
  <thead><tr><th>Event</th><th>Count</th></tr></thead>
  <tbody>
    <tr><td>Sign-ins</td><td>48213</td></tr>
    <tr><td>Failed sign-ins</td><td>977</td></tr>
  </tbody>
</table></div>
<figure>
  <svg xmlns="http://www.w3.org/2000/svg" width="300" height="120" viewBox="0 0 300 120">
    <rect x="10" y="10" width="200" height="80" fill="#1f5fbf"/>
    <text x="10" y="112" font-size="14">Failures by weekday</text>
  </svg>
</figure>
</main>
<footer class="site-footer">Footer small print</footer>
</body></html>
"""


def poppler(tool: str) -> str:
    """The path of a poppler-utils tool; a CI run without it fails."""
    path = shutil.which(tool)
    if path is None:
        reason = f"{tool} is missing (poppler-utils: tools/system-packages.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        [poppler("pdftotext"), "-layout", pdf, "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def pdf_info(pdf: Path) -> str:
    return subprocess.run(
        [poppler("pdfinfo"), pdf], capture_output=True, text=True, check=True
    ).stdout


def first_page_gray(pdf: Path) -> tuple[int, int, bytes]:
    """Page 1 at 50 dpi as 8-bit gray (pdftoppm's PGM): width, height, pixels."""
    pgm = subprocess.run(
        [poppler("pdftoppm"), "-r", "50", "-gray", "-f", "1", "-l", "1", pdf],
        capture_output=True,
        check=True,
    ).stdout
    magic, width, height, maxval, pixels = pgm.split(maxsplit=4)
    assert (magic, maxval) == (b"P5", b"255")
    return int(width), int(height), pixels


def png_bytes() -> bytes:
    """A valid 2x2 black PNG, which weasyprint would embed if it fetched it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00\x00\x00" * 2)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", rows)
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def report_pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    pdf = html_to_pdf(PAGE, title="Weekly security report, week 12")
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    path.write_bytes(pdf)
    return pdf, path


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server that serves a PNG for any path and notes each request."""
    requests: list[str] = []
    image = png_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_pdf_holds_the_heading_the_figures_and_the_chart_text(report_pdf):
    pdf, path = report_pdf
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(path)
    assert "Weekly security report" in text
    assert "48213" in text
    assert "977" in text
    assert "Failures by weekday" in text


def test_the_print_stylesheet_numbers_a4_pages_and_drops_the_site_chrome(
    report_pdf,
):
    _, path = report_pdf
    text = pdf_text(path)
    assert "Page 1 of 1" in text
    for chrome in ("Accounts menu", "Sign out now", "Footer small print"):
        assert chrome not in text
    assert "(A4)" in pdf_info(path)


def test_the_chart_is_painted(report_pdf):
    _, path = report_pdf
    width, height, pixels = first_page_gray(path)
    assert len(pixels) == width * height
    # At 50 dpi the chart's 200px-wide bar is about 104 dark pixels in a
    # row; text and the table's light rules never come close.
    longest = 0
    for top in range(0, len(pixels), width):
        run = 0
        for value in pixels[top : top + width]:
            run = run + 1 if value < 128 else 0
            longest = max(longest, run)
    assert longest >= 90
    # The site's tinted background stays off paper: a blank spot near the
    # bottom right of the page area (A4 at 50 dpi is 414 x 585) is white.
    assert pixels[500 * width + 370] == 255


def test_a_chart_that_would_straddle_two_pages_moves_whole_to_the_next(tmp_path):
    # A4 less the margins leaves 259mm: the caption would still fit on page
    # 1 below the spacer, the chart under it would not.
    chart = PAGE[PAGE.index("<svg") : PAGE.index("</svg>") + len("</svg>")]
    page = (
        '<link rel="stylesheet" href="/static/css/wingapp.css">'
        '<div style="height: 232mm"></div>'
        f"<figure><figcaption>Chart caption</figcaption>{chart}</figure>"
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(html_to_pdf(page))
    pages = pdf_text(path).split("\f")
    assert "Chart caption" not in pages[0]
    assert "Chart caption" in pages[1]
    assert "Failures by weekday" in pages[1]
    assert "Page 2 of 2" in pages[1]


def test_the_site_stylesheet_loads_from_the_package(caplog):
    with caplog.at_level(logging.ERROR, logger="weasyprint"):
        html_to_pdf(PAGE)
    assert caplog.records == []


def test_a_given_title_replaces_the_pages_title(report_pdf, tmp_path):
    _, given = report_pdf
    assert "Title:           Weekly security report, week 12" in pdf_info(given)
    untitled = tmp_path / "untitled.pdf"
    untitled.write_bytes(html_to_pdf(PAGE))
    assert "Title:           Report page title" in pdf_info(untitled)


def test_nothing_is_fetched_from_the_network_or_the_file_system(
    recording_server, tmp_path, caplog
):
    base, requests = recording_server
    picture = tmp_path / "picture.png"
    picture.write_bytes(png_bytes())
    page = PAGE.replace(
        "</main>",
        f'<img src="{base}/static/x.png?token=s3cr3t-t0ken">'
        f'<img src="{base}/chart.png">'
        f'<img src="{picture.as_uri()}">'
        '<img src="file:///etc/passwd">'
        f'<link rel="stylesheet" href="{base}/evil.css">'
        "</main>",
    )
    path = tmp_path / "report.pdf"
    with caplog.at_level(logging.DEBUG, logger="weasyprint"):
        path.write_bytes(html_to_pdf(page))

    assert requests == []
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert f"Failed to load image at '{base}/static/x.png?[redacted]'" in "\n".join(
        failures
    )
    assert f"Failed to load image at '{picture.as_uri()}'" in "\n".join(failures)
    assert "s3cr3t-t0ken" not in caplog.text
    images = subprocess.run(
        [poppler("pdfimages"), "-list", path],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Only the two header lines: no picture made it into the PDF.
    assert len(images.splitlines()) == 2


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///static/css/wingapp.css",
        "ftp://example.org/static/css/wingapp.css",
        "data:text/css,body{}",
        "http://127.0.0.1:9/x.png",
        "https://example.org/setup.py",
        "https://example.org/static/../../setup.py",
        "https://example.org/static/%2e%2e/%2e%2e/setup.py",
        "https://example.org/static/css/..%2f..%2f..%2fsetup.py",
        "https://example.org/static/css/..%5c..%5csetup.py",
        "https://example.org/static//css/wingapp.css",
        "https://example.org/static/",
        "https://example.org/static/css",
        "https://example.org/static/css/missing.css",
        "https://example.org/staticky/css/wingapp.css",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url):
    with pytest.raises(RefusedURL):
        fetch_static(url)


def test_the_fetcher_serves_static_files_whatever_the_host_and_query():
    stylesheet = (ROOT / "src/wingapp/static/css/wingapp.css").read_bytes()
    assert fetch_static("http://wingapp.invalid/static/css/wingapp.css") == (
        stylesheet,
        "text/css",
    )
    assert fetch_static("https://example.org/static/css/wingapp.css?v=3#top") == (
        stylesheet,
        "text/css",
    )
    body, media_type = fetch_static("https://example.org/static/favicon.svg")
    assert media_type == "image/svg+xml"
    assert body.lstrip().startswith(b"<svg")


def test_a_file_without_a_known_type_is_served_as_bytes(monkeypatch):
    monkeypatch.setattr("mimetypes.guess_type", lambda name: (None, None))
    _, media_type = fetch_static("https://example.org/static/favicon.svg")
    assert media_type == "application/octet-stream"


def test_queries_in_other_weasyprint_messages_stay_as_they_are(caplog):
    logger = logging.getLogger("weasyprint")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        logger.warning("Ignored %s, what?", "`overflow-x: auto`")
    assert caplog.messages == ["Ignored `overflow-x: auto`, what?"]
