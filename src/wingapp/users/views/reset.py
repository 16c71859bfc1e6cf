"""Password reset by emailed code, and "this wasn't me"."""

from __future__ import annotations

import hmac
from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...interfaces import IKeyring, IRoot
from ...permissions import VIEW
from ..flow import load_flow
from ..forms import ResetForm, ResetRequestForm, validate
from ..interfaces import IAccountService
from ..services import Refused
from .common import page, restart

STALE_RESET_LINK = (
    "This link can no longer be used: its code has expired, was used, or was "
    "replaced by a newer one. Ask for a new code: choose “Forgot your "
    "password?” on the sign-in page, or ask your administrator."
)

SENT = (
    "If an account matches, we have sent a code to its email address. "
    "Enter it below with your new password."
)


def open_link(request: Any, kind: str, stale: str) -> Any:
    """Start, in this browser, the flow a link mailed with a code names
    (``?code=…&n=…``); a link whose code can no longer be used is a 400
    saying ``stale``. The page then asks for the code from that mail."""
    flow = request.find_service(IAccountService).open_code_link(
        kind, request.GET.get("code", ""), request.GET.get("n", "")
    )
    if flow is None:
        raise HTTPBadRequest(stale)
    return flow


@view_defaults(context=IRoot, name="reset-password", permission=VIEW)
class ResetRequest:
    title = "Reset your password"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(request_method="GET")
    def form(self) -> Any:
        return page(self.request, "reset_request.pt", title=self.title)

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        data, errors = validate(ResetRequestForm(), request.POST)
        if errors:
            return page(
                request, "reset_request.pt", status=400, title=self.title, errors=errors
            )
        request.find_service(IAccountService).request_reset(data["login"])
        request.session.flash(SENT)
        return HTTPSeeOther(location=request.resource_url(self.context, "new-password"))


@view_defaults(context=IRoot, name="new-password", permission=VIEW)
class NewPassword:
    title = "Choose a new password"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request
        self.flow = load_flow(request, "reset-password")

    def start_again(
        self, message: str = "That reset has expired. Ask for a new code."
    ) -> Any:
        url = self.request.resource_url(self.context, "reset-password")
        return restart(self.request, message, url)

    def refuse(self, message: str, errors: Any = None) -> Any:
        return page(
            self.request,
            "new_password.pt",
            status=400,
            title=self.title,
            message=message,
            errors=errors or {},
        )

    @view_config(request_method="GET")
    def form(self) -> Any:
        if "code" in self.request.GET:
            open_link(self.request, "reset-password", STALE_RESET_LINK)
            self.request.session.flash(
                "Enter the code from the email and choose your password."
            )
        elif self.flow is None:
            return self.start_again()
        return page(self.request, "new_password.pt", title=self.title)

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        if self.flow is None:
            return self.start_again()
        data, errors = validate(ResetForm(), request.POST)
        if errors:
            return self.refuse("Please correct the marked fields.", errors)
        try:
            result = request.find_service(IAccountService).reset_password(
                self.flow, data["code"], data["password"]
            )
        except Refused as e:
            return self.refuse(e.message, e.errors)
        if result.start_again:
            return self.start_again(result.message)
        if not result.ok:
            return self.refuse(result.message)
        request.session.flash("Your password is changed. Sign in with it now.")
        return HTTPSeeOther(location=request.resource_url(self.context, "login"))


@view_defaults(context=IRoot, name="not-me", permission=VIEW)
class NotMe:
    """The link in a code email: someone else is trying to use the account."""

    title = "This wasn't me"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def code(self, params: Any) -> Any:
        code_id = params.get("code", "")
        token = params.get("t", "")
        expected = self.request.find_service(IKeyring).mac("not-me", code_id)
        code = self.context["codes"].get(code_id) if code_id else None
        if code is None or not hmac.compare_digest(token.encode(), expected.encode()):
            raise HTTPBadRequest(
                "This link is not valid. Copy the whole link from the email, or reset "
                "your password from the sign-in page."
            )
        return code

    def used(self) -> Any:
        return page(self.request, "not_me.pt", title=self.title, used=True)

    @view_config(request_method="GET")
    def form(self) -> Any:
        # Reading the link changes nothing; the button on this page does.
        code = self.code(self.request.GET)
        if code.denied_at is not None:
            return self.used()
        return page(
            self.request,
            "not_me.pt",
            title=self.title,
            code_id=code.__name__,
            token=self.request.GET["t"],
            used=False,
        )

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        code = self.code(request.POST)
        if not request.find_service(IAccountService).not_me(code):
            return self.used()
        request.session.flash(
            "We cancelled the code, signed out every session of the account and "
            "forgot its trusted browsers and networks. The old password no "
            "longer opens it: ask for a reset code here to choose a new one."
        )
        return HTTPSeeOther(
            location=request.resource_url(self.context, "reset-password")
        )
