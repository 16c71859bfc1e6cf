"""The administration's endpoints in ``/openapi.json``: the users listing,
each account's admin page and its forms, creation, bulk actions and the
CSV import. Bodies come from the forms' schemas."""

from __future__ import annotations

from typing import Any

from ..openapi import (
    LISTING_SCHEMA,
    SIGNED_IN,
    answers,
    form_body,
    json_answer,
    listing_parameters,
    path_parameter,
    query_parameter,
)
from ..users.api import ACCOUNT_PROPERTIES
from ..users.models import ROLES, STATES
from .forms import (
    BulkForm,
    CreateForm,
    DeleteForm,
    EmailForm,
    ReasonForm,
    RolesForm,
)
from .listing import FILTERS, ORDERS
from .transfer_views import ImportForm

LOGIN = path_parameter("login", "The account's login name.")
# The actions that take nothing but a reason, by their view's name.
REASON_ONLY = {
    "admin-disable": "Disable the account; its sessions end",
    "admin-enable": "Enable the account again",
    "admin-force-reset": "Force a password reset by mailed code",
    "admin-resend-confirmation": "Mail a new confirmation code",
    "admin-mark-confirmed": "Mark the address confirmed",
    "admin-end-sessions": "End every session of the account",
    "admin-revoke-trust": "Forget the account's trusted devices and networks",
}
ACCOUNT_SCHEMA = {
    "type": "object",
    "required": ["type", "login", "url", "roles", "state", "history"],
    "properties": {
        **ACCOUNT_PROPERTIES,
        "state": {"enum": list(STATES)},
        "sessions": {"type": "integer"},
        "history": {"type": "array", "items": {"type": "object"}},
        "history_next": {"type": ["string", "null"]},
    },
}


def admin_post(
    summary: str, body: dict[str, Any], parameters: list | None = None
) -> dict[str, Any]:
    """A form only an admin may post: others are sent to sign in (401 for
    JSON) or refused (403); the page again with its errors is a 400."""
    return {
        "summary": summary,
        "parameters": parameters or [],
        "security": SIGNED_IN,
        "requestBody": body,
        "responses": answers(303, 400, 401, 403, 404),
    }


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    # Each filter offers its choices; a login or email search is free text.
    filters = {"state": STATES, "role": ROLES}
    found = {
        ("/users/", "get"): {
            "summary": "Every account, a page at a time",
            "security": SIGNED_IN,
            "parameters": listing_parameters(
                ORDERS.starts, {name: filters.get(name) for name in FILTERS}
            ),
            "responses": answers(
                303,
                400,
                401,
                403,
                _200=json_answer("A page of accounts", LISTING_SCHEMA, html=True),
            ),
        },
        ("/users/{login}/@@admin", "get"): {
            "summary": "An account as its admin page shows it, with its history",
            "security": SIGNED_IN,
            "parameters": [
                LOGIN,
                query_parameter(
                    "before",
                    "From the link to older history.",
                    pattern="^[0-9]{1,19}$",
                ),
            ],
            "responses": answers(
                303,
                400,
                401,
                403,
                404,
                _200=json_answer("The account", ACCOUNT_SCHEMA, html=True),
            ),
        },
        ("/users/@@create", "post"): admin_post(
            "Create an account; its owner sets the password by mailed code",
            form_body(CreateForm()),
        ),
        ("/users/@@bulk", "post"): admin_post(
            "One action on each selected account", form_body(BulkForm())
        ),
        ("/users/@@import", "post"): {
            **admin_post(
                "Import accounts from CSV",
                form_body(
                    ImportForm(),
                    {"file": {"type": "string", "contentMediaType": "text/csv"}},
                    required=("file",),
                    media_type="multipart/form-data",
                ),
            ),
            # The summary is a page of its own, not a redirect.
            "responses": answers(
                303, 400, 401, 403, _200={"description": "The import's summary"}
            ),
        },
        ("/users/{login}/@@admin-email", "post"): admin_post(
            "Set the account's address", form_body(EmailForm()), [LOGIN]
        ),
        ("/users/{login}/@@admin-roles", "post"): admin_post(
            "Set the account's roles", form_body(RolesForm()), [LOGIN]
        ),
        ("/users/{login}/@@admin-delete", "post"): admin_post(
            "Delete the account (type its login to confirm)",
            form_body(DeleteForm()),
            [LOGIN],
        ),
    }
    for name, summary in REASON_ONLY.items():
        found[(f"/users/{{login}}/@@{name}", "post")] = admin_post(
            summary, form_body(ReasonForm()), [LOGIN]
        )
    return found


def includeme(config: Any) -> None:
    config.add_api_operations(operations())
