"""Every ini setting, declared once with its default and allowed range.

Each part of the app declares its settings as a colander mapping of flat,
dotted names (``auth.backoff_cap``) and hands it to
``config.add_settings_schema(node)``, which checks the ini's values at
start-up and returns them typed. A value out of range stops the start with
one line that names the setting and what it may be; a blank value means the
default, as an empty ``mail.cafile =`` does in production.ini.

The core imports no domain: the domains bring their nodes to it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import colander
from pyramid.exceptions import ConfigurationError
from zope.interface import Interface

App = TypeVar("App", bound=Callable[..., Any])


class SettingsError(ConfigurationError):
    """Settings that are out of range: one line per setting."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def _refused(node: colander.SchemaNode, allowed: str, got: str) -> colander.Invalid:
    return colander.Invalid(node, f"{node.name} must be {allowed}; got {got}.")


class Setting(colander.SchemaType):
    """Text from the ini file; absent or blank means the node's default.

    Each kind of setting says what it allows and parses the text into the
    value the app uses."""

    def __init__(self, allowed: str = "any text") -> None:
        self._allowed = allowed

    def allowed(self) -> str:
        return self._allowed

    def refuse(self, node: colander.SchemaNode, got: str) -> colander.Invalid:
        """The error for a value outside what this setting allows."""
        return _refused(node, self.allowed(), got)

    def parse(self, node: colander.SchemaNode, text: str) -> Any:
        return text

    def deserialize(self, node: colander.SchemaNode, cstruct: Any) -> Any:
        # Tests and scripts may hand over a Python value (5, True) rather
        # than the text an ini file gives; both read the same.
        if cstruct is colander.null or cstruct is None:
            return colander.null
        text = str(cstruct).strip()
        return self.parse(node, text) if text else colander.null

    def serialize(self, node: colander.SchemaNode, appstruct: Any) -> str:
        return "" if appstruct is None else str(appstruct)


class WholeNumber(Setting):
    unit = ""

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def allowed(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"from {self.low} to {self.high}{unit}"

    def parse(self, node: colander.SchemaNode, text: str) -> Any:
        try:
            number = int(text)
        except ValueError:
            raise _refused(
                node, f"a whole number {self.allowed()}", repr(text)
            ) from None
        if not self.low <= number <= self.high:
            raise _refused(node, self.allowed(), str(number))
        return self.typed(number)

    def typed(self, number: int) -> Any:
        return number


class Seconds(WholeNumber):
    """A whole number of seconds in the ini, a ``timedelta`` in the app."""

    unit = "seconds"

    def typed(self, number: int) -> timedelta:
        return timedelta(seconds=number)

    def serialize(self, node: colander.SchemaNode, appstruct: timedelta) -> str:
        return str(int(appstruct.total_seconds()))


class Days(Seconds):
    unit = "days"

    def typed(self, number: int) -> timedelta:
        return timedelta(days=number)

    def serialize(self, node: colander.SchemaNode, appstruct: timedelta) -> str:
        return str(appstruct.days)


class Number(Setting):
    """A number that may have a fraction (a network timeout in seconds)."""

    def __init__(self, low: float, high: float, unit: str = "") -> None:
        self.low = low
        self.high = high
        self.unit = unit

    def allowed(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"from {self.low:g} to {self.high:g}{unit}"

    def parse(self, node: colander.SchemaNode, text: str) -> float:
        try:
            number = float(text)
        except ValueError:
            raise _refused(node, f"a number {self.allowed()}", repr(text)) from None
        # Written so that nan, which compares false with everything, fails.
        if not self.low <= number <= self.high:
            raise _refused(node, self.allowed(), f"{number:g}")
        return number

    def serialize(self, node: colander.SchemaNode, appstruct: float) -> str:
        return f"{appstruct:g}"


TRUE = frozenset({"true", "t", "yes", "y", "on", "1"})
FALSE = frozenset({"false", "f", "no", "n", "off", "0"})


class Boolean(Setting):
    """Stricter than ``asbool``: a typo in ``session.secure_cookie`` must not
    quietly turn the secure flag off."""

    def allowed(self) -> str:
        return "true or false"

    def parse(self, node: colander.SchemaNode, text: str) -> bool:
        word = text.lower()
        if word not in TRUE | FALSE:
            raise _refused(node, self.allowed(), repr(text))
        return word in TRUE

    def serialize(self, node: colander.SchemaNode, appstruct: bool) -> str:
        return "true" if appstruct else "false"


class Choice(Setting):
    def __init__(self, choices: Sequence[str], allowed: str | None = None) -> None:
        super().__init__(allowed or f"one of {', '.join(choices)}")
        self.choices = tuple(choices)

    def parse(self, node: colander.SchemaNode, text: str) -> str:
        if text not in self.choices:
            raise _refused(node, self.allowed(), repr(text))
        return text


class FilePath(Setting):
    def __init__(self) -> None:
        super().__init__("a path")

    def parse(self, node: colander.SchemaNode, text: str) -> Path:
        return Path(text)


def setting(
    name: str, typ: Setting, default: Any, validator: Callable | None = None
) -> colander.SchemaNode:
    """One setting: its name in the ini, its type and range, its default."""
    return colander.SchemaNode(
        typ, name=name, missing=default, default=default, validator=validator
    )


def whole_number(name: str, default: int, low: int, high: int) -> colander.SchemaNode:
    return setting(name, WholeNumber(low, high), default)


def seconds(name: str, default: int, low: int, high: int) -> colander.SchemaNode:
    return setting(name, Seconds(low, high), timedelta(seconds=default))


def days(name: str, default: int, low: int, high: int) -> colander.SchemaNode:
    return setting(name, Days(low, high), timedelta(days=default))


def number(
    name: str, default: float, low: float, high: float, unit: str = ""
) -> colander.SchemaNode:
    return setting(name, Number(low, high, unit), float(default))


def boolean(name: str, default: bool) -> colander.SchemaNode:
    return setting(name, Boolean(), default)


def choice(
    name: str, default: str, choices: Sequence[str], allowed: str | None = None
) -> colander.SchemaNode:
    return setting(name, Choice(choices, allowed), default)


def text(name: str, default: str | None = None, **kw: Any) -> colander.SchemaNode:
    return setting(name, Setting(), default, **kw)


def path(name: str) -> colander.SchemaNode:
    return setting(name, FilePath(), None)


def group(
    name: str, *settings: colander.SchemaNode, validator: Callable | None = None
) -> colander.SchemaNode:
    """Settings that belong together; ``validator(node, values)`` may check
    one against another and raise ``colander.Invalid(node, line)``."""
    return colander.SchemaNode(
        colander.Mapping(), *settings, name=name, validator=validator
    )


def _is_group(node: colander.SchemaNode) -> bool:
    return isinstance(node.typ, colander.Mapping)


def _cstruct(schema: colander.SchemaNode, settings: Mapping[str, Any]) -> dict:
    return {
        node.name: _cstruct(node, settings)
        if _is_group(node)
        else settings.get(node.name, colander.null)
        for node in schema.children
    }


def _flat(schema: colander.SchemaNode, values: dict) -> Iterator[tuple[str, Any]]:
    for node in schema.children:
        if _is_group(node):
            yield from _flat(node, values[node.name])
        else:
            yield node.name, values[node.name]


def _lines(error: colander.Invalid) -> Iterator[str]:
    if error.msg is not None:
        yield from error.messages()
    for child in error.children:
        yield from _lines(child)


def validate(
    schema: colander.SchemaNode, settings: Mapping[str, Any]
) -> dict[str, Any]:
    """The typed value of every setting in ``schema``, keyed by its dotted
    name, from the ini's flat ``settings``; ``SettingsError`` names each
    value that is out of range."""
    try:
        values = schema.deserialize(_cstruct(schema, settings))
    except colander.Invalid as e:
        raise SettingsError(list(_lines(e))) from None
    return dict(_flat(schema, values))


def check(node: colander.SchemaNode, value: Any) -> Any:
    """The typed value of one setting, or ``SettingsError``."""
    try:
        return node.deserialize(value)
    except colander.Invalid as e:
        raise SettingsError(list(_lines(e))) from None


def listing(schema: colander.SchemaNode) -> Iterator[tuple[str, str, str]]:
    """Each setting's name, default and allowed values, in schema order."""
    for node in schema.children:
        if _is_group(node):
            yield from listing(node)
        else:
            yield node.name, node.typ.serialize(node, node.missing), node.typ.allowed()


class ISettings(Interface):
    """The app's settings: every registered node and the values it gave."""


class Settings:
    def __init__(self) -> None:
        self.schema = group("settings")
        self.values: dict[str, Any] = {}

    def add(self, node: colander.SchemaNode, settings: Mapping[str, Any]) -> dict:
        values = validate(node, settings)
        twice = set(values) & set(self.values)
        if twice or node.name in {child.name for child in self.schema.children}:
            raise ConfigurationError(
                f"Settings declared twice: {', '.join(sorted(twice or {node.name}))}."
            )
        self.schema.add(node)
        self.values.update(values)
        return values


def settings_of(registry: Any) -> Settings:
    return registry.getUtility(ISettings)


def add_settings_schema(config: Any, node: colander.SchemaNode) -> dict[str, Any]:
    """Check the ini's values for ``node``'s settings now, at include time,
    and return them typed; the node joins the app's one schema."""
    return settings_of(config.registry).add(node, config.registry.settings)


def exits_on_bad_settings(app_factory: App) -> App:
    """pserve prints a ``SystemExit``'s message and nothing else, so a bad
    setting reads as one line instead of a page of traceback."""

    @functools.wraps(app_factory)
    def factory(*args: Any, **kw: Any) -> Any:
        try:
            return app_factory(*args, **kw)
        except SettingsError as e:
            raise SystemExit("\n".join(f"wingapp: {line}" for line in e.lines)) from e

    return factory  # type: ignore[return-value]


# pyramid_retry reads retry.attempts itself; it is declared here so that a
# bad value is refused with the others. One attempt means no retry; past
# ten, retries only prolong a storm of conflicts.
CORE = group("core", whole_number("retry.attempts", 8, 1, 10))


def includeme(config: Any) -> None:
    config.registry.registerUtility(Settings(), ISettings)
    config.add_directive("add_settings_schema", add_settings_schema)
    config.add_settings_schema(CORE)
