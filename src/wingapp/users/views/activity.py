"""An account's own activity page, and "this wasn't me" on any entry."""

from __future__ import annotations

from typing import Any

import colander
from pyramid.httpexceptions import HTTPBadRequest, HTTPForbidden, HTTPSeeOther
from pyramid.view import view_config, view_defaults

from ...agents import browser_label
from ...interfaces import IUser
from ...permissions import USER_READ, USER_WRITE
from ..activity import describe_entry, history
from ..forms import validate
from ..interfaces import IAccountService

PAGE_SIZE = 20
# The history's keys are signed 64-bit integers.
MAX_KEY = 2**63 - 1


def _key(**kw: Any) -> colander.SchemaNode:
    return colander.SchemaNode(
        colander.Int(), validator=colander.Range(min=1, max=MAX_KEY), **kw
    )


class ActivityQuery(colander.MappingSchema):
    before = _key(missing=None)


class NotMeEntryForm(colander.MappingSchema):
    key = _key()


def is_owner(request: Any, user: Any) -> bool:
    signed_in = request.signed_in_user
    return signed_in is not None and signed_in.__name__ == user.__name__


@view_defaults(context=IUser, name="activity", permission=USER_READ)
class ActivityPage:
    """What happened to the account, newest first, a page at a time."""

    def __init__(self, context: Any, request: Any) -> None:
        self.context = context
        self.request = request

    def facts(self) -> dict:
        request, user = self.request, self.context
        query, errors = validate(ActivityQuery(), {"before": request.GET.get("before")})
        if errors:
            raise HTTPBadRequest(
                "Bad query parameter 'before': give the 'before' of the page's "
                "link to older entries (a whole number from 1), or none for the "
                "newest."
            )
        found, older = history(user, before=query["before"], limit=PAGE_SIZE)
        return {
            "type": "activity",
            "login": user.__name__,
            "url": request.resource_url(user, "activity"),
            "before": query["before"],
            "items": [
                {"key": key, **describe_entry(request, entry)} for key, entry in found
            ],
            "next": None
            if older is None
            else request.resource_url(user, "activity", query={"before": older}),
        }

    @view_config(request_method="GET", renderer="wingapp:templates/users/activity.pt")
    def html(self) -> dict:
        data = self.facts()
        for item in data["items"]:
            item["browser_label"] = browser_label(item["browser"])
        data.update(
            title=f"Activity of {self.context.__name__}",
            owner=is_owner(self.request, self.context),
            first_page=data["before"] is None,
        )
        return data

    @view_config(request_method="GET", json=True, renderer="json")
    def json(self) -> dict:
        return self.facts()


@view_config(
    context=IUser, name="not-me-entry", request_method="POST", permission=USER_WRITE
)
def not_me_entry(context: Any, request: Any) -> Any:
    """The owner says an entry was not them: secure the account, then ask
    for a new password."""
    if not is_owner(request, context):
        # Only the one whose account it is can say what they did not do.
        raise HTTPForbidden()
    data, errors = validate(NotMeEntryForm(), {"key": request.POST.get("key")})
    if errors:
        raise HTTPBadRequest(
            "Say which entry was not you: the form's 'key' is missing or is not "
            "an entry's number. Reload the page and try again."
        )
    entry = context.activity.get(data["key"])
    if entry is None:
        raise HTTPBadRequest(
            "That entry is not in your activity. Reload the page and try again."
        )
    request.find_service(IAccountService).not_me_entry(context, entry)
    request.session.flash(
        "We signed out your other sessions and forgot your trusted browsers and "
        "networks. Now choose a new password, so that whoever knows the old one "
        "can no longer use it."
    )
    return HTTPSeeOther(location=request.resource_url(context, "password"))
