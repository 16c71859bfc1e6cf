"""Form schemas. Validation only: the rules about accounts live in models
and services, so the command line and the web share them."""

from __future__ import annotations

import re
from typing import Any

import colander

from .passwords import MAX_LENGTH

CODE_PATTERN = re.compile(r"^[0-9 ]{1,24}$")


def _text(title: str, max_length: int = 254, **kw: Any) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.String(),
        title=title,
        validator=colander.Length(min=1, max=max_length),
        missing_msg=f"Enter your {title.lower()}.",
        **kw,
    )


def _password(title: str) -> colander.SchemaNode:
    # Passwords are never stripped: spaces are part of them.
    return colander.SchemaNode(
        colander.String(allow_empty=False),
        title=title,
        validator=colander.Length(min=1, max=4 * MAX_LENGTH),
        preparer=None,
        missing_msg=f"Enter {title.lower()}.",
    )


def _matching(first: str, second: str):
    def validator(node: Any, value: dict) -> None:
        if value[first] != value[second]:
            error = colander.Invalid(node)
            error[second] = "The two passwords differ. Type the same password twice."
            raise error

    return validator


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class LoginForm(colander.MappingSchema):
    login = _text("Login name or email", preparer=_strip)
    password = _password("your password")
    next = colander.SchemaNode(colander.String(), missing="")


class RegisterForm(colander.MappingSchema):
    login = _text("Login name", max_length=64, preparer=_strip)
    email = _text("Email address", preparer=_strip)
    password = _password("a password")
    password_confirm = _password("the password again")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(
            *args, validator=_matching("password", "password_confirm"), **kw
        )


class CodeForm(colander.MappingSchema):
    code = colander.SchemaNode(
        colander.String(),
        title="Code",
        preparer=_strip,
        validator=colander.Regex(
            CODE_PATTERN, "The code is the digits from the email."
        ),
        missing_msg="Enter the code from the email.",
    )


class ChangePasswordForm(colander.MappingSchema):
    current_password = _password("your current password")
    password = _password("a new password")
    password_confirm = _password("the new password again")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(
            *args, validator=_matching("password", "password_confirm"), **kw
        )


class ChangeEmailForm(colander.MappingSchema):
    email = _text("New email address", preparer=_strip)
    current_password = _password("your current password")


class ResetRequestForm(colander.MappingSchema):
    login = _text("Login name or email", preparer=_strip)


class ResetForm(colander.MappingSchema):
    code = CodeForm().get("code").clone()
    password = _password("a new password")
    password_confirm = _password("the new password again")

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(
            *args, validator=_matching("password", "password_confirm"), **kw
        )


class StrengthRequest(colander.MappingSchema):
    password = colander.SchemaNode(
        colander.String(allow_empty=True), validator=colander.Length(max=4 * MAX_LENGTH)
    )
    login = colander.SchemaNode(colander.String(allow_empty=True), missing="")
    email = colander.SchemaNode(colander.String(allow_empty=True), missing="")


def validate(schema: colander.Schema, data: Any) -> tuple[dict, dict[str, str]]:
    """(values, {}) when valid, else (what was entered, {field: message})."""
    try:
        return schema.deserialize(dict(data)), {}
    except colander.Invalid as e:
        errors = {k.split(".")[-1]: v for k, v in e.asdict().items()}
        return dict(data), errors
