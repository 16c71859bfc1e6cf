"""Sign in (with a code from a new place), sign out, keep alive."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...codes.services import CodeCooldown
from ...interfaces import IRoot
from ...permissions import VIEW
from ...urls import safe_next
from ..flow import load_flow
from ..forms import CodeForm, LoginForm, validate
from ..interfaces import IAccountService, ISessionService
from ..services import GENERIC_FAILURE, Refused
from .common import after_sign_in_url, page, restart, shown_again, wait_for_code


@view_defaults(context=IRoot, name="login", permission=VIEW)
class LoginViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(request_method="GET")
    def form(self) -> Any:
        request = self.request
        if request.signed_in_user is not None:
            return HTTPSeeOther(
                location=after_sign_in_url(
                    request, request.signed_in_user, request.GET.get("next")
                )
            )
        return page(
            request, "login.pt", title="Sign in", next=request.GET.get("next", "")
        )

    def refuse(
        self, form: dict, message: str = GENERIC_FAILURE, errors: Any = None
    ) -> Any:
        return page(
            self.request,
            "login.pt",
            status=400,
            title="Sign in",
            form=shown_again(form),
            errors=errors or {},
            message=message,
            next=form.get("next", ""),
        )

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        data, errors = validate(LoginForm(), request.POST)
        if errors:
            return self.refuse(
                data, "Enter your login name (or email) and password.", errors
            )
        accounts = request.find_service(IAccountService)
        try:
            step = accounts.sign_in(data["login"], data["password"], data["next"])
        except Refused as e:
            return self.refuse(data, e.message)
        except CodeCooldown as e:
            return self.refuse(
                {"login": data["login"], "next": data["next"]},
                wait_for_code(e),
            )
        if step.message:
            request.session.flash(step.message)
        if step.flow is not None:
            return HTTPSeeOther(location=request.resource_url(request.root, step.view))
        return HTTPSeeOther(
            location=after_sign_in_url(request, step.user, data["next"])
        )


@view_defaults(context=IRoot, name="verify", permission=VIEW)
class VerifyViews:
    """The second step: the code mailed for a sign-in from a new place."""

    kind = "sign-in"
    template = "verify.pt"
    title = "Enter your code"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request
        self.flow = load_flow(request, self.kind)
        self.user = (
            None if self.flow is None else request.root["users"].get(self.flow.login)
        )

    def start_again(self, message: str) -> Any:
        request = self.request
        return restart(request, message, request.resource_url(request.root, "login"))

    def show(self, status: int = 200, **values: Any) -> Any:
        """The page that asks for the code, saying where it went and why."""
        return page(
            self.request,
            self.template,
            status=status,
            title=self.title,
            why=self.flow.why,
            sent_to=self.flow.sent_to,
            **values,
        )

    @view_config(request_method="GET")
    def form(self) -> Any:
        if self.flow is None:
            return self.start_again("That sign-in has expired. Sign in again.")
        return self.show()

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        if self.flow is None:
            return self.start_again("That sign-in has expired. Sign in again.")
        if "resend" in request.POST:
            return self.resend()
        data, errors = validate(CodeForm(), request.POST)
        if errors:
            return self.show(400, errors=errors)
        accounts = request.find_service(IAccountService)
        result = accounts.check_code(self.user, self.flow, data["code"])
        if result.start_again:
            return self.start_again(result.message)
        if not result.ok:
            return self.show(400, errors={"code": result.message})
        return self.succeed(accounts)

    def succeed(self, accounts: Any) -> Any:
        accounts.finish_sign_in(self.user)
        return HTTPSeeOther(
            location=after_sign_in_url(self.request, self.user, self.flow.next)
        )

    def resend(self) -> Any:
        request = self.request
        try:
            request.find_service(IAccountService).resend_code(self.user, self.flow)
        except CodeCooldown as e:
            return self.show(429, message=wait_for_code(e, "before asking again"))
        request.session.flash(
            "A new code is on its way. The previous one no longer works."
        )
        return HTTPSeeOther(
            location=request.resource_url(request.root, request.view_name)
        )


@view_config(context=IRoot, name="logout", request_method="POST", permission=VIEW)
def logout(context: Any, request: Any) -> Any:
    timed_out = request.POST.get("reason") == "timeout"
    request.find_service(IAccountService).sign_out(timed_out)
    query = {}
    if timed_out:
        query["timeout"] = "1"
        if safe_next(request, request.POST.get("next")):
            query["next"] = request.POST["next"]
    return HTTPSeeOther(
        location=request.resource_url(context, "logged-out", query=query)
    )


@view_config(
    context=IRoot,
    name="logged-out",
    request_method="GET",
    permission=VIEW,
    renderer="wingapp:templates/users/logged_out.pt",
)
def logged_out(context: Any, request: Any) -> dict:
    next_path = request.GET.get("next")
    query = {"next": next_path} if safe_next(request, next_path) else {}
    return {
        "title": "Signed out",
        "timed_out": request.GET.get("timeout") == "1",
        "at_limit": request.GET.get("limit") == "1",
        "login_url": request.resource_url(context, "login", query=query),
    }


@view_config(
    context=IRoot, name="ping", request_method="POST", permission=VIEW, renderer="json"
)
def ping(context: Any, request: Any) -> dict:
    """Keep-alive: the session was touched when it was looked up."""
    sign_in = request.sign_in
    if sign_in is None:
        request.response.status_int = 401
        return {"signed_in": False, "message": "Your session has ended. Sign in again."}
    seconds, because = request.find_service(ISessionService).remaining(sign_in.record)
    return {"signed_in": True, "expires_in": seconds, "ends_because": because}
