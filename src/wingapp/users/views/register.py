"""Registration, email confirmation and the password-strength meter."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...interfaces import IRoot
from ...permissions import VIEW
from ..forms import RegisterForm, StrengthRequest, validate
from ..interfaces import IAccountService
from ..passwords import MIN_SCORE, password_problems, strength
from ..services import Refused, account_problems, from_link
from .common import page, restart, shown_again
from .reset import open_link
from .signin import VerifyViews

STALE_CONFIRM_LINK = (
    "This link can no longer be used: its code has expired, was used, or was "
    "replaced by a newer one. Sign in to have a new code sent, or ask your "
    "administrator."
)


@view_defaults(context=IRoot, name="register", permission=VIEW)
class RegisterViews:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(request_method="GET")
    def form(self) -> Any:
        return page(self.request, "register.pt", title="Create an account")

    def refuse(self, data: Any, message: str = "", errors: Any = None) -> Any:
        return page(
            self.request,
            "register.pt",
            status=400,
            title="Create an account",
            form=shown_again(data),
            errors=errors or {},
            message=message or "Please correct the marked fields.",
        )

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        data, errors = validate(RegisterForm(), request.POST)
        if errors:
            # What the form's own checks let through may still break the
            # account rules: say all of it at once, each beside its field.
            found = account_problems(
                request.root["users"],
                *(str(data.get(k, "")) for k in ("login", "email", "password")),
            )
            return self.refuse(data, errors={**found, **errors})
        try:
            request.find_service(IAccountService).register(
                data["login"], data["email"], data["password"]
            )
        except Refused as e:
            return self.refuse(data, errors=e.errors)
        request.session.flash("We have sent a code to your email address.")
        return HTTPSeeOther(
            location=request.resource_url(self.context, "confirm-email")
        )


@view_defaults(context=IRoot, name="confirm-email", permission=VIEW)
class ConfirmEmailViews(VerifyViews):
    kind = "confirm-email"
    template = "confirm_email.pt"
    title = "Confirm your email address"

    # View registrations belong to the class that declares them, so the
    # inherited handlers are declared again here.
    @view_config(request_method="GET")
    def form(self) -> Any:
        request = self.request
        if "code" not in request.GET:
            return super().form()
        self.flow = open_link(request, self.kind, STALE_CONFIRM_LINK)
        request.session.flash("Enter the code from the email.")
        return self.show()

    @view_config(request_method="POST")
    def submit(self) -> Any:
        return super().submit()

    def succeed(self, accounts: Any) -> Any:
        request = self.request
        refused = accounts.confirm_email(self.user)
        if refused is not None:
            return restart(
                request, refused, request.resource_url(request.root, "register")
            )
        if not from_link(self.flow):
            signed_in = super().succeed(accounts)
            # After the sign-in, which starts the session afresh.
            self.request.session.flash("Your email address is confirmed. Welcome!")
            return signed_in
        # Whoever opened the mailed link proved the address, not that they
        # know the password: they sign in as anyone else does.
        return restart(
            request,
            "Your email address is confirmed. Sign in now (if you have no password "
            "yet, choose “Forgot your password?”).",
            request.resource_url(request.root, "login"),
        )


@view_config(
    context=IRoot,
    name="password-strength",
    request_method="POST",
    permission=VIEW,
    renderer="json",
    activity=False,
)
def password_strength(context: Any, request: Any) -> dict:
    """Feedback for the strength meter; changes nothing."""
    try:
        body = request.json_body
    except ValueError:
        body = None
    data, errors = validate(StrengthRequest(), body if isinstance(body, dict) else {})
    if errors:
        request.response.status_int = 400
        return {"error": "Send JSON with a 'password' field.", "fields": errors}
    inputs = tuple(v for v in (data["login"], data["email"]) if v)
    found = strength(data["password"], inputs)
    problems = password_problems(data["password"], inputs) if data["password"] else []
    return {
        "score": found.score,
        "needed": MIN_SCORE,
        "acceptable": not problems and bool(data["password"]),
        "problems": problems,
        "warning": found.warning,
        "suggestions": list(found.suggestions),
    }
