"""Importing and exporting accounts from the browser: ``/users/@@import``
and ``/users/@@export.csv``.

The import runs in the request's one transaction (the file is at most
``MAX_UPLOAD_BYTES``): each batch of 1000 rows ends in a savepoint, which
lets the connection's cache shed what it wrote, while a conflict retries the
whole request from the same upload and a failure leaves nothing half done.

The per-row result is offered as a ``data:`` link on the summary page
itself: it exists only in that page, so nothing is kept in the session
(whose cookie would not hold it) or in the database for a later download.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import colander
import transaction
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from ..interfaces import IClock, IKeyring, IUsers
from ..permissions import ADMIN_USERS_WRITE
from ..spreadsheet import csv_line
from ..users.forms import validate
from ..users.interfaces import ISessionService
from ..users.services import Refused
from .services import check_reason
from .transfer import (
    RESULT_COLUMNS,
    ImportFileError,
    Row,
    Summary,
    UserImport,
    export_lines,
    read_rows,
    result_line,
)

# Some 25,000 accounts, well under a minute of work in the request's one
# transaction; the console's import-users commits larger files in batches.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# The summary page lists this many rejected rows; the result CSV has all.
SHOWN_REJECTIONS = 100
TEMPLATE = "wingapp:templates/admin/import.pt"
FORM_FIELDS = ("reason", "update", "dry_run")


class ImportForm(colander.MappingSchema):
    reason = colander.SchemaNode(
        colander.String(),
        missing_msg="Give a reason: it goes into each account's history.",
    )
    update = colander.SchemaNode(colander.Boolean(), missing=False)
    dry_run = colander.SchemaNode(colander.Boolean(), missing=False)


def upload_rows(upload: Any) -> tuple[str, Iterator[Row]]:
    """The file's name and its rows; raises ImportFileError with what is
    wrong with the upload, for the person who chose it."""
    if not hasattr(upload, "file") or not upload.filename:
        raise ImportFileError("Choose a CSV file to import.")
    upload.file.seek(0, io.SEEK_END)
    if upload.file.tell() > MAX_UPLOAD_BYTES:
        raise ImportFileError(
            f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB. Split it, "
            "or import it with the console command import-users."
        )
    upload.file.seek(0)
    try:
        text = upload.file.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            "This file is not UTF-8 text. Save it from the spreadsheet as "
            "CSV UTF-8 and try again."
        ) from None
    if "\x00" in text:
        raise ImportFileError("This is not a CSV text file.")
    # Some browsers send the whole path; the name is all the history needs.
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:100]
    return name, read_rows(io.StringIO(text, newline=""))


def data_url(csv_text: str) -> str:
    encoded = base64.b64encode(csv_text.encode("utf-8")).decode("ascii")
    return f"data:text/csv;charset=utf-8;base64,{encoded}"


@view_defaults(context=IUsers, name="import", permission=ADMIN_USERS_WRITE)
class ImportUsers:
    title = "Import accounts"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def show(self, status: int = 200, **values: Any) -> Any:
        values = {
            "title": self.title,
            "errors": {},
            "message": "",
            "form": {},
            "summary": None,
            **values,
        }
        response = render_to_response(TEMPLATE, values, self.request)
        response.status_int = status
        return response

    @view_config(request_method="GET")
    def form(self) -> Any:
        return self.show()

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        # The file is read apart from the form's other fields.
        fields = {k: v for k, v in request.POST.items() if k in FORM_FIELDS}
        data, errors = validate(ImportForm(), fields)
        if not errors:
            try:
                data["reason"] = check_reason(data["reason"])
            except Refused as e:
                errors.update(e.errors)
        try:
            source, rows = upload_rows(request.POST.get("file"))
        except ImportFileError as e:
            errors["file"] = str(e)
        if errors:
            return self.show(
                400,
                message="Please correct the marked fields.",
                errors=errors,
                form=fields,
            )
        summary, results = self.run(source, rows, data)
        return self.show(
            form=fields,
            summary=summary,
            source=source,
            dry_run=data["dry_run"],
            rejected=summary.rejected[:SHOWN_REJECTIONS],
            result_url=data_url(results),
        )

    def run(self, source: str, rows: Iterator[Row], data: dict) -> tuple[Summary, str]:
        request = self.request
        importer = UserImport(
            request,
            users=self.context,
            keyring=request.find_service(IKeyring),
            sessions=request.find_service(ISessionService),
            clock=request.find_service(IClock),
            actor=request.signed_in_user.__name__,
            reason=data["reason"],
            source=source,
            update=data["update"],
            dry_run=data["dry_run"],
        )
        results = io.StringIO()
        results.write(csv_line(RESULT_COLUMNS))
        summary = importer.run(
            rows,
            commit=lambda: request.tm.savepoint(optimistic=True),
            progress=lambda result: results.write(result_line(result)),
        )
        return summary, results.getvalue()


def stream_users(db: Any, oid: bytes, keyring: Any) -> Iterator[bytes]:
    """Every account as CSV, read in a connection of its own: the response
    is sent after the request's connection has gone back to the pool."""
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        tm.begin()
        users = conn.get(oid)
        for chunk in export_lines(users, keyring, between_batches=conn.cacheGC):
            yield chunk.encode("utf-8")
    finally:
        tm.abort()
        conn.close()


@view_config(
    context=IUsers,
    name="export.csv",
    permission=ADMIN_USERS_WRITE,
    request_method="GET",
)
def export_users(context: Any, request: Any) -> Response:
    response = Response(content_type="text/csv", charset="utf-8")
    response.content_disposition = 'attachment; filename="users.csv"'
    response.app_iter = stream_users(
        context._p_jar.db(), context._p_oid, request.find_service(IKeyring)
    )
    return response
