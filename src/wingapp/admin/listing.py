"""The admin listing of users: sortable, filtered, searchable, paged, as
HTML or JSON, at a million accounts.

Every page is one walk over the users catalog
(:class:`wingapp.users.catalog.UserCatalog`); a search by exact email
goes through the keyed-hash indexes of addresses instead: the account that
holds it, and those that registered with it and have not confirmed it yet.
The page takes the listing protocol's parameters
(:mod:`wingapp.views.folder`) and four filters: ``state``, ``role``,
``login`` (a prefix, in login order only) and ``email``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pyramid.view import view_config, view_defaults

from ..interfaces import IKeyring, IUsers
from ..permissions import ADMIN_BROWSE
from ..users.catalog import page_of_accounts
from ..users.models import (
    ROLES,
    STATES,
    AccountError,
    User,
    Users,
    check_email,
    email_key,
    normalize_login,
)
from ..views.folder import (
    BadParameter,
    Filter,
    Listing,
    Orders,
    answer,
    html_links,
    one_of,
    parse_listing,
    parse_moment,
)

PREFIX_PATTERN = re.compile(r"[\w.-]{1,32}\Z")
PREFIX_ALLOWED = "the beginning of a login: 1 to 32 letters, digits, '.', '-' or '_'"
EMAIL_ALLOWED = "an email address like name@example.org"
SEARCH_ORDERS = "login or -login when searching by login"


def parse_prefix(value: str) -> str:
    """The beginning of a login, normalised as logins are."""
    prefix = normalize_login(value)
    if not PREFIX_PATTERN.match(prefix):
        raise ValueError(PREFIX_ALLOWED)
    return prefix


def parse_email(value: str) -> str:
    try:
        return check_email(value)
    except AccountError:
        raise ValueError(EMAIL_ALLOWED) from None


ORDERS = Orders(
    {"login": parse_prefix, "created": parse_moment, "last_sign_in": parse_moment},
    default="login",
)
FILTERS = {
    "state": one_of(STATES),
    "role": one_of(ROLES),
    "login": Filter(parse_prefix, PREFIX_ALLOWED),
    "email": Filter(parse_email, EMAIL_ALLOWED),
}


def find_users(
    users: Users, listing: Listing, keyring: Any
) -> tuple[list[User], Any, int | None]:
    """The accounts of one page, the key the next page begins after (None
    on the last), and how many the filters let through (None when only a
    walk to the end could tell: a login search)."""
    state, role, prefix, email = (
        listing.filters[name] for name in ("state", "role", "login", "email")
    )
    # Sorted and paged alike whichever way the accounts are found.
    paging = {
        "order_by": listing.key,
        "descending": listing.descending,
        "after": listing.after,
        "start": listing.start,
        "limit": listing.limit,
    }
    if email is not None:
        found = [
            user
            for user in with_email(users, keyring.mac("email", email_key(email)))
            if _matches(user, state, role, prefix)
        ]
        logins, after = page_of_accounts(found, **paging)
        length: int | None = len(found)
    else:
        logins, after = users.catalog.query(
            state=state, role=role, login_prefix=prefix, **paging
        )
        length = None if prefix else users.catalog.count(state, role)
    return [users[login] for login in logins], after, length


def with_email(users: Users, email_index: str) -> list[User]:
    """Every account with this address: its holder, and
    the accounts that gave it when they registered themselves (one may be
    squatting someone else's) and have not confirmed it. They are few (an
    account that has not confirmed in a day is swept), so they are sorted
    and paged in memory."""
    found = {login: users[login] for login in users.unconfirmed_with_email(email_index)}
    holder = users.find_by_email(email_index)
    if holder is not None:
        found[holder.__name__] = holder
    return list(found.values())


def _matches(
    user: User, state: str | None, role: str | None, prefix: str | None
) -> bool:
    return (
        (state is None or user.state == state)
        and (role is None or role in user.roles)
        and (prefix is None or user.__name__.startswith(prefix))
    )


def format_time(when: datetime | None) -> str:
    return "never" if when is None else f"{when.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@view_defaults(context=IUsers, permission=ADMIN_BROWSE)
class UsersListing:
    """The users container's own listing: more specific than the generic
    folder listing, which it replaces for this container."""

    def __init__(self, context: Users, request: Any) -> None:
        self.context = context
        self.request = request

    def listing(self) -> tuple[Listing, dict]:
        listing = parse_listing(self.request, ORDERS, FILTERS)
        if listing.filters["login"] is not None and listing.key != "login":
            # In a time order a login search would skip every other account.
            raise BadParameter("order_by", SEARCH_ORDERS, "not with a login search")
        keyring = self.request.find_service(IKeyring)
        users, after, length = find_users(self.context, listing, keyring)
        items = [self._item(user, keyring) for user in users]
        data = answer(
            self.request,
            self.context,
            listing,
            items,
            after,
            length=length,
            **listing.filters,
        )
        return listing, data

    def _item(self, user: User, keyring: Any) -> dict:
        return {
            "name": user.__name__,
            "type": "user",
            "url": self.request.resource_url(user),
            "admin_url": self.request.resource_url(user, "@@admin"),
            "login": user.__name__,
            # Decrypted for this answer only.
            "email": user.email(keyring),
            "roles": list(user.roles),
            "state": user.state,
            "created": user.created,
            "last_sign_in": user.last_sign_in,
        }

    @view_config(renderer="wingapp:templates/admin/users.pt")
    def html(self) -> dict:
        listing, data = self.listing()
        data.update(html_links(self.request, self.context, listing, data))
        users = self.context
        data.update(
            states=STATES,
            roles=ROLES,
            format_time=format_time,
            searching=listing.filters["login"] is not None,
            bulk_url=self.request.resource_url(users, "@@bulk"),
            create_url=self.request.resource_url(users, "@@create"),
            import_url=self.request.resource_url(users, "@@import"),
            bulk_actions=BULK_ACTIONS,
        )
        return data

    @view_config(json=True, renderer="json")
    def json(self) -> dict:
        return self.listing()[1]


BULK_ACTIONS = (
    ("disable", "Disable"),
    ("enable", "Enable"),
    ("force-reset", "Force a password reset"),
    ("end-sessions", "End sessions"),
)
"""The bulk form's actions (value, label); the @@bulk view carries them out."""
