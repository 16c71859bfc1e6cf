from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyramid import testing
from pyramid.authorization import Authenticated, Everyone

from wingapp.permissions import ADMIN_BROWSE, USER_READ, VIEW
from wingapp.resources import make_root
from wingapp.security import SecurityPolicy
from wingapp.users.models import User


def request_for(user):
    request = testing.DummyRequest()
    request.signed_in_user = user
    return request


@pytest.fixture
def make_user(app):
    def make(name, roles=("user",)):
        root = make_root(app.registry)
        return root, root["users"].add(name, User(datetime.now(UTC), roles=roles))

    return make


def test_anonymous_sees_public_pages_only(app):
    policy = SecurityPolicy()
    root = make_root(app.registry)
    request = request_for(None)
    assert policy.principals(request) == [Everyone]
    assert policy.authenticated_userid(request) is None
    assert policy.permits(request, root, VIEW)
    assert not policy.permits(request, root["users"], ADMIN_BROWSE)


def test_a_user_reads_their_own_page_only(make_user):
    policy = SecurityPolicy()
    root, ada = make_user("ada")
    bob = root["users"].add("bob", User(datetime.now(UTC)))
    request = request_for(ada)
    assert policy.authenticated_userid(request) == "ada"
    assert policy.principals(request) == [
        Everyone,
        Authenticated,
        "user:ada",
        "role:user",
    ]
    assert policy.permits(request, ada, USER_READ)
    assert not policy.permits(request, bob, USER_READ)
    assert not policy.permits(request, root["users"], ADMIN_BROWSE)


def test_admins_may_do_everything(make_user):
    policy = SecurityPolicy()
    root, admin = make_user("root", roles=("user", "admin"))
    other = root["users"].add("bob", User(datetime.now(UTC)))
    request = request_for(admin)
    assert policy.permits(request, root["users"], ADMIN_BROWSE)
    assert policy.permits(request, other, USER_READ)


def test_principals_are_worked_out_once_for_whoever_the_request_is(make_user):
    policy = SecurityPolicy()
    root, ada = make_user("ada")
    request = request_for(ada)
    first = policy.principals(request)
    assert policy.principals(request) is first
    # New roles (a new tuple) within the same request count at once.
    ada.set_roles(("user", "admin"))
    assert policy.principals(request) == [
        Everyone,
        Authenticated,
        "user:ada",
        "role:admin",
        "role:user",
    ]
    assert policy.permits(request, root["users"], ADMIN_BROWSE)
    # Signing out within the request: anonymous from then on.
    request.signed_in_user = None
    assert policy.principals(request) == [Everyone]
    assert not policy.permits(request, root["users"], ADMIN_BROWSE)
