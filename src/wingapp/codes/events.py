"""What happens to one-time codes: one event class, and interface, each."""

from __future__ import annotations

from typing import ClassVar

from zope.interface import implementer

from ..events import FailedAttempt, IFailedAttempt, IRecordedEvent, RecordedEvent


class ICodeSent(IRecordedEvent):
    """A code was mailed (``detail['purpose']`` says for what)."""


class ICodeVerified(IRecordedEvent):
    """A code was entered right and used up."""


class ICodeFailed(IFailedAttempt):
    """A wrong code, or one that can no longer be used, was entered."""


class ICodeExpired(IFailedAttempt):
    """A code was entered after its lifetime ran out."""


@implementer(ICodeSent)
class CodeSent(RecordedEvent):
    kind: ClassVar[str] = "code-sent"


@implementer(ICodeVerified)
class CodeVerified(RecordedEvent):
    kind: ClassVar[str] = "code-verified"


@implementer(ICodeFailed)
class CodeFailed(FailedAttempt):
    kind: ClassVar[str] = "code-failed"


@implementer(ICodeExpired)
class CodeExpired(FailedAttempt):
    kind: ClassVar[str] = "code-expired"
