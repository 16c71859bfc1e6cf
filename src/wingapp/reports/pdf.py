"""The weekly security report as a PDF: the report page's HTML through weasyprint.

weasyprint may read only wingapp's own static files (:func:`fetch_static`):
nothing from the network and nothing else from the file system, whatever
URLs the HTML holds.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from importlib.resources import files
from urllib.parse import unquote, urlsplit

BASE_URL = "https://wingapp.invalid/"
"""What relative URLs in the HTML resolve against. Only the path of a URL
matters to :func:`fetch_static`, so the host is one that cannot exist."""

PRINT_CSS = """
@page {
  size: A4;
  margin: 18mm 16mm 20mm;
  @bottom-center {
    content: "Page " counter(page) " of " counter(pages);
    font-size: 9pt;
    color: #5b6475;
  }
}
/* weasyprint applies this as a user stylesheet, which the site's own rules
   override unless a declaration is !important. */
.site-header, .site-nav, .site-footer, form, button, dialog, .skip,
nav.downloads { display: none !important; }
/* The screen layout: a tinted, full-height flex column, which paginates badly. */
:root, body { background: #fff !important; }
body { display: block !important; min-height: 0 !important; }
.content { max-width: none !important; margin: 0 !important; padding: 0 !important; }
h1 { font-size: 18pt !important; }
h2 { font-size: 14pt !important; }
h1, h2, h3, figcaption, caption { break-after: avoid !important; }
figure { break-inside: avoid !important; }
svg { max-width: 100% !important; }
/* A scrolling wrapper would clip a wide table on paper. */
.table-wrap { overflow: visible !important; }
table { width: 100% !important; border-collapse: collapse !important; font-size: 9.5pt !important; }
thead { display: table-header-group !important; }
tr { break-inside: avoid !important; }
th, td { padding: 3pt 6pt !important; }
a { color: inherit !important; text-decoration: none !important; }
"""

_STATIC_PREFIX = "/static/"

# A URL's query can carry a token; weasyprint names the URL it failed to
# load in its log, so the query goes before the record reaches a handler.
_URL_QUERY = re.compile(
    r"(?P<url>\b[a-z][a-z0-9+.-]*:[^\s'\"<>?#]*)\?[^\s'\"<>]*", re.IGNORECASE
)


class PDFUnavailable(RuntimeError):
    """This server cannot render PDF; the message says what to install."""


class RefusedURL(ValueError):
    """A URL the PDF renderer may not load."""


class _RedactURLQueries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _URL_QUERY.sub(r"\g<url>?[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


logging.getLogger("weasyprint").addFilter(_RedactURLQueries())


def fetch_static(url: str) -> tuple[bytes, str]:
    """The bytes and media type of the static file at ``url``.

    Any http(s) URL whose path starts with ``/static/`` names the file under
    ``wingapp/static/``; anything else raises :class:`RefusedURL`.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedURL("only http(s) URLs to wingapp's static files are loaded")
    path = unquote(parts.path)
    if not path.startswith(_STATIC_PREFIX):
        raise RefusedURL("only wingapp's static files are loaded")
    segments = path.removeprefix(_STATIC_PREFIX).split("/")
    if any(s in ("", ".", "..") or "\\" in s or "\0" in s for s in segments):
        raise RefusedURL("a static path may not step out of the static folder")
    resource = files("wingapp").joinpath("static", *segments)
    if not resource.is_file():
        raise RefusedURL("no such static file")
    media_type = mimetypes.guess_type(segments[-1])[0] or "application/octet-stream"
    return resource.read_bytes(), media_type


def html_to_pdf(html: str, *, title: str | None = None) -> bytes:
    """Render ``html`` as an A4 PDF with the print stylesheet.

    ``title`` replaces the document's ``<title>`` in the PDF's metadata.
    """
    # Imported here, not at the top: config.scan imports this module when
    # the app starts, and weasyprint (with pango behind it) takes half a
    # second to load, which only a PDF download should pay.
    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except (ImportError, OSError) as e:
        # OSError: pango, which weasyprint loads as a C library, is missing.
        raise PDFUnavailable(
            "PDF rendering is not available on this server: weasyprint needs "
            "pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0). "
            f"It said: {e}"
        ) from None

    class StaticFetcher(URLFetcher):
        def fetch(
            self, url: str, headers: dict[str, str] | None = None
        ) -> URLFetcherResponse:
            body, media_type = fetch_static(url)
            return URLFetcherResponse(url, body, {"Content-Type": media_type})

    fetcher = StaticFetcher()
    print_css = CSS(string=PRINT_CSS, base_url=BASE_URL, url_fetcher=fetcher)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        stylesheets=[print_css]
    )
    if title is not None:
        document.metadata.title = title
    return document.write_pdf()
