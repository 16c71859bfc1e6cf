"""Typed events: what the core and every domain announce.

Each kind of thing that happens is a class with an interface of its own,
so a subscriber listens for exactly the kinds it cares about: the event
log listens for every :class:`IRecordedEvent`, the back-off for
:class:`IFailedAttempt`, an index for :class:`IObjectAdded` on one type of
resource. The domains define their own event classes on these bases; the
core knows none of them.

No event has a field for a password, a code or a session id, so none can
reach the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from pyramid.threadlocal import get_current_registry
from zope.interface import Attribute, Interface, implementer

SUCCESS = "success"
FAILURE = "failure"
ADMIN_PREFIX = "admin-"
"""Every administrator's action is logged under a kind starting so: an
account's history and the reports tell them apart by it."""


class IRecordedEvent(Interface):
    """An authentication decision or admin action, written to the event log."""

    kind = Attribute("The event's name in the log and the reports.")
    outcome = Attribute("'success' or 'failure'.")
    request = Attribute("The request it happened in (where from, when).")
    login = Attribute("The account it concerns, if any.")
    actor = Attribute("Who did it, when not the account's owner.")
    detail = Attribute("A small dict of facts: never a secret.")


class IFailedAttempt(IRecordedEvent):
    """A refused attempt on an account: it may count towards its back-off."""

    counts = Attribute("Whether it counts towards the account's back-off.")


class IAdminAction(IRecordedEvent):
    """An administrator changed something."""


@implementer(IRecordedEvent)
@dataclass(frozen=True, kw_only=True)
class RecordedEvent:
    """The base of every event the log records; subclasses set ``kind``."""

    kind: ClassVar[str] = ""
    outcome: ClassVar[str] = SUCCESS

    request: Any
    login: str | None = None
    actor: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@implementer(IFailedAttempt)
@dataclass(frozen=True, kw_only=True)
class FailedAttempt(RecordedEvent):
    outcome: ClassVar[str] = FAILURE

    counts: bool = True


@implementer(IAdminAction)
@dataclass(frozen=True, kw_only=True)
class AdminAction(RecordedEvent):
    kind: ClassVar[str] = "admin-action"


class IEntryRecorded(Interface):
    """An event was written to the event log; indexes of the log (each
    user's own history, the reports' counters) follow from here."""

    entry = Attribute("The log entry (persistent, shared by reference).")
    key = Attribute("Its key in the log: (shard, time key).")
    request = Attribute("The request it was recorded in.")


@implementer(IEntryRecorded)
@dataclass(frozen=True)
class EntryRecorded:
    entry: Any
    key: tuple[int, int]
    request: Any


class IObjectEvent(Interface):
    object = Attribute("The resource added or removed.")
    parent = Attribute("The folder it was added to or removed from.")
    name = Attribute("Its name in that folder.")


class IObjectAdded(IObjectEvent):
    """A resource was added to a folder."""


class IObjectRemoved(IObjectEvent):
    """A resource was removed from a folder."""


@dataclass(frozen=True)
class ObjectEvent:
    object: Any
    parent: Any
    name: str


@implementer(IObjectAdded)
class ObjectAdded(ObjectEvent):
    pass


@implementer(IObjectRemoved)
class ObjectRemoved(ObjectEvent):
    pass


def notify_object_event(event: ObjectEvent, registry: Any = None) -> None:
    """Tell the subscribers for (this event type, this resource type).

    Subscribers register for both, as in
    ``config.add_subscriber(f, [IObjectAdded, IUser])``, so an index hears
    only of the resources it indexes.
    """
    registry = registry or get_current_registry()
    registry.subscribers((event, event.object), None)
