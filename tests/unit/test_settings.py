"""One settings schema: every setting checked at start-up against
SECURITY.md's bounds, refused in one line that names it and its range."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import colander
import pytest
from pyramid import testing
from pyramid.exceptions import ConfigurationError

from tests.conftest import write_ini
from wingapp import main, wsgi
from wingapp.codes.settings import CODES, CodeSettings
from wingapp.mail.settings import MAIL
from wingapp.sessions import COOKIES
from wingapp.settings import (
    CORE,
    Days,
    Number,
    SettingsError,
    WholeNumber,
    check,
    group,
    listing,
    settings_of,
    validate,
    whole_number,
)
from wingapp.users.backoff import Backoff
from wingapp.users.passwords import PasswordHasher
from wingapp.users.sessions import Timeouts
from wingapp.users.settings import TWO_STEP, USERS

EVERY_GROUP = (CORE, COOKIES, MAIL, USERS, CODES)


def refusal(schema: colander.SchemaNode, settings: dict) -> str:
    with pytest.raises(SettingsError) as caught:
        validate(schema, settings)
    return str(caught.value)


# The examples, each with the exact line an operator reads.


def test_argon2_memory_below_owasp_minimum_is_refused():
    settings = {"passwords.argon2_memory_cost": "19455"}
    with pytest.raises(ConfigurationError) as caught:
        PasswordHasher.from_settings(settings)
    assert str(caught.value) == (
        "passwords.argon2_memory_cost must be from 19456 to 1048576; got 19455."
    )
    hasher = PasswordHasher.from_settings(
        {"passwords.argon2_memory_cost": "19456", "passwords.argon2_time_cost": "2"}
    )
    assert "$m=19456,t=2," in hasher.hash("correct horse battery staple")


def test_argon2_time_and_lanes_below_owasp_minimum_are_refused():
    assert refusal(USERS, {"passwords.argon2_time_cost": "1"}) == (
        "passwords.argon2_time_cost must be from 2 to 20; got 1."
    )
    assert refusal(USERS, {"passwords.argon2_parallelism": "0"}) == (
        "passwords.argon2_parallelism must be from 1 to 64; got 0."
    )


def test_pbkdf2_below_220000_iterations_is_refused():
    assert refusal(USERS, {"passwords.pbkdf2_iterations": "219999"}) == (
        "passwords.pbkdf2_iterations must be from 220000 to 10000000; got 219999."
    )


def test_zero_idle_timeout_is_refused():
    with pytest.raises(SettingsError) as caught:
        Timeouts.from_settings({"session.idle_timeout": "0"})
    assert str(caught.value) == (
        "session.idle_timeout must be from 20 to 1800 seconds; got 0."
    )


def test_timeouts_may_only_be_tightened():
    assert refusal(USERS, {"session.idle_timeout": "1801"}) == (
        "session.idle_timeout must be from 20 to 1800 seconds; got 1801."
    )
    assert refusal(USERS, {"session.absolute_timeout": "43201"}) == (
        "session.absolute_timeout must be from 20 to 43200 seconds; got 43201."
    )
    assert refusal(USERS, {"auth.reauth_after": "901"}) == (
        "auth.reauth_after must be from 60 to 900 seconds; got 901."
    )


def test_the_warning_comes_before_the_idle_timeout():
    assert refusal(
        USERS, {"session.idle_timeout": "300", "session.idle_warning": "300"}
    ) == (
        "session.idle_warning must be shorter than session.idle_timeout "
        "(300 seconds); got 300."
    )
    timeouts = Timeouts.from_settings(
        {"session.idle_timeout": "300", "session.idle_warning": "299"}
    )
    assert (timeouts.idle, timeouts.warning) == (
        timedelta(seconds=300),
        timedelta(seconds=299),
    )


def test_backoff_cap_of_zero_is_refused():
    with pytest.raises(SettingsError) as caught:
        Backoff.from_settings({"auth.backoff_cap": "0"})
    assert str(caught.value) == (
        "auth.backoff_cap must be from 900 to 86400 seconds; got 0."
    )


def test_backoff_may_only_be_tightened():
    assert refusal(USERS, {"auth.backoff_threshold": "6"}) == (
        "auth.backoff_threshold must be from 1 to 5; got 6."
    )
    assert refusal(USERS, {"auth.backoff_step": "59"}) == (
        "auth.backoff_step must be from 60 to 3600 seconds; got 59."
    )
    assert refusal(USERS, {"auth.backoff_reset": "3600"}) == (
        "auth.backoff_reset must be from 43200 to 604800 seconds; got 3600."
    )


def test_four_digit_codes_are_refused():
    with pytest.raises(SettingsError) as caught:
        CodeSettings.from_settings({"codes.digits": "4"})
    assert str(caught.value) == "codes.digits must be from 6 to 12; got 4."


def test_an_unknown_two_step_mode_is_refused():
    with pytest.raises(SettingsError) as caught:
        check(TWO_STEP, "sometimes")
    assert str(caught.value) == (
        "auth.two_step must be one of never, new_ip, new_device, "
        "new_ip_or_device, always; got 'sometimes'."
    )
    assert check(TWO_STEP, "always") == "always"
    assert check(TWO_STEP, None) == "new_ip_or_device"


@pytest.mark.parametrize(
    ("schema", "settings", "line"),
    [
        (
            USERS,
            {"auth.backoff_cap": "ten"},
            "auth.backoff_cap must be a whole number from 900 to 86400 seconds; "
            "got 'ten'.",
        ),
        (
            CODES,
            {"codes.digits": "6.5"},
            "codes.digits must be a whole number from 6 to 12; got '6.5'.",
        ),
        (
            MAIL,
            {"mail.maildir": "/m", "mail.timeout": "soon"},
            "mail.timeout must be a number from 0.1 to 600 seconds; got 'soon'.",
        ),
        (
            MAIL,
            {"mail.maildir": "/m", "mail.retry_interval": "nan"},
            "mail.retry_interval must be from 0.1 to 86400 seconds; got nan.",
        ),
        (
            COOKIES,
            {"session.secure_cookie": "ture"},
            "session.secure_cookie must be true or false; got 'ture'.",
        ),
    ],
)
def test_what_is_not_a_number_or_a_yes_is_refused_with_its_range(
    schema, settings, line
):
    assert refusal(schema, settings) == line


def test_every_bad_setting_of_a_group_gets_its_line():
    error = refusal(
        USERS,
        {"auth.backoff_cap": "0", "session.idle_timeout": "0"},
    )
    assert error.splitlines() == [
        "auth.backoff_cap must be from 900 to 86400 seconds; got 0.",
        "session.idle_timeout must be from 20 to 1800 seconds; got 0.",
    ]


def every_bounded_setting():
    for schema in EVERY_GROUP:
        for node in iter_settings(schema):
            if isinstance(node.typ, WholeNumber | Number):
                yield pytest.param(schema, node, id=node.name)


def iter_settings(schema):
    for node in schema.children:
        if isinstance(node.typ, colander.Mapping):
            yield from iter_settings(node)
        else:
            yield node


@pytest.mark.parametrize(("schema", "node"), list(every_bounded_setting()))
def test_each_bound_is_the_last_value_accepted(schema, node):
    low, high = node.typ.low, node.typ.high
    # What the other settings of the group need (a maildir for maildir mail,
    # a warning that fits in the shortest idle timeout).
    base = {"mail.maildir": "/m", "session.idle_warning": "10"}
    for inside in (low, high):
        validate(schema, {**base, node.name: str(inside)})
    below = low - 0.05 if isinstance(node.typ, Number) else low - 1
    for outside in (below, high + 1):
        assert refusal(schema, {**base, node.name: str(outside)}).startswith(
            f"{node.name} must be {node.typ.allowed()}; got "
        )


def test_the_defaults_are_security_md_numbers():
    # Back-off: after 5 failures wait 60 s, 60 s more per further 5, at most
    # 15 minutes, forgotten after 12 quiet hours.
    assert Backoff.from_settings({}) == Backoff(
        threshold=5,
        step=timedelta(seconds=60),
        cap=timedelta(minutes=15),
        reset_after=timedelta(hours=12),
    )
    # Idle 30 minutes, absolute 12 hours, warned 2 minutes before; the
    # password again before a sensitive change after 15 minutes.
    assert Timeouts.from_settings({}) == Timeouts(
        idle=timedelta(minutes=30),
        absolute=timedelta(hours=12),
        warning=timedelta(minutes=2),
        reauth=timedelta(minutes=15),
    )
    # 6 digits, 10 minutes, a new one after 60 s, 5 tries.
    assert CodeSettings.from_settings({}) == CodeSettings(
        digits=6,
        lifetime=timedelta(minutes=10),
        resend_after=timedelta(seconds=60),
        max_attempts=5,
        retention=timedelta(days=7),
    )
    # argon2id with RFC 9106's low-memory profile, above OWASP's minimum;
    # PBKDF2-SHA512 at 220,000 iterations.
    users = validate(USERS, {})
    assert users["passwords.scheme"] == "argon2id"
    assert (
        users["passwords.argon2_memory_cost"],
        users["passwords.argon2_time_cost"],
        users["passwords.argon2_parallelism"],
    ) == (65536, 3, 4)
    assert users["passwords.pbkdf2_iterations"] == 220_000
    assert users["auth.two_step"] == "new_ip_or_device"
    assert validate(COOKIES, {}) == {"session.secure_cookie": True}


def test_blank_and_python_values_read_like_the_ini():
    assert validate(CODES, {"codes.digits": " ", "codes.retention_days": None}) == (
        validate(CODES, {})
    )
    values = validate(CODES, {"codes.digits": 8, "codes.retention_days": "0"})
    assert (values["codes.digits"], values["codes.retention_days"]) == (
        8,
        timedelta(0),
    )
    assert validate(COOKIES, {"session.secure_cookie": False}) == {
        "session.secure_cookie": False
    }
    assert validate(COOKIES, {"session.secure_cookie": " Off "}) == {
        "session.secure_cookie": False
    }


def test_the_listing_names_every_setting_its_default_and_range():
    rows = {name: (default, allowed) for name, default, allowed in listing(USERS)}
    assert rows["auth.backoff_cap"] == ("900", "from 900 to 86400 seconds")
    assert rows["auth.two_step"][0] == "new_ip_or_device"
    assert rows["passwords.argon2_memory_cost"] == ("65536", "from 19456 to 1048576")
    rows = {name: (default, allowed) for name, default, allowed in listing(MAIL)}
    assert rows["mail.transport"] == ("maildir", "'maildir' (development) or 'smtp'")
    assert rows["mail.port"] == ("", "from 1 to 65535")
    assert rows["mail.timeout"] == ("30", "from 0.1 to 600 seconds")
    assert rows["mail.cafile"] == ("", "a path")
    assert rows["mail.host"] == ("localhost", "any text")
    assert rows["mail.starttls"] == ("false", "true or false")
    assert {n: d for n, d, _ in listing(CODES)}["codes.retention_days"] == "7"
    assert Days(0, 1).allowed() == "from 0 to 1 days"


# The directive, and the app's one schema.


X = group("x", whole_number("x.count", 1, 1, 3))


@pytest.fixture
def configurator():
    with testing.testConfig(settings={"retry.attempts": "5", "x.count": "2"}) as cfg:
        cfg.include("wingapp.settings")
        yield cfg


def test_the_directive_checks_at_include_time_and_keeps_the_values(configurator):
    assert configurator.add_settings_schema(X) == {"x.count": 2}
    registered = settings_of(configurator.registry)
    assert registered.values == {"retry.attempts": 5, "x.count": 2}
    assert [name for name, _, _ in listing(registered.schema)] == [
        "retry.attempts",
        "x.count",
    ]
    y = group("y", whole_number("x.other", 3, 3, 4))
    configurator.registry.settings["x.other"] = "2"
    with pytest.raises(SettingsError, match=r"^x\.other must be from 3 to 4; got 2\.$"):
        configurator.add_settings_schema(y)
    # Refused, the group left no trace: it can come again, corrected.
    configurator.registry.settings["x.other"] = "3"
    assert configurator.add_settings_schema(y) == {"x.other": 3}


@pytest.mark.parametrize(
    ("node", "message"),
    [
        (group("again", whole_number("x.count", 1, 1, 3)), "x.count"),
        (group("core", whole_number("x.new", 1, 1, 3)), "core"),
    ],
)
def test_a_setting_or_group_declared_twice_is_refused(configurator, node, message):
    configurator.add_settings_schema(X)
    with pytest.raises(ConfigurationError, match=f"Settings declared twice: {message}"):
        configurator.add_settings_schema(node)


def test_the_app_lists_its_settings(app):
    names = [name for name, _, _ in listing(settings_of(app.registry).schema)]
    assert {"retry.attempts", "session.secure_cookie"} <= set(names)
    assert settings_of(app.registry).values["session.secure_cookie"] is False


# Stopping the start: main(), pserve and mod_wsgi.


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        ({"retry.attempts": "0"}, "retry.attempts must be from 1 to 10; got 0."),
        (
            {"session.secure_cookie": "maybe"},
            "session.secure_cookie must be true or false; got 'maybe'.",
        ),
        (
            {"auth.backoff_cap": "0"},
            "auth.backoff_cap must be from 900 to 86400 seconds; got 0.",
        ),
        (
            {"passwords.argon2_memory_cost": "19455"},
            "passwords.argon2_memory_cost must be from 19456 to 1048576; got 19455.",
        ),
        (
            {"session.idle_timeout": "0"},
            "session.idle_timeout must be from 20 to 1800 seconds; got 0.",
        ),
        ({"codes.digits": "4"}, "codes.digits must be from 6 to 12; got 4."),
        (
            {"mail.timeout": "0"},
            "mail.timeout must be from 0.1 to 600 seconds; got 0.",
        ),
    ],
)
def test_main_stops_with_one_line(settings, bad, line):
    with pytest.raises(SystemExit) as caught:
        main({}, **{**settings, **bad})
    assert caught.value.code == f"wingapp: {line}"
    assert isinstance(caught.value.__cause__, SettingsError)


def test_main_names_each_bad_setting_of_a_group_on_its_own_line(settings):
    with pytest.raises(SystemExit) as caught:
        main({}, **{**settings, "auth.backoff_cap": "0", "auth.backoff_step": "1"})
    assert caught.value.code.splitlines() == [
        "wingapp: auth.backoff_step must be from 60 to 3600 seconds; got 1.",
        "wingapp: auth.backoff_cap must be from 900 to 86400 seconds; got 0.",
    ]


@pytest.fixture
def bad_ini(tmp_path: Path, settings: dict[str, str]) -> Path:
    return write_ini(tmp_path / "bad.ini", {**settings, "retry.attempts": "0"})


def test_mod_wsgi_fails_each_request_without_ending_the_process(
    bad_ini, restore_logging
):
    application = wsgi.LazyApplication()
    started = []
    for attempt in range(2):
        # Not SystemExit: the request is answered 503, the reason goes to
        # mod_wsgi's error log, and the daemon process lives on to try
        # again once the ini is fixed.
        errors = io.StringIO()
        environ = {"WINGAPP_INI": str(bad_ini), "wsgi.errors": errors}
        application(environ, lambda status, headers: started.append(status))
        assert started == ["503 Service Unavailable"] * (attempt + 1)
        assert (
            "wingapp.wsgi.RefusedToStart: wingapp: retry.attempts must be from "
            "1 to 10; got 0." in errors.getvalue()
        )


def test_the_wsgi_check_reports_the_line(bad_ini, capsys, restore_logging):
    assert wsgi.main([str(bad_ini)], environ={}) == 1
    assert capsys.readouterr().err == (
        "wingapp.wsgi: cannot load the application: "
        "wingapp: retry.attempts must be from 1 to 10; got 0.\n"
    )
