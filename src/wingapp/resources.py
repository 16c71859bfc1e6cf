"""The root of the tree, how a request finds it, and how a new one is made."""

from __future__ import annotations

import logging
from typing import Any

import transaction
from pyramid.authorization import ALL_PERMISSIONS, DENY_ALL, Allow, Everyone
from pyramid_zodbconn import get_connection
from transaction.interfaces import NoTransaction
from zope.interface import implementer

from .audit import add_audit_log
from .directives import containers, evolve_steps
from .evolve import pending_steps
from .folder import Folder
from .interfaces import IRoot
from .permissions import ROLE_ADMIN, VIEW

ROOT_KEY = "wingapp"
"""Where the application root sits in the ZODB root mapping."""

log = logging.getLogger(__name__)


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


def make_root(registry: Any) -> Root:
    """A new tree at the newest data generation, holding every container
    the domains registered."""
    root = Root(title="wingapp")
    add_audit_log(root)
    add_containers(root, registry)
    root.generation = max((s.generation for s in evolve_steps(registry)), default=0)
    return root


def add_containers(root: Root, registry: Any) -> bool:
    """Add the registered containers ``root`` lacks; True if any was added."""
    missing = [c for c in containers(registry) if c.name not in root]
    for container in missing:
        root.add(container.name, container.factory(title=container.title))
    return bool(missing)


def bootstrap(db: Any, registry: Any) -> bool:
    """Create the tree in ``db`` unless it is there, or give it the
    containers of domains added since; True if anything was written.
    Says so if the data is behind the code.

    Runs once at start-up in its own transaction so that no request ever
    has to write just to find the root.
    """
    tm = transaction.TransactionManager(explicit=True)
    conn = db.open(transaction_manager=tm)
    try:
        with tm:
            zodb_root = conn.root()
            root = zodb_root.get(ROOT_KEY)
            if root is None:
                zodb_root[ROOT_KEY] = make_root(registry)
                tm.get().note("wingapp: create the tree")
                return True
            warn_if_behind(root, registry)
            if add_containers(root, registry):
                tm.get().note("wingapp: add new containers")
                return True
            return False
    finally:
        conn.close()


DATA_BEHIND = "wingapp_data_behind"
"""Set on the log record of that warning, for a filter to know it by."""


def warn_if_behind(root: Root, registry: Any) -> None:
    """Log that the data needs evolving, which an upgrade leaves to the
    operator: the code reads older data, but what the pending steps bring
    (an index, a spread tree) is missing until they run. Writes nothing."""
    due = pending_steps(root, evolve_steps(registry))
    if due:
        log.warning(
            "The data is at generation %s, the code at %s: "
            "run `wingapp CONFIG evolve` to bring the data forward.",
            root.generation,
            due[-1].generation,
            extra={DATA_BEHIND: True},
        )


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
