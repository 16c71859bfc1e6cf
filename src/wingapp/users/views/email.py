"""Changing the email address: the current password, then a code sent to
the new address proves it is the user's."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...audit import failed, notify
from ...codes.services import CodeCooldown
from ...interfaces import IUser
from ...permissions import USER_WRITE
from ..flow import Flow, clear_flow, load_flow, save_flow
from ..forms import ChangeEmailForm, CodeForm, validate
from ..mail import already_registered_message, email_changed_message
from ..models import AccountError, check_email, email_key
from ..verification import check_code, send_code
from .common import page, restart

KIND = "change-email"


@view_defaults(context=IUser, name="email", permission=USER_WRITE)
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
        registry = request.registry
        user = self.context
        data, errors = validate(ChangeEmailForm(), request.POST)
        shown = {"email": data.get("email", "")}
        if errors:
            return self.refuse("Please correct the marked fields.", errors, shown)
        try:
            email = check_email(data["email"])
        except AccountError as e:
            return self.refuse(str(e), {"email": str(e)}, shown)
        keyring = registry.keyring
        if keyring.mac("email", email_key(email)) == user.email_index:
            return self.refuse("That is your address already.", form=shown)
        # Re-authentication: whoever sits at a signed-in browser must still
        # know the password to move the account to another address.
        if not registry.password_hasher.verify(
            user.password_hash, data["current_password"]
        ):
            failed(request, "email-change", user, reason="current password")
            return self.refuse(
                "Your current password is not right.",
                {"current_password": "Not your current password."},
                shown,
            )
        flow = Flow(kind=KIND, login=user.__name__, new_email=email)
        if self.context.__parent__.find_by_email(
            keyring.mac("email", email_key(email))
        ):
            # Same answer as for a free address; the owner hears of it.
            registry.mailer.send(already_registered_message(request, email), request.tm)
        else:
            try:
                send_code(request, user, flow)
            except CodeCooldown as e:
                return self.refuse(
                    f"A code was sent moments ago. Wait {e.seconds_left} seconds and try again.",
                    form=shown,
                )
        save_flow(request, flow)
        request.session.flash(f"We have sent a code to {email}.")
        return HTTPSeeOther(location=request.resource_url(user, "confirm-email-change"))


@view_defaults(context=IUser, name="confirm-email-change", permission=USER_WRITE)
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
        registry = request.registry
        user = self.context
        if self.flow is None:
            return self.start_again()
        data, errors = validate(CodeForm(), request.POST)
        if errors:
            return self.show(400, errors=errors, new_email=self.flow.new_email)
        if self.flow.code_id is None:
            # No code was sent: the address belongs to another account.
            return self.show(
                400, message="That code is not right.", new_email=self.flow.new_email
            )
        result = check_code(request, user, self.flow, data["code"])
        if result.start_again:
            return self.start_again(result.message)
        if not result.ok:
            return self.show(400, message=result.message, new_email=self.flow.new_email)
        keyring = registry.keyring
        users = user.__parent__
        new_email = self.flow.new_email
        if users.find_by_email(keyring.mac("email", email_key(new_email))) is not None:
            # Another account took the address since the code was sent.
            return self.show(
                400,
                message="Another account uses this address now. Choose another.",
                new_email=new_email,
            )
        old_email = user.email(keyring)
        old_index = user.email_index
        user.set_email(new_email, keyring)
        users.reindex_email(user, old_index)
        user.email_confirmed = True
        registry.mailer.send(
            email_changed_message(request, user, old_email), request.tm
        )
        notify(
            request,
            "email-change",
            login=user.__name__,
            actor=request.signed_in_user.__name__,
        )
        request.session.flash("Your email address is changed.")
        clear_flow(request)
        return HTTPSeeOther(location=request.resource_url(user))
