"""Sign in (with a code from a new place), sign out, keep alive."""

from __future__ import annotations

import secrets
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...audit import failed, notify
from ...codes.services import CodeCooldown
from ...interfaces import IRoot
from ...permissions import VIEW
from ...urls import safe_next
from ..flow import Flow, clear_flow, load_flow, save_flow
from ..forms import CodeForm, LoginForm, validate
from ..identity import device_id, end_session, remember_device, start_session
from ..models import email_key, normalize_login
from ..verification import check_code, send_code
from .common import after_sign_in_url, page, restart, shown_again

GENERIC_FAILURE = (
    "Sign-in failed: the login name or password is wrong, or the account must "
    "wait a while after too many attempts. Check them and try again."
)


def dummy_hash(registry: Any) -> str:
    """A hash to verify against when no account matches, so a wrong login
    name takes as long as a wrong password and timing tells nothing.

    Made on first use, not at start-up: most processes never need it.
    Two threads making it at once only do the work twice.
    """
    found = getattr(registry, "dummy_hash", None)
    if found is None:
        found = registry.dummy_hash = registry.password_hasher.hash(
            "wingapp: no such account " + secrets.token_hex(8)
        )
    return found


def find_account(request: Any, name: str) -> Any:
    users = request.root["users"]
    if "@" in name:
        return users.find_by_email(
            request.registry.keyring.mac("email", email_key(name))
        )
    return users.get(normalize_login(name))


def finish_sign_in(request: Any, user: Any, next_path: str) -> Any:
    """The last step of every successful sign-in."""
    registry = request.registry
    start_session(request, user)
    device = device_id(request) or secrets.token_urlsafe(24)
    remember_device(request, device)
    registry.trust_service.trust(user, device, request.client_addr, request.user_agent)
    clear_flow(request)
    notify(request, "sign-in", login=user.__name__)
    return HTTPSeeOther(location=after_sign_in_url(request, user, next_path))


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
        registry = request.registry
        data, errors = validate(LoginForm(), request.POST)
        if errors:
            return self.refuse(
                data, "Enter your login name (or email) and password.", errors
            )
        user = find_account(request, data["login"])
        now = registry.clock()
        hasher = registry.password_hasher
        if user is None:
            hasher.verify(dummy_hash(registry), data["password"])
            failed(request, "sign-in", None, reason="unknown")
            return self.refuse(data)
        if registry.backoff.wait(user, now):
            failed(request, "sign-in", user, counts=False, reason="locked")
            return self.refuse(data)
        if not hasher.verify(user.password_hash, data["password"]):
            failed(request, "sign-in", user, reason="password")
            return self.refuse(data)
        if hasher.needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(data["password"])
        registry.backoff.succeed(user)
        if not user.email_confirmed:
            return self.start_flow(user, "confirm-email", data["next"], "confirm-email")
        trust = registry.trust_service
        if trust.needs_code(user, device_id(request), request.client_addr):
            return self.start_flow(user, "sign-in", data["next"], "verify")
        return finish_sign_in(request, user, data["next"])

    def start_flow(self, user: Any, kind: str, next_path: str, view: str) -> Any:
        request = self.request
        flow = Flow(kind=kind, login=user.__name__, next=next_path)
        try:
            send_code(request, user, flow)
        except CodeCooldown as e:
            return self.refuse(
                {"login": user.__name__, "next": next_path},
                f"A code was sent moments ago. Wait {e.seconds_left} seconds and try again.",
            )
        save_flow(request, flow)
        return HTTPSeeOther(location=request.resource_url(request.root, view))


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

    @view_config(request_method="GET")
    def form(self) -> Any:
        if self.flow is None:
            return self.start_again("That sign-in has expired. Sign in again.")
        return page(self.request, self.template, title=self.title)

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        if self.flow is None:
            return self.start_again("That sign-in has expired. Sign in again.")
        if "resend" in request.POST:
            return self.resend()
        data, errors = validate(CodeForm(), request.POST)
        if errors:
            return page(
                request, self.template, status=400, title=self.title, errors=errors
            )
        if self.user is None:
            # A flow for no account (see registration): nothing will match.
            return page(
                request,
                self.template,
                status=400,
                title=self.title,
                message="That code is not right.",
            )
        result = check_code(request, self.user, self.flow, data["code"])
        if result.start_again:
            return self.start_again(result.message)
        if not result.ok:
            return page(
                request,
                self.template,
                status=400,
                title=self.title,
                message=result.message,
            )
        return self.succeed()

    def succeed(self) -> Any:
        return finish_sign_in(self.request, self.user, self.flow.next)

    def resend(self) -> Any:
        request = self.request
        try:
            if self.user is not None:
                send_code(request, self.user, self.flow)
        except CodeCooldown as e:
            return page(
                request,
                self.template,
                status=429,
                title=self.title,
                message=f"A code was sent moments ago. Wait {e.seconds_left} seconds before asking again.",
            )
        save_flow(request, self.flow)
        request.session.flash(
            "A new code is on its way. The previous one no longer works."
        )
        return HTTPSeeOther(
            location=request.resource_url(request.root, request.view_name)
        )


@view_config(context=IRoot, name="logout", request_method="POST", permission=VIEW)
def logout(context: Any, request: Any) -> Any:
    timed_out = request.POST.get("reason") == "timeout"
    user = end_session(request)
    if user is not None:
        notify(request, "timeout" if timed_out else "sign-out", login=user.__name__)
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
    seconds, because = request.registry.session_service.remaining(sign_in.record)
    return {"signed_in": True, "expires_in": seconds, "ends_because": because}
