"""The accounts' endpoints in ``/openapi.json``: the sign-in flows, the
keep-alive and strength meter, and each account's own pages and forms.
Form bodies come from the forms' schemas, so they say what the views
really take."""

from __future__ import annotations

from typing import Any

from ..openapi import (
    JSON,
    SIGNED_IN,
    answers,
    csrf_header,
    form_body,
    json_answer,
    page,
    path_parameter,
    query_parameter,
    schema_of,
)
from .forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    CodeForm,
    LoginForm,
    RegisterForm,
    ResetForm,
    ResetRequestForm,
    StrengthRequest,
)
from .views.activity import NotMeEntryForm

LOGIN = path_parameter("login", "The account's login name.")
PRESENT = {"type": "string", "description": "Present to ask for this."}
KEY = {"type": "string", "maxLength": 128, "description": "Which one, from the page."}

ACCOUNT_PROPERTIES = {
    "type": {"const": "user"},
    "login": {"type": "string"},
    "url": {"type": "string"},
    "email": {"type": "string"},
    "email_confirmed": {"type": "boolean"},
    "roles": {"type": "array", "items": {"type": "string"}},
}
"""What an account's JSON says of it, to its owner or to an admin."""
USER_SCHEMA = {
    "type": "object",
    "required": ["type", "login", "url", "roles"],
    "properties": {
        **ACCOUNT_PROPERTIES,
        "sessions": {"type": "array", "items": {"type": "object"}},
        "trusted_devices": {"type": "array", "items": {"type": "object"}},
        "trusted_networks": {"type": "array", "items": {"type": "object"}},
    },
}
ACTIVITY_SCHEMA = {
    "type": "object",
    "required": ["type", "login", "items"],
    "properties": {
        "type": {"const": "activity"},
        "login": {"type": "string"},
        "before": {"type": ["integer", "null"]},
        "items": {"type": "array", "items": {"type": "object"}},
        "next": {"type": ["string", "null"]},
    },
}


def form_post(
    summary: str, body: dict[str, Any], *statuses: int, **described: Any
) -> dict[str, Any]:
    """A form anyone may post: it answers a redirect when done, or the
    page again (400) saying what to fix."""
    return {
        "summary": summary,
        "requestBody": body,
        "responses": answers(303, 400, *statuses, **described),
    }


def own_post(summary: str, body: dict[str, Any], *statuses: int) -> dict[str, Any]:
    """A form on one's own account: not signed in is a redirect to sign in
    (401 for JSON), someone else's account is a 403."""
    return {
        "summary": summary,
        "parameters": [LOGIN],
        "security": SIGNED_IN,
        "requestBody": body,
        "responses": answers(303, 400, 401, 403, 404, *statuses),
    }


def own_json(summary: str, schema: dict, *parameters: dict) -> dict[str, Any]:
    return {
        "summary": summary,
        "parameters": [LOGIN, *parameters],
        "security": SIGNED_IN,
        "responses": answers(
            303, 400, 401, 403, 404, _200=json_answer(summary, schema, html=True)
        ),
    }


def operations() -> dict[tuple[str, str], dict[str, Any]]:
    # Asking for a new code ("resend") sends no code.
    code = schema_of(CodeForm())["properties"]["code"]
    code_again = form_body(extra={"code": code, "resend": PRESENT})
    return {
        ("/login", "post"): form_post(
            "Sign in (a code may be asked for next, at /verify)", form_body(LoginForm())
        ),
        ("/verify", "post"): form_post(
            "The code of a sign-in from a new place, or resend it", code_again, 429
        ),
        ("/confirm-email", "post"): form_post(
            "The code that confirms a new account's address, or resend it",
            code_again,
            429,
        ),
        ("/register", "post"): form_post(
            "Create an account; a code is mailed to confirm the address",
            form_body(RegisterForm()),
        ),
        ("/reset-password", "post"): form_post(
            "Ask for a reset code by mail", form_body(ResetRequestForm())
        ),
        ("/new-password", "post"): form_post(
            "The reset code and a new password", form_body(ResetForm())
        ),
        ("/not-me", "post"): form_post(
            "This wasn't me: cancel the code, end every session",
            form_body(
                extra={
                    "code": {"type": "string", "description": "From the mail's link."},
                    "t": {"type": "string", "description": "From the mail's link."},
                },
                required=("code", "t"),
            ),
            _200=page("That link was used already."),
        ),
        ("/logout", "post"): form_post(
            "Sign out",
            form_body(
                extra={
                    "reason": {"type": "string", "examples": ["timeout"]},
                    "next": {"type": "string", "description": "A path to return to."},
                }
            ),
        ),
        ("/ping", "post"): {
            "summary": "Keep the session alive",
            "security": SIGNED_IN,
            "requestBody": form_body(),
            "responses": answers(
                400,
                _200=json_answer(
                    "Still signed in",
                    {"type": "object", "properties": {"signed_in": {"const": True}}},
                ),
                _401=json_answer(
                    "The session has ended",
                    {"type": "object", "properties": {"signed_in": {"const": False}}},
                ),
            ),
        },
        ("/password-strength", "post"): {
            "summary": "Score a password for the strength meter; changes nothing",
            "parameters": [csrf_header()],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": schema_of(StrengthRequest())}},
            },
            "responses": answers(
                _200=json_answer(
                    "The score and what to improve",
                    {
                        "type": "object",
                        "required": ["score", "needed", "acceptable"],
                        "properties": {
                            "score": {"type": "integer"},
                            "needed": {"type": "integer"},
                            "acceptable": {"type": "boolean"},
                            "problems": {"type": "array"},
                        },
                    },
                ),
                _400=json_answer("Not JSON with a 'password' field"),
            ),
        },
        ("/users/{login}/", "get"): own_json("The account", USER_SCHEMA),
        ("/users/{login}/activity", "get"): own_json(
            "The account's history, newest first",
            ACTIVITY_SCHEMA,
            query_parameter(
                "before", "From the link to older entries.", pattern="^[0-9]{1,19}$"
            ),
        ),
        ("/users/{login}/end-session", "post"): own_post(
            "End one of the account's sessions",
            form_body(extra={"key": KEY}, required=("key",)),
        ),
        ("/users/{login}/revoke-trust", "post"): own_post(
            "Forget a trusted device or network",
            form_body(extra={"key": KEY}, required=("key",)),
        ),
        ("/users/{login}/not-me-entry", "post"): own_post(
            "An entry of the history was not me", form_body(NotMeEntryForm())
        ),
        ("/users/{login}/password", "post"): own_post(
            "Change the password (needs the current one)",
            form_body(ChangePasswordForm()),
        ),
        ("/users/{login}/email", "post"): own_post(
            "Change the address: a code goes to the new one",
            form_body(ChangeEmailForm()),
        ),
        ("/users/{login}/confirm-email-change", "post"): own_post(
            "The code sent to the new address; or resend it, or cancel",
            form_body(extra={"code": code, "resend": PRESENT, "cancel": PRESENT}),
            429,
        ),
    }


def includeme(config: Any) -> None:
    config.add_api_operations(operations())
