"""Keep passwords, codes, tokens and cookies out of the log files.

SECURITY.md: events never hold the password, code or session id, and the
same goes for whatever a library or a traceback writes to the log. The
filter belongs on the HANDLER: a filter on a logger only sees records logged
to that very logger, never those that propagate up from its children, while
a handler filter sees every record the handler is about to write.

``logging.config.fileConfig`` (what ``pyramid.paster.setup_logging`` uses
for the ini files) cannot attach filters, so the handlers below come with
the filter already attached; use them as the ``class`` of a handler.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

REDACTED = "[redacted]"

# Names whose value is a secret wherever they appear: form fields, query
# strings, JSON, repr() of dicts, WSGI environ keys (HTTP_COOKIE).
_SENSITIVE_NAME = (
    r"(?:session\s+id|sid|[\w-]*(?:password|passwd|passphrase|secret|token|csrf"
    r"|session|cookie)[\w-]*)"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # A header line carries the whole value to the end of the line; a
    # cookie header holds several pairs separated by "; ".
    (
        re.compile(
            r"(?im)\b((?:set-)?cookie|(?:proxy-)?authorization)(\s*:\s*)[^\r\n]*"
        ),
        rf"\1\2{REDACTED}",
    ),
    # name = "quoted value" / name: 'quoted value' (JSON, dict reprs).
    (
        re.compile(
            rf"(?i)\b({_SENSITIVE_NAME})(['\"]?\s*[:=]\s*)(['\"])(?:(?!\3).)*\3"
        ),
        rf"\1\2\3{REDACTED}\3",
    ),
    # name=value up to the next separator (query strings, form bodies).
    (
        re.compile(
            rf"(?i)\b({_SENSITIVE_NAME})(\s*[:=]\s*)(?!\[redacted\])[^\s&;,'\"}}\]]+"
        ),
        rf"\1\2{REDACTED}",
    ),
    # A verification code: 6 to 12 digits shortly after the word "code".
    (
        re.compile(r"(?i)\b(codes?\b[^\d\r\n]{0,24}?)(?<!\d)\d{6,12}(?!\d)"),
        rf"\1{REDACTED}",
    ),
)


def redact(text: str) -> str:
    """``text`` with every secret the patterns know replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrite a record's message, arguments and traceback without secrets.

    The message is formatted with its arguments first, because a secret is
    often split between the two (``"password=%s", password``). The record
    is changed in place: every handler after this one sees the redacted text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A format string that does not match its arguments. A filter
            # must never raise; keep both parts so nothing is lost.
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters cache the traceback text here and reuse it, so the
            # text written is the redacted one (in the standard layout).
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingStreamHandler(logging.StreamHandler):
    """``logging.StreamHandler`` with :class:`RedactSecrets` attached."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.addFilter(RedactSecrets())


class RedactingFileHandler(logging.handlers.WatchedFileHandler):
    """A file handler with :class:`RedactSecrets` attached.

    Watched: it reopens the file when logrotate has moved it, which every
    mod_wsgi daemon process writing to the same file needs. It creates the
    log directory, so a missing ``var/log`` does not stop the server.
    """

    def __init__(self, filename: str, *args, **kwargs) -> None:
        Path(filename).parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        super().__init__(filename, *args, **kwargs)
        self.addFilter(RedactSecrets())
