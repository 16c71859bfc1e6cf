"""A user's own page: details, sessions, trusted places, password."""

from __future__ import annotations

from typing import Any

from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...agents import browser_label
from ...interfaces import IKeyring, IUser
from ...permissions import USER_CREDENTIALS, USER_READ, USER_WRITE
from ..events import SessionEnded, TrustRevoked
from ..forms import ChangePasswordForm, validate
from ..interfaces import IAccountService, ISessionService, ITrustService
from ..services import Refused
from .common import page


def decrypt(keyring: Any, token: bytes | None) -> str:
    return "unknown" if token is None else keyring.decrypt(token)


def describe_sessions(request: Any, user: Any, keyring: Any) -> list[dict]:
    service = request.find_service(ISessionService)
    current = request.sign_in.key if request.sign_in is not None else None
    rows = []
    for key, record in user.sessions.items():
        if not service.is_live(record):
            continue
        agent = decrypt(keyring, record.ua_token)
        rows.append(
            {
                "key": key,
                "current": key == current,
                "created": record.created,
                "last_active": record.last_active,
                "ip": decrypt(keyring, record.ip_token),
                "browser": agent,
                "browser_label": browser_label(agent),
            }
        )
    return sorted(rows, key=lambda r: r["created"], reverse=True)


def describe_trust(keyring: Any, records: Any) -> list[dict]:
    return sorted(
        (
            {"key": key, "label": decrypt(keyring, t.label_token), "created": t.created}
            for key, t in records.items()
        ),
        key=lambda r: r["created"],
        reverse=True,
    )


def describe_devices(keyring: Any, user: Any) -> list[dict]:
    """Trusted devices; a device's label is the User-Agent it was trusted
    with, so each also gets the browser's short name."""
    return [
        {**row, "browser_label": browser_label(row["label"])}
        for row in describe_trust(keyring, user.trusted_devices)
    ]


def describe(request: Any, user: Any) -> dict:
    keyring = request.find_service(IKeyring)
    return {
        "type": "user",
        "login": user.__name__,
        "url": request.resource_url(user),
        "email": user.email(keyring),
        "email_confirmed": user.email_confirmed,
        "roles": list(user.roles),
        "created": user.created,
        "last_sign_in": user.last_sign_in,
        "sessions": describe_sessions(request, user, keyring),
        "trusted_devices": describe_devices(keyring, user),
        "trusted_networks": describe_trust(keyring, user.trusted_networks),
    }


@view_defaults(context=IUser, permission=USER_READ)
class UserPage:
    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(request_method="GET", renderer="wingapp:templates/users/user.pt")
    def html(self) -> dict:
        request, user = self.request, self.context
        data = describe(request, user)
        data["title"] = user.__name__
        # An admin looking at someone else's account gets no link to pages
        # that are the owner's alone.
        data["own_credentials"] = bool(request.has_permission(USER_CREDENTIALS, user))
        return data

    @view_config(request_method="GET", json=True, renderer="json")
    def json(self) -> dict:
        return describe(self.request, self.context)


def posted_key(request: Any) -> str:
    key = request.POST.get("key", "")
    if not key or len(key) > 128:
        raise HTTPBadRequest("Say which one to end: the form's 'key' is missing.")
    return key


@view_config(
    context=IUser, name="end-session", request_method="POST", permission=USER_WRITE
)
def end_session_view(context: Any, request: Any) -> Any:
    key = posted_key(request)
    current = request.sign_in is not None and request.sign_in.key == key
    if not request.find_service(ISessionService).end(context, key):
        raise HTTPBadRequest("That session has ended already. Reload the page.")
    request.registry.notify(
        SessionEnded(
            request=request,
            login=context.__name__,
            actor=request.signed_in_user.__name__,
        )
    )
    if current:
        request.session.invalidate()
        return HTTPSeeOther(location=request.resource_url(request.root, "logged-out"))
    request.session.flash("The session has ended.")
    return HTTPSeeOther(location=request.resource_url(context))


@view_config(
    context=IUser, name="revoke-trust", request_method="POST", permission=USER_WRITE
)
def revoke_trust(context: Any, request: Any) -> Any:
    key = posted_key(request)
    if not request.find_service(ITrustService).revoke(context, key):
        raise HTTPBadRequest(
            "That device or network is not trusted any more. Reload the page."
        )
    request.registry.notify(
        TrustRevoked(
            request=request,
            login=context.__name__,
            actor=request.signed_in_user.__name__,
        )
    )
    request.session.flash("Removed. Signing in from there will ask for a code again.")
    return HTTPSeeOther(location=request.resource_url(context))


@view_defaults(context=IUser, name="password", permission=USER_CREDENTIALS)
class ChangePassword:
    title = "Change your password"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    @view_config(request_method="GET")
    def form(self) -> Any:
        return page(
            self.request, "change_password.pt", title=self.title, user=self.context
        )

    def refuse(self, message: str, errors: Any = None) -> Any:
        return page(
            self.request,
            "change_password.pt",
            status=400,
            title=self.title,
            user=self.context,
            errors=errors or {},
            message=message,
        )

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        user = self.context
        data, errors = validate(ChangePasswordForm(), request.POST)
        if errors:
            return self.refuse("Please correct the marked fields.", errors)
        try:
            request.find_service(IAccountService).change_password(
                user, data["current_password"], data["password"]
            )
        except Refused as e:
            return self.refuse(e.message, e.errors)
        request.session.flash(
            "Your password is changed. Your other sessions have been signed out."
        )
        return HTTPSeeOther(location=request.resource_url(user))
