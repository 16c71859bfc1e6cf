"""The mod_wsgi entry point: which ini it loads, when, and what it says."""

from __future__ import annotations

import logging

import pytest
import webtest

from wingapp import wsgi


@pytest.fixture
def no_ini_variable(monkeypatch):
    monkeypatch.delenv(wsgi.INI_VARIABLE, raising=False)


def close_databases(app):
    for db in app.registry._zodb_databases.values():
        db.close()


def up(environ, start_response):
    """The app a loader hands back: it answers "up"."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"up"]


def test_ini_path_prefers_the_process_environment():
    assert (
        wsgi.ini_path({"WINGAPP_INI": "/a.ini"}, {"WINGAPP_INI": "/b.ini"}) == "/a.ini"
    )
    assert wsgi.ini_path({}, {"WINGAPP_INI": "/b.ini"}) == "/b.ini"
    assert wsgi.ini_path({"WINGAPP_INI": ""}, {"WINGAPP_INI": "/b.ini"}) == "/b.ini"


def test_missing_ini_names_the_variable():
    with pytest.raises(wsgi.MissingIni, match="Set WINGAPP_INI to the path of the ini"):
        wsgi.ini_path({}, {"HTTP_WINGAPP_INI": "/from/a/client/header.ini"})


def test_module_exposes_a_lazy_application():
    assert isinstance(wsgi.application, wsgi.LazyApplication)


def test_lazy_application_loads_once_from_the_request_environment(no_ini_variable):
    loaded = []

    def loader(path):
        loaded.append(path)

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [path.encode()]

        return app

    app = webtest.TestApp(
        wsgi.LazyApplication(loader), extra_environ={"WINGAPP_INI": "/srv/site.ini"}
    )
    assert app.get("/").text == "/srv/site.ini"
    assert (
        app.get("/", extra_environ={"WINGAPP_INI": "/other.ini"}).text
        == "/srv/site.ini"
    )
    assert loaded == ["/srv/site.ini"]


def test_lazy_application_answers_503_until_the_ini_is_named(no_ini_variable):
    application = wsgi.LazyApplication(lambda path: pytest.fail("must not load"))
    client = webtest.TestApp(application)
    for _ in range(2):
        # WebTest hands the app its own wsgi.errors and shows what it got.
        page = client.get("/", status=503, expect_errors=True)
        assert page.headers["Retry-After"] == "5"
        assert page.text.startswith("Service unavailable: the application could not")
        # The visitor is told to come back; the error log is told why.
        assert "WINGAPP_INI" not in page.text
        logged = page.errors
        assert logged.startswith("wingapp.wsgi: cannot load the application")
        assert "MissingIni: Set WINGAPP_INI to the path of the ini file" in logged


def test_a_failed_load_is_tried_again_at_the_next_request(no_ini_variable):
    """A database still starting fails the first load: that request gets a
    503, and the next one loads the app."""
    attempts = []

    def loader(path):
        attempts.append(path)
        if len(attempts) == 1:
            raise ConnectionRefusedError("the database is starting up")
        return up

    client = webtest.TestApp(
        wsgi.LazyApplication(loader), extra_environ={"WINGAPP_INI": "/srv/site.ini"}
    )
    failed = client.get("/", status=503, expect_errors=True)
    assert "ConnectionRefusedError: the database is starting up" in failed.errors
    assert client.get("/").text == "up"
    assert attempts == ["/srv/site.ini", "/srv/site.ini"]


def test_real_app_from_the_process_environment(monkeypatch, ini_file, restore_logging):
    monkeypatch.setenv("WINGAPP_INI", str(ini_file))
    application = wsgi.LazyApplication()
    page = webtest.TestApp(application, extra_environ={"HTTP_HOST": "example.com"}).get(
        "/"
    )
    assert page.status_int == 200
    assert "<h1>wingapp</h1>" in page.text
    # load() applied the ini's logging: the root logger is at its WARN level.
    assert logging.getLogger().level == logging.WARNING
    close_databases(application.get({}))


def test_main_reports_that_the_app_loads(ini_file, capsys, restore_logging):
    assert wsgi.main([str(ini_file)], environ={}) == 0
    assert (
        capsys.readouterr().out
        == f"wingapp.wsgi: the application loads from {ini_file}.\n"
    )
    # The check closed the database: the FileStorage is free for the server.
    assert wsgi.main([], environ={"WINGAPP_INI": str(ini_file)}) == 0


def test_main_explains_what_is_missing(tmp_path, capsys, restore_logging):
    assert wsgi.main([], environ={}) == 1
    assert "cannot load the application: Set WINGAPP_INI" in capsys.readouterr().err
    assert wsgi.main([str(tmp_path / "nowhere.ini")], environ={}) == 1
    assert "nowhere.ini" in capsys.readouterr().err


def test_main_reads_the_command_line_and_environment_by_default(
    monkeypatch, ini_file, capsys, restore_logging
):
    monkeypatch.setattr("sys.argv", ["bin/wingapp.wsgi"])
    monkeypatch.setenv("WINGAPP_INI", str(ini_file))
    assert wsgi.main() == 0
    assert str(ini_file) in capsys.readouterr().out


def test_threads_arriving_together_load_the_app_once(no_ini_variable):
    import threading

    started = threading.Event()
    release = threading.Event()
    loaded = []

    def slow_loader(path):
        loaded.append(path)
        started.set()
        release.wait(10)
        return lambda environ, start_response: [b"ok"]

    class WatchedLock:
        """The real lock, telling the test when a thread starts waiting."""

        def __init__(self):
            self.lock = threading.Lock()
            self.waiting = threading.Semaphore(0)

        def __enter__(self):
            self.waiting.release()
            self.lock.acquire()

        def __exit__(self, *exc):
            self.lock.release()

    lazy = wsgi.LazyApplication(slow_loader)
    lazy._lock = WatchedLock()
    environ = {"WINGAPP_INI": "/srv/site.ini"}
    apps = []
    first = threading.Thread(target=lambda: apps.append(lazy.get(environ)))
    first.start()
    started.wait(10)
    # A second thread arrives while the first is still loading.
    second = threading.Thread(target=lambda: apps.append(lazy.get(environ)))
    second.start()
    assert lazy._lock.waiting.acquire(timeout=10)  # the first, loading
    assert lazy._lock.waiting.acquire(timeout=10)  # the second, waiting
    release.set()
    first.join(10)
    second.join(10)
    assert loaded == ["/srv/site.ini"]
    assert len(apps) == 2 and apps[0] is apps[1]


def test_preload_builds_the_app_before_any_request(no_ini_variable):
    """The WSGI script preloads as mod_wsgi imports it in a new daemon
    process: the first request finds the app built."""
    loaded = []

    def loader(path):
        loaded.append(path)
        return up

    lazy = wsgi.LazyApplication(loader)
    assert lazy.preload({"WINGAPP_INI": "/srv/site.ini"}) is True
    assert loaded == ["/srv/site.ini"]
    # The request names no ini: the app it gets is the one built at start.
    assert webtest.TestApp(lazy).get("/").text == "up"
    assert loaded == ["/srv/site.ini"]


def test_preload_leaves_the_load_to_the_first_request_without_an_ini(
    no_ini_variable,
):
    """Named by Apache's SetEnv only, the ini is known at the first request."""
    lazy = wsgi.LazyApplication(lambda path: pytest.fail("must not load yet"))
    assert lazy.preload({}) is False
    assert lazy.preload({"WINGAPP_INI": ""}) is False


def test_a_failed_preload_is_logged_and_requests_answer_503_until_it_loads(
    no_ini_variable, capsys
):
    attempts = []

    def loader(path):
        attempts.append(path)
        if len(attempts) < 3:
            raise ConnectionRefusedError("the database is starting up")
        return up

    lazy = wsgi.LazyApplication(loader)
    environ = {"WINGAPP_INI": "/srv/site.ini"}
    # Not raised: a script that fails to import is a 500 for every request.
    assert lazy.preload(environ) is False
    logged = capsys.readouterr().err
    assert logged.startswith(
        "wingapp.wsgi: cannot load the application as the process starts"
    )
    assert "ConnectionRefusedError: the database is starting up" in logged
    client = webtest.TestApp(lazy, extra_environ=environ)
    failed = client.get("/", status=503, expect_errors=True)
    assert failed.headers["Retry-After"] == "5"
    assert client.get("/").text == "up"
    assert attempts == ["/srv/site.ini"] * 3


def test_real_app_preloads_from_the_process_environment(
    monkeypatch, ini_file, restore_logging
):
    monkeypatch.setenv("WINGAPP_INI", str(ini_file))
    application = wsgi.LazyApplication()
    assert application.preload() is True
    # The ini may go: the app was built from it at start.
    monkeypatch.delenv("WINGAPP_INI")
    page = webtest.TestApp(application, extra_environ={"HTTP_HOST": "example.com"}).get(
        "/"
    )
    assert "<h1>wingapp</h1>" in page.text
    close_databases(application.get({}))
