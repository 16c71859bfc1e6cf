"""Mail bodies from Chameleon templates: a plain-text part and an HTML part.

``templates/mail/NAME.txt.pt`` and ``NAME.html.pt`` take the same values.
Both are ordinary (XML-mode) page templates, so that they can use
``tal:condition``; the text one writes every value as ``${structure: …}``,
because nothing in a plain-text part may be HTML-escaped. The HTML one
writes plain ``${…}``, which escapes whatever a visitor could have typed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from chameleon import PageTemplateFile

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "mail"

# What a request says about itself (its browser, say) is the sender's text,
# not ours: it may carry line breaks meant to forge lines of a message, or be
# long.
MAX_DETAIL = 200


@functools.cache
def _template(filename: str) -> PageTemplateFile:
    # Compiled once per process; a compiled template does not change.
    return PageTemplateFile(str(TEMPLATES / filename))


def render_bodies(name: str, values: Mapping[str, Any]) -> tuple[str, str]:
    """The text and the HTML body of the mail called ``name``."""
    # However the template file ends, the body ends with one line break.
    text = _template(f"{name}.txt.pt")(**values).rstrip() + "\n"
    html = _template(f"{name}.html.pt")(**values)
    return text, html


def templated_message(
    name: str, values: Mapping[str, Any], *, subject: str, sender: str, to: str
) -> EmailMessage:
    """A multipart/alternative message: the text part first, then the HTML
    one, which mail readers prefer when they can show it."""
    text, html = render_bodies(name, {**values, "subject": subject})
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def one_line(text: str | None) -> str:
    """``text`` on one line of at most ``MAX_DETAIL`` characters, or
    "unknown" when there is nothing to say."""
    printable = "".join(c if c.isprintable() else " " for c in text or "")
    flat = " ".join(printable.split())
    if len(flat) > MAX_DETAIL:
        return flat[: MAX_DETAIL - 1] + "…"
    return flat or "unknown"


def utc_minute(when: datetime) -> str:
    return f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
