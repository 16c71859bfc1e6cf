"""Each user's admin page, its forms, create-user and the bulk actions.

Every form posts to a view of its own, which parses it, calls one
:class:`IAdminService` method and answers: a flash message and a redirect
(post/redirect/get), or the page again with status 400 and each message
beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPSeeOther
from pyramid.renderers import render_to_response
from pyramid.view import view_config, view_defaults

from ..interfaces import IKeyring, IUser, IUsers
from ..permissions import ADMIN_USERS_WRITE
from ..urls import safe_next
from ..users.activity import describe_entry, history
from ..users.identity import reauth_prompt, reauthenticate
from ..users.interfaces import ISessionService
from ..users.models import ROLES
from ..users.services import Refused
from .events import ReauthFailed
from .forms import (
    BULK_ACTIONS,
    BulkForm,
    CreateForm,
    DeleteForm,
    EmailForm,
    ReasonForm,
    RolesForm,
    SensitiveForm,
    validate,
)
from .interfaces import IAdminService

HISTORY_PAGE = 20
FIX_FIELDS = "Please correct the marked fields."


class HistoryQuery(colander.MappingSchema):
    """Which page of an account's history: the entries before a key the
    previous page gave."""

    # The history's keys are 64-bit (a LOBTree's); a larger number would
    # not be a bound the tree can compare.
    before = colander.SchemaNode(
        colander.Int(), missing=None, validator=colander.Range(min=0, max=2**63 - 1)
    )


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def actor_of(request: Any) -> str:
    return request.signed_in_user.__name__


def account_facts(request: Any, user: Any) -> dict:
    """What an admin sees of an account: no secret, no session id."""
    sessions = request.find_service(ISessionService)
    return {
        "type": "user",
        "login": user.__name__,
        "url": request.resource_url(user, "@@admin"),
        "email": user.email(request.find_service(IKeyring)),
        "email_confirmed": user.email_confirmed,
        "roles": list(user.roles),
        "state": user.state,
        "disabled": user.disabled,
        "must_reset": user.must_reset,
        "created": user.created,
        "last_sign_in": user.last_sign_in,
        "sessions": sum(1 for r in user.sessions.values() if sessions.is_live(r)),
        "trusted_devices": len(user.trusted_devices),
        "trusted_networks": len(user.trusted_networks),
    }


def changes(before: dict, after: dict) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for each field an admin action changed; "—"
    for a side that does not name it."""
    return [
        (field, before.get(field, "—"), after.get(field, "—"))
        for field in sorted(before.keys() | after.keys())
    ]


def account_history(request: Any, user: Any) -> dict:
    """One page of the account's history, newest first: the admin actions
    on it (marked) and its own events, and the link to the next page."""
    try:
        before = HistoryQuery().deserialize(dict(request.GET))["before"]
    except colander.Invalid:
        raise HTTPBadRequest(
            "Bad query parameter before: the key of an older history page "
            "(a whole number from the page's “Older” link)."
        ) from None
    entries, next_key = history(user, before=before, limit=HISTORY_PAGE)
    items = []
    for _, entry in entries:
        item = describe_entry(request, entry)
        item["admin"] = entry.kind.startswith("admin-")
        item["changes"] = changes(item["before"] or {}, item["after"] or {})
        items.append(item)

    def page_url(**query: Any) -> str:
        return request.resource_url(user, "@@admin", query=query, anchor="history")

    return {
        "history": items,
        "history_next": None if next_key is None else page_url(before=next_key),
        "history_newest": None if before is None else page_url(),
    }


def action_forms(facts: dict) -> list[dict]:
    """The page's forms, one per action, in the order an admin needs them;
    the ones that could change nothing in this state are left out."""
    unconfirmed = not facts["email_confirmed"]
    forms = [
        (
            "email",
            "Email address",
            "Change the address",
            "The new address counts as confirmed; the old one is told by mail.",
            True,
        ),
        ("roles", "Roles", "Set the roles", "", True),
        (
            "disable",
            "Disable",
            "Disable the account",
            "Signing in is refused, and every session ends at once.",
            not facts["disabled"],
        ),
        (
            "enable",
            "Enable",
            "Enable the account",
            "The account may sign in again.",
            facts["disabled"],
        ),
        (
            "force-reset",
            "Force a password reset",
            "Force a reset",
            "Mails a reset code. Until it is used, the password does not sign in; "
            "every session ends.",
            not facts["must_reset"],
        ),
        (
            "resend-confirmation",
            "Resend the confirmation",
            "Resend",
            "Mails a new code to confirm the address.",
            unconfirmed,
        ),
        (
            "mark-confirmed",
            "Mark the address confirmed",
            "Mark confirmed",
            "Use when the owner has shown the address is theirs another way.",
            unconfirmed,
        ),
        (
            "end-sessions",
            "End sessions",
            "End every session",
            f"Live sessions: {facts['sessions']}.",
            True,
        ),
        (
            "revoke-trust",
            "Forget trusted devices and networks",
            "Forget them",
            "Signing in from them will ask for an emailed code again. Trusted "
            f"devices: {facts['trusted_devices']}; networks: "
            f"{facts['trusted_networks']}.",
            True,
        ),
        (
            "delete",
            "Delete the account",
            "Delete the account",
            "The account is removed; its history stays in the event log.",
            True,
        ),
    ]
    return [
        {"name": name, "title": title, "button": button, "hint": hint}
        for name, title, button, hint, shown in forms
        if shown
    ]


@view_defaults(context=IUser, permission=ADMIN_USERS_WRITE)
class AdminUserViews:
    """``/users/<login>/@@admin`` and its forms, one view per form."""

    template = "wingapp:templates/admin/user.pt"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def facts(self) -> dict:
        return {
            **account_facts(self.request, self.context),
            **account_history(self.request, self.context),
        }

    def page_values(self, **values: Any) -> dict:
        values.setdefault("failed", None)
        values.setdefault("errors", {})
        values.setdefault("form", {})
        values.setdefault("message", "")
        facts = self.facts()
        return {
            **facts,
            "title": f"Account {self.context.__name__}",
            "offered_roles": ROLES,
            "forms": action_forms(facts),
            "listing": self.request.resource_url(self.context.__parent__),
            # The address and roles forms ask for the admin's password when
            # their sign-in is old (ASVS 3.7.1).
            "reauth": reauth_prompt(self.request),
            **values,
        }

    @view_config(name="admin", request_method="GET", renderer=template)
    def html(self) -> dict:
        return self.page_values()

    @view_config(name="admin", request_method="GET", json=True, renderer="json")
    def json(self) -> dict:
        return self.facts()

    def refuse(self, failed: str, message: str, errors: dict, form: dict) -> Any:
        values = self.page_values(
            failed=failed, message=message, errors=errors, form=form
        )
        response = render_to_response(self.template, values, self.request)
        response.status_int = 400
        return response

    def act(
        self,
        failed: str,
        schema: colander.Schema,
        change: Callable[[Any, dict], Any],
        done: Callable[[Any], str],
    ) -> Any:
        """Parse the form, make the change, say what it did; or show the
        page again with the form's errors (the change writes nothing).

        A sensitive change first checks the admin's password, when their
        sign-in is too old to make it without (the form then asks)."""
        request = self.request
        prompt = reauth_prompt(request) if isinstance(schema, SensitiveForm) else None
        data, errors = validate(schema.bind(reauth=prompt), request.POST)
        # Checked once below; never shown again on the page.
        password = data.pop("current_password", None)
        if errors:
            return self.refuse(failed, FIX_FIELDS, errors, data)
        service = request.find_service(IAdminService)
        try:
            if prompt:
                reauthenticate(request, password, ReauthFailed)
            result = change(service, data)
        except Refused as e:
            return self.refuse(failed, e.message, e.errors, data)
        request.session.flash(done(result))
        return HTTPSeeOther(location=request.resource_url(self.context, "@@admin"))

    def simple(self, failed: str, method: str, done: Callable[[Any], str]) -> Any:
        """An action that takes nothing but a reason."""
        user, actor = self.context, actor_of(self.request)
        return self.act(
            failed,
            ReasonForm(),
            lambda service, data: getattr(service, method)(user, data["reason"], actor),
            done,
        )

    @view_config(name="admin-email", request_method="POST")
    def email(self) -> Any:
        user, actor = self.context, actor_of(self.request)
        return self.act(
            "email",
            EmailForm(),
            lambda service, data: service.set_email(
                user, data["email"], data["reason"], actor
            ),
            lambda _: (
                "The address is changed and counts as confirmed; "
                "the old address has been told."
            ),
        )

    @view_config(name="admin-roles", request_method="POST")
    def roles(self) -> Any:
        user, actor = self.context, actor_of(self.request)
        return self.act(
            "roles",
            RolesForm(),
            lambda service, data: service.set_roles(
                user, data["roles"], data["reason"], actor
            ),
            lambda _: f"Roles of {user.__name__}: {', '.join(user.roles) or 'none'}.",
        )

    @view_config(name="admin-disable", request_method="POST")
    def disable(self) -> Any:
        name = self.context.__name__
        return self.simple(
            "disable",
            "disable",
            lambda _: (
                f"{name} is disabled: every session has ended, "
                "and signing in is refused."
            ),
        )

    @view_config(name="admin-enable", request_method="POST")
    def enable(self) -> Any:
        name = self.context.__name__
        return self.simple("enable", "enable", lambda _: f"{name} can sign in again.")

    @view_config(name="admin-force-reset", request_method="POST")
    def force_reset(self) -> Any:
        return self.simple(
            "force-reset",
            "force_reset",
            lambda _: (
                "A reset code went to the account's address. Until it is "
                "used, the password does not sign in; every session has ended."
            ),
        )

    @view_config(name="admin-resend-confirmation", request_method="POST")
    def resend_confirmation(self) -> Any:
        return self.simple(
            "resend-confirmation",
            "resend_confirmation",
            lambda _: "A new confirmation code went to the account's address.",
        )

    @view_config(name="admin-mark-confirmed", request_method="POST")
    def mark_confirmed(self) -> Any:
        return self.simple(
            "mark-confirmed",
            "mark_confirmed",
            lambda _: "The address is marked as confirmed.",
        )

    @view_config(name="admin-end-sessions", request_method="POST")
    def end_sessions(self) -> Any:
        return self.simple(
            "end-sessions",
            "end_sessions",
            lambda ended: f"Ended {plural(ended, 'session')}.",
        )

    @view_config(name="admin-revoke-trust", request_method="POST")
    def revoke_trust(self) -> Any:
        return self.simple(
            "revoke-trust",
            "revoke_trust",
            lambda forgotten: (
                f"Forgot {plural(forgotten, 'trusted place')}: "
                "signing in from any of them will ask for a code again."
            ),
        )

    @view_config(name="admin-delete", request_method="POST")
    def delete(self) -> Any:
        request, user = self.request, self.context
        users, name = user.__parent__, user.__name__
        data, errors = validate(DeleteForm().bind(login=name), request.POST)
        if errors:
            return self.refuse("delete", FIX_FIELDS, errors, data)
        try:
            request.find_service(IAdminService).delete(
                user, data["reason"], actor_of(request)
            )
        except Refused as e:
            return self.refuse("delete", e.message, e.errors, data)
        request.session.flash(f"The account {name} is deleted.")
        return HTTPSeeOther(location=request.resource_url(users))


@view_defaults(context=IUsers, name="create", permission=ADMIN_USERS_WRITE)
class CreateUserViews:
    """``/users/@@create``: the admin names the account; its owner sets the
    password with a code mailed to them, so no admin ever knows it."""

    template = "wingapp:templates/admin/create.pt"
    title = "Create an account"

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def values(self, **values: Any) -> dict:
        values.setdefault("errors", {})
        values.setdefault("form", {"roles": ["user"]})
        values.setdefault("message", "")
        return {"title": self.title, "offered_roles": ROLES, **values}

    @view_config(request_method="GET", renderer=template)
    def form(self) -> dict:
        return self.values()

    def refuse(self, message: str, errors: dict, form: dict) -> Any:
        values = self.values(message=message, errors=errors, form=form)
        response = render_to_response(self.template, values, self.request)
        response.status_int = 400
        return response

    @view_config(request_method="POST")
    def submit(self) -> Any:
        request = self.request
        data, errors = validate(CreateForm(), request.POST)
        if errors:
            return self.refuse(FIX_FIELDS, errors, data)
        try:
            user = request.find_service(IAdminService).create_user(
                data["login"],
                data["email"],
                data["roles"],
                data["reason"],
                actor_of(request),
            )
        except Refused as e:
            return self.refuse(e.message, e.errors, data)
        request.session.flash(
            f"The account {user.__name__} is created. A mail went to its address "
            "with a link to set a password."
        )
        return HTTPSeeOther(location=request.resource_url(user, "@@admin"))


def listing_url(request: Any, users: Any, came_from: str) -> str:
    """Back to the listing, with its query string when the form says where
    it came from, and that is a path under the listing."""
    listing = request.resource_url(users)
    target = safe_next(request, came_from)
    if target is None or not target.startswith(listing) or "/." in came_from:
        return listing
    return target


def summary(action: str, done: list[str], skipped: list[tuple[str, str]]) -> str:
    verb = {
        "disable": "Disabled",
        "enable": "Enabled",
        "force-reset": "Forced a password reset of",
        "end-sessions": "Ended the sessions of",
    }[action]
    text = f"{verb} {plural(len(done), 'account')}."
    if skipped:
        shown = "; ".join(f"{login}: {why}" for login, why in skipped[:20])
        more = f"; and {len(skipped) - 20} more" if len(skipped) > 20 else ""
        text += f" Skipped {len(skipped)} ({shown}{more})."
    return text


@view_config(
    context=IUsers, name="bulk", request_method="POST", permission=ADMIN_USERS_WRITE
)
def bulk(context: Any, request: Any) -> Any:
    """The listing's bulk form: one action, with one reason, on each of the
    selected accounts; one event per account."""
    data, errors = validate(BulkForm(), request.POST)
    logins = list(dict.fromkeys(data.get("login") or ()))
    unknown = [login for login in logins if login not in context]
    if unknown and "login" not in errors:
        errors["login"] = f"No account is named {', '.join(unknown[:20])}."
    if errors:
        values = {
            "title": "Change the selected accounts",
            "message": FIX_FIELDS,
            "errors": errors,
            "form": data,
            "logins": [login for login in logins if login in context],
            "actions": BULK_ACTIONS,
            "listing": request.resource_url(context),
        }
        response = render_to_response(
            "wingapp:templates/admin/bulk.pt", values, request
        )
        response.status_int = 400
        return response
    users = [context[login] for login in logins]
    done, skipped = request.find_service(IAdminService).bulk(
        users, data["action"], data["reason"], actor_of(request)
    )
    request.session.flash(summary(data["action"], done, skipped))
    return HTTPSeeOther(location=listing_url(request, context, data["came_from"]))
