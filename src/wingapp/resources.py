"""The root of the tree, how a request finds it, and how a new one is made."""

from __future__ import annotations

from typing import Any

import transaction
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Everyone
from pyramid_zodbconn import get_connection
from transaction.interfaces import NoTransaction
from zope.interface import implementer

from .codes.models import Codes
from .folder import Folder
from .interfaces import IRoot
from .permissions import ROLE_ADMIN, VIEW
from .reports.models import Reports
from .users.models import Users

ROOT_KEY = "wingapp"
"""Where the application root sits in the ZODB root mapping."""


@implementer(IRoot)
class Root(Folder):
    __name__ = ""
    __parent__ = None
    title = "wingapp"
    generation = 0
    """The data generation; see :mod:`wingapp.evolve`."""
    audit = None
    """The event log (:class:`wingapp.audit.AuditLog`); not traversable."""

    __acl__ = [
        (Allow, Everyone, VIEW),
        (Allow, ROLE_ADMIN, ALL_PERMISSIONS),
        DENY_ALL,
    ]


def make_root() -> Root:
    """A new, empty tree at the newest data generation."""
    from .evolve import LATEST_GENERATION, add_audit_log

    root = Root(title="wingapp")
    add_audit_log(root)
    root.add("users", Users(title="Users"))
    root.add("codes", Codes(title="Codes"))
    root.add("reports", Reports(title="Reports"))
    root.generation = LATEST_GENERATION
    return root


def bootstrap(db: Any) -> bool:
    """Create the tree in ``db`` unless it is there; True if it was created.

    Runs once at start-up in its own transaction so that no request ever
    has to write just to find the root.
    """
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            zodb_root = conn.root()
            if ROOT_KEY in zodb_root:
                return False
            zodb_root[ROOT_KEY] = make_root()
            tm.get().note("wingapp: create the tree")
        return True
    finally:
        conn.close()


def root_factory(request: Any) -> Root:
    conn = get_connection(request)
    tm = conn.transaction_manager
    if tm.explicit and not in_transaction(tm):
        # Only outside a request (pshell, scripts): pyramid_tm has begun the
        # transaction before traversal for every real request. The caller
        # commits or aborts what is begun here.
        tm.begin()
    return conn.root()[ROOT_KEY]


def in_transaction(tm: Any) -> bool:
    try:
        tm.get()
    except NoTransaction:
        return False
    return True
