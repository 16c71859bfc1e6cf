"""Registration, email confirmation and the password-strength meter."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...audit import notify
from ...interfaces import IRoot
from ...permissions import VIEW
from ..flow import Flow, save_flow
from ..forms import RegisterForm, StrengthRequest, validate
from ..mail import already_registered_message
from ..models import AccountError, EmailTaken
from ..passwords import MIN_SCORE, password_problems, strength
from ..services import create_user
from ..verification import send_code
from .common import page, shown_again
from .signin import VerifyViews


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
        registry = request.registry
        data, errors = validate(RegisterForm(), request.POST)
        if errors:
            return self.refuse(data, errors=errors)
        try:
            user = create_user(
                self.context["users"],
                data["login"],
                data["email"],
                data["password"],
                hasher=registry.password_hasher,
                keyring=registry.keyring,
                now=registry.clock,
            )
        except EmailTaken:
            # Answer as if it worked, so the form cannot be used to find out
            # who has an account; tell the address's owner instead.
            registry.mailer.send(
                already_registered_message(request, data["email"]), request.tm
            )
            notify(
                request,
                "registration",
                outcome="failure",
                detail={"reason": "email already registered"},
            )
            flow = Flow(kind="confirm-email", login="")
        except AccountError as e:
            return self.refuse(data, str(e))
        else:
            notify(request, "registration", login=user.__name__)
            flow = Flow(kind="confirm-email", login=user.__name__)
            # A brand-new account has no earlier code, so no cool-down applies.
            send_code(request, user, flow)
        save_flow(request, flow)
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
        return super().form()

    @view_config(request_method="POST")
    def submit(self) -> Any:
        return super().submit()

    def succeed(self) -> Any:
        self.user.email_confirmed = True
        notify(self.request, "email-confirmed", login=self.user.__name__)
        return super().succeed()


@view_config(
    context=IRoot,
    name="password-strength",
    request_method="POST",
    permission=VIEW,
    renderer="json",
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
