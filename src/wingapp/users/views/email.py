"""Changing the email address: the current password, then a code sent to
the new address proves it is the user's."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...codes.services import CodeCooldown
from ...interfaces import IUser
from ...permissions import USER_CREDENTIALS
from ..flow import load_flow
from ..forms import ChangeEmailForm, CodeForm, validate
from ..interfaces import IAccountService
from ..services import Refused
from .common import page, restart, wait_for_code

KIND = "change-email"


@view_defaults(context=IUser, name="email", permission=USER_CREDENTIALS)
class ChangeEmail:
    title = "Change your email address"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def refuse(self, message: str, errors: Any = None, form: Any = None) -> Any:
        return page(
            self.request,
            "change_email.pt",
            status=400,
            title=self.title,
            user=self.context,
            message=message,
            errors=errors or {},
            form=form or {},
        )

    @view_config(request_method="GET")
    def form(self) -> Any:
        return page(
            self.request, "change_email.pt", title=self.title, user=self.context
        )

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        user = self.context
        data, errors = validate(ChangeEmailForm(), request.POST)
        shown = {"email": data.get("email", "")}
        if errors:
            return self.refuse("Please correct the marked fields.", errors, shown)
        try:
            request.find_service(IAccountService).request_email_change(
                user, data["email"], data["current_password"]
            )
        except Refused as e:
            return self.refuse(e.message, e.errors, shown)
        except CodeCooldown as e:
            return self.refuse(
                wait_for_code(e),
                form=shown,
            )
        # The page says where it went; the flash (in a cookie) does not.
        request.session.flash("We have sent a code to your new address.")
        return HTTPSeeOther(location=request.resource_url(user, "confirm-email-change"))


@view_defaults(context=IUser, name="confirm-email-change", permission=USER_CREDENTIALS)
class ConfirmEmailChange:
    title = "Confirm your new email address"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request
        flow = load_flow(request, KIND)
        self.flow = (
            flow if flow is not None and flow.login == context.__name__ else None
        )

    def start_again(
        self, message: str = "That email change has expired. Start again."
    ) -> Any:
        return restart(
            self.request, message, self.request.resource_url(self.context, "email")
        )

    def show(self, status: int = 200, **values: Any) -> Any:
        return page(
            self.request,
            "confirm_email_change.pt",
            status=status,
            title=self.title,
            **values,
        )

    @view_config(request_method="GET")
    def form(self) -> Any:
        if self.flow is None:
            return self.start_again()
        return self.show(new_email=self.flow.new_email)

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        user = self.context
        if self.flow is None:
            return self.start_again()
        accounts = request.find_service(IAccountService)
        if "cancel" in request.POST:
            accounts.cancel_flow(self.flow)
            request.session.flash(
                "The email change is cancelled: your address is as before."
            )
            return HTTPSeeOther(location=request.resource_url(user))
        if "resend" in request.POST:
            return self.resend(accounts)
        data, errors = validate(CodeForm(), request.POST)
        if errors:
            return self.show(400, errors=errors, new_email=self.flow.new_email)
        result = accounts.confirm_email_change(user, self.flow, data["code"])
        if result.start_again:
            return self.start_again(result.message)
        if not result.ok:
            return self.show(
                400,
                errors={"code": result.message},
                new_email=self.flow.new_email,
            )
        request.session.flash("Your email address is changed.")
        return HTTPSeeOther(location=request.resource_url(user))

    def resend(self, accounts: Any) -> Any:
        request = self.request
        try:
            accounts.resend_code(self.context, self.flow)
        except CodeCooldown as e:
            return self.show(
                429,
                message=wait_for_code(e, "before asking again"),
                new_email=self.flow.new_email,
            )
        request.session.flash(
            "A new code is on its way. The previous one no longer works."
        )
        return HTTPSeeOther(
            location=request.resource_url(self.context, "confirm-email-change")
        )
