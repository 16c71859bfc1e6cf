"""The weekly report by mail: the summary in the body, the PDF attached."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from ..mail.templates import templated_message


def report_message(
    data: dict[str, Any], pdf: bytes, *, sender: str, to: str
) -> EmailMessage:
    message = templated_message(
        "report",
        {"report": data, "summary": data["summary"]},
        subject=f"wingapp security report for {data['week']}",
        sender=sender,
        to=to,
    )
    message.add_attachment(
        pdf,
        maintype="application",
        subtype="pdf",
        filename=f"wingapp-{data['week']}.pdf",
    )
    return message
