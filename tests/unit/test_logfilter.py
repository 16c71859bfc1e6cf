"""Secrets never reach a log file: the redacting filter and its handlers."""

from __future__ import annotations

import io
import logging
import shutil
from pathlib import Path

import pytest
from pyramid.paster import setup_logging

from wingapp.logfilter import (
    RedactingFileHandler,
    RedactingStreamHandler,
    RedactSecrets,
    redact,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "POST /login login=bob&password=hunter2 hunter2&csrf_token=abc123",
            "POST /login login=bob&password=[redacted] hunter2&csrf_token=[redacted]",
        ),
        ("Cookie: wingapp_session=abc; other=1", "Cookie: [redacted]"),
        (
            "Set-Cookie: wingapp_session=abc; Path=/; HttpOnly",
            "Set-Cookie: [redacted]",
        ),
        ("authorization: Bearer abc.def", "authorization: [redacted]"),
        (
            '{"password": "a b c", "login": "bob"}',
            '{"password": "[redacted]", "login": "bob"}',
        ),
        (
            "{'HTTP_COOKIE': 'wingapp_session=xyz; a=b', 'PATH_INFO': '/'}",
            "{'HTTP_COOKIE': '[redacted]', 'PATH_INFO': '/'}",
        ),
        ("wingapp_session=qwe.rty", "wingapp_session=[redacted]"),
        ("new_password: s3cret! more", "new_password: [redacted] more"),
        ("session id=abcd1234", "session id=[redacted]"),
        ("sid=abcd1234", "sid=[redacted]"),
        ("your code is 123456, it expires", "your code is [redacted], it expires"),
        ("code=987654321012", "code=[redacted]"),
        ("Codes: 1234567 sent", "Codes: [redacted] sent"),
        # Not secrets: short numbers, numbers far from "code", other names.
        ("code 12345", "code 12345"),
        ("status code 404 after 1234567 bytes", "status code 404 after 1234567 bytes"),
        ("login=bob&side=1&page=2", "login=bob&side=1&page=2"),
        ("code 1234567890123", "code 1234567890123"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def record(msg, args=None, exc_info=None, stack_info=None) -> logging.LogRecord:
    return logging.LogRecord(
        "wingapp.users",
        logging.WARNING,
        __file__,
        1,
        msg,
        args,
        exc_info,
        None,
        stack_info,
    )


def test_filter_redacts_what_message_and_arguments_say_together():
    r = record("sign-in for %s with password=%s", ("bob", "hunter2"))
    assert RedactSecrets().filter(r) is True
    assert r.getMessage() == "sign-in for bob with password=[redacted]"
    assert r.args is None


def test_filter_redacts_mapping_arguments():
    r = record("form %(form)s", ({"form": {"csrf_token": "abc", "login": "bob"}},))
    RedactSecrets().filter(r)
    assert r.getMessage() == "form {'csrf_token': '[redacted]', 'login': 'bob'}"


def test_filter_keeps_a_record_whose_arguments_do_not_fit():
    r = record("two %s %s", ("password=hunter2",))
    RedactSecrets().filter(r)
    assert r.getMessage() == "two %s %s ('password=[redacted]',)"


def test_filter_redacts_the_traceback_and_the_stack():
    try:
        raise ValueError("bad password=hunter2")
    except ValueError as e:
        r = record(
            "failed", exc_info=(type(e), e, e.__traceback__), stack_info="x token=t0k"
        )
    RedactSecrets().filter(r)
    assert "ValueError: bad password=[redacted]" in r.exc_text
    assert "hunter2" not in r.exc_text
    assert r.stack_info == "x token=[redacted]"
    formatted = logging.Formatter().format(r)
    assert "hunter2" not in formatted
    assert "t0k" not in formatted


def test_filter_redacts_a_traceback_already_formatted():
    r = record("failed")
    r.exc_text = "Traceback: csrf_token=abc"
    RedactSecrets().filter(r)
    assert r.exc_text == "Traceback: csrf_token=[redacted]"


@pytest.fixture
def isolated_logger():
    """A logger tree of its own: changes to it cannot leak into other tests."""
    parent = logging.getLogger("wingapp_logfilter_test")
    parent.propagate = False
    parent.setLevel(logging.INFO)
    yield parent
    for handler in list(parent.handlers):
        parent.removeHandler(handler)
        handler.close()


def test_handler_filter_sees_records_of_child_loggers(isolated_logger):
    stream = io.StringIO()
    isolated_logger.addHandler(RedactingStreamHandler(stream))
    child = logging.getLogger("wingapp_logfilter_test.users.views")
    child.warning("Cookie: wingapp_session=%s", "abc")
    child.info("code %s", "123456")
    assert stream.getvalue() == "Cookie: [redacted]\ncode [redacted]\n"


def test_file_handler_makes_its_directory_and_redacts(tmp_path, isolated_logger):
    path = tmp_path / "var" / "log" / "wingapp.log"
    handler = RedactingFileHandler(str(path), "a")
    isolated_logger.addHandler(handler)
    isolated_logger.warning("password=%s", "hunter2")
    handler.flush()
    assert path.read_text() == "password=[redacted]\n"


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    wingapp = logging.getLogger("wingapp")
    saved_wingapp = wingapp.handlers[:], wingapp.level, wingapp.propagate
    yield
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], root.level = saved
    wingapp.handlers[:], wingapp.level, wingapp.propagate = saved_wingapp


def test_production_ini_logs_warnings_to_a_file_without_secrets(
    tmp_path, restore_logging
):
    ini = tmp_path / "production.ini"
    shutil.copy(ROOT / "production.ini", ini)
    setup_logging(str(ini))
    logging.getLogger("wingapp.users.views").warning(
        "sign-in failed: login=bob password=%s csrf_token=%s", "hunter2", "abc"
    )
    logging.getLogger("waitress").warning("Cookie: wingapp_session=xyz")
    logging.getLogger("wingapp.users").info("not at WARN: dropped")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = (tmp_path / "var" / "log" / "wingapp.log").read_text()
    assert "login=bob password=[redacted] csrf_token=[redacted]" in text
    assert "Cookie: [redacted]" in text
    assert "hunter2" not in text
    assert "xyz" not in text
    assert "dropped" not in text


def test_the_ini_files_tests_write_log_each_record_in_words(
    ini_file, capsys, restore_logging
):
    # The servers the integration tests start read it: what they log must
    # say what happened, or a test looking for it finds nothing.
    setup_logging(str(ini_file))
    logging.getLogger("wingapp.views.errors").warning("unhandled error: %s", "boom")
    assert capsys.readouterr().err == (
        "WARNING [wingapp.views.errors] unhandled error: boom\n"
    )
