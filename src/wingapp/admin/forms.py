"""The admin forms' schemas. Validation of shape only (present, not too
long, one of the offered choices): the rules about accounts live in the
models and :mod:`.services`, which the console shares."""

from __future__ import annotations

from typing import Any

import colander

from ..users.models import ROLES, AccountError, check_email, check_login
from .services import REASON_LENGTH, REASON_MESSAGE

MAX_BULK = 500
BULK_ACTIONS = ("disable", "enable", "force-reset", "end-sessions")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _by_rule(rule: Any) -> Any:
    """A validator from one of the account rules, so that a form shows
    every problem at once; the service checks the same rule again."""

    def validate(node: Any, value: str) -> None:
        try:
            rule(value)
        except AccountError as e:
            raise colander.Invalid(node, str(e)) from None

    return validate


def _text(title: str, rule: Any) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        title=title,
        preparer=_strip,
        validator=_by_rule(rule),
        missing_msg=f"Enter the {title.lower()}.",
    )


def _reason() -> colander.SchemaNode:
    low, high = REASON_LENGTH
    return colander.SchemaNode(
        colander.String(),
        title="Reason",
        preparer=_strip,
        validator=colander.Length(
            min=low, max=high, min_err=REASON_MESSAGE, max_err=REASON_MESSAGE
        ),
        missing_msg=REASON_MESSAGE,
    )


def _known_roles(node: Any, value: set) -> None:
    unknown = sorted(value - set(ROLES))
    if unknown:
        raise colander.Invalid(
            node,
            f"Unknown role: {', '.join(unknown)}. Choose from {', '.join(ROLES)}.",
        )


def _roles() -> colander.SchemaNode:
    # No box ticked is no role at all: the form sends no field.
    return colander.SchemaNode(
        colander.Set(), title="Roles", missing=(), validator=_known_roles
    )


class ReasonForm(colander.MappingSchema):
    """Every action that needs nothing but a reason."""

    reason = _reason()


@colander.deferred
def _password_if_asked(node: Any, kw: dict) -> Any:
    # Only a sign-in older than auth.reauth_after is asked for the password;
    # otherwise the field is not on the form, and nothing sent in it counts.
    return colander.required if kw["reauth"] else colander.drop


@colander.deferred
def _reauth_prompt(node: Any, kw: dict) -> Any:
    return kw["reauth"]


class SensitiveForm(ReasonForm):
    """A change that may need the administrator's password again (ASVS
    3.7.1). Bind with ``reauth=`` the prompt
    (:func:`wingapp.users.identity.reauth_prompt`), None when the sign-in
    is recent; the view checks a password given."""

    current_password = colander.SchemaNode(
        colander.String(), missing=_password_if_asked, missing_msg=_reauth_prompt
    )


class EmailForm(SensitiveForm):
    email = _text("Email address", check_email)


class RolesForm(SensitiveForm):
    roles = _roles()


@colander.deferred
def _is_the_login(node: Any, kw: dict) -> Any:
    def check(node: Any, value: str) -> None:
        if value != kw["login"]:
            raise colander.Invalid(
                node, f"Type the login name “{kw['login']}” to confirm."
            )

    return check


class DeleteForm(ReasonForm):
    """Bind with ``login=``: deleting needs the login typed out, so that no
    stray click removes an account."""

    confirm = colander.SchemaNode(
        colander.String(),
        preparer=_strip,
        validator=_is_the_login,
        missing_msg="Type the login name to confirm.",
    )


class CreateForm(ReasonForm):
    login = _text("Login name", check_login)
    email = _text("Email address", check_email)
    roles = _roles()


class BulkForm(ReasonForm):
    login = colander.SchemaNode(
        colander.Sequence(),
        colander.SchemaNode(colander.String(), validator=colander.Length(max=64)),
        validator=colander.Length(
            min=1,
            max=MAX_BULK,
            min_err="Select at least one account.",
            max_err=f"Select at most {MAX_BULK} accounts at once.",
        ),
        missing_msg="Select at least one account.",
    )
    action = colander.SchemaNode(
        colander.String(),
        validator=colander.OneOf(
            BULK_ACTIONS, msg_err=f"Choose one of: {', '.join(BULK_ACTIONS)}."
        ),
        missing_msg="Choose what to do.",
    )
    came_from = colander.SchemaNode(colander.String(), missing="")


def form_data(schema: colander.Schema, params: Any) -> dict:
    """A form's fields: those the schema takes many of (checkboxes, a
    selection) as lists, every other field's last value."""
    lists = {
        node.name
        for node in schema.children
        if isinstance(node.typ, colander.Sequence | colander.Set)
    }
    data = {k: v for k, v in params.items() if k not in lists and k != "csrf_token"}
    data.update((k, params.getall(k)) for k in lists if k in params)
    return data


def validate(schema: colander.Schema, params: Any) -> tuple[dict, dict[str, str]]:
    """(values, {}) when valid, else (what was entered, {field: message})."""
    data = form_data(schema, params)
    try:
        return schema.deserialize(data), {}
    except colander.Invalid as e:
        # A message about one selected login ("login.3") is about the field.
        errors: dict[str, str] = {}
        for path, message in e.asdict().items():
            errors.setdefault(path.split(".")[0], message)
        return data, errors
