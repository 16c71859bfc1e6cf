"""User accounts: registration, sign-in, sessions, passwords, trust."""

from __future__ import annotations

from typing import Any

from pyramid.viewderivers import INGRESS

from ..codes.events import ICodeVerified
from ..events import IFailedAttempt
from ..interfaces import IClock, IKeyring
from .backoff import Backoff
from .events import ISignedIn, LockedOut
from .evolve import (
    index_login_skeletons,
    index_unconfirmed,
    spread_accounts,
    update_accounts,
    widen_users,
)
from .identity import current_sign_in, signed_in_user
from .interfaces import (
    IAccountService,
    IBackoff,
    IPasswordHasher,
    ISessionService,
    ITrustService,
)
from .models import Users
from .passwords import PasswordHasher
from .services import AccountService
from .sessions import SessionService, Timeouts, activity_view
from .settings import UNCONFIRMED_SETTING, USERS
from .trust import TrustService
from .views.layout import SessionUI


def count_failure(event: Any) -> None:
    """Count a refused attempt towards its account's back-off, and say so
    when that makes the account wait."""
    if not event.counts or event.login is None:
        return
    request = event.request
    user = request.root["users"].get(event.login)
    if user is None:
        return
    now = request.find_service(IClock)()
    if request.find_service(IBackoff).fail(user, now):
        request.registry.notify(LockedOut(request=request, login=event.login))


def reset_failures(event: Any) -> None:
    """A completed sign-in, or a right code, ends the account's back-off."""
    user = event.request.root["users"].get(event.login)
    if user is not None:
        event.request.find_service(IBackoff).succeed(user)


def includeme(config) -> None:
    # Checked once, at start-up: a bad value stops the app here.
    values = config.add_settings_schema(USERS)
    timeouts = Timeouts.from_values(values)
    two_step = values["auth.two_step"]
    # Typed, for AccountService.factory.
    config.registry.settings[UNCONFIRMED_SETTING] = values[UNCONFIRMED_SETTING]

    config.register_service(PasswordHasher.from_values(values), IPasswordHasher)
    config.register_service(Backoff.from_values(values), IBackoff)
    # Built per request: they read the clock, which a test may replace.
    config.register_service_factory(
        lambda context, request: SessionService(
            request.find_service(IKeyring), timeouts, request.find_service(IClock)
        ),
        ISessionService,
    )
    config.register_service_factory(
        lambda context, request: TrustService(
            request.find_service(IKeyring), request.find_service(IClock), two_step
        ),
        ITrustService,
    )
    config.register_service_factory(AccountService.factory, IAccountService)

    config.add_container("users", Users, "Users", order=10)
    config.add_layout_extra("session", SessionUI)
    config.add_evolve_step(
        2, "add sessions, trust and back-off records to accounts", update_accounts
    )
    config.add_evolve_step(
        6,
        "give accounts records of their own for back-off and last sign-in",
        update_accounts,
    )
    config.add_evolve_step(7, "widen the trees of accounts and emails", widen_users)
    config.add_evolve_step(
        11, "index login names by how they look", index_login_skeletons
    )
    config.add_evolve_step(
        15, "index unconfirmed accounts by their address", index_unconfirmed
    )
    config.add_evolve_step(
        17, "spread the accounts and look-alike index over trees", spread_accounts
    )
    config.add_subscriber(count_failure, IFailedAttempt)
    config.add_subscriber(reset_failures, ISignedIn)
    config.add_subscriber(reset_failures, ICodeVerified)
    config.add_view_deriver(activity_view, under=INGRESS, over="secured_view")
    config.add_request_method(current_sign_in, "sign_in", reify=True)
    config.add_request_method(signed_in_user, "signed_in_user", reify=True)
    # The admin listing's indexes, and each account's own history: both
    # follow the events, and wire themselves.
    config.include(".catalog")
    config.include(".activity")
    config.include(".api")
    config.scan(".")
