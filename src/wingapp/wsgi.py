"""The WSGI entry point for Apache mod_wsgi (or any WSGI server).

mod_wsgi imports this module (or a script that imports ``application``
from it) in every daemon process. The ini file is named by the
``WINGAPP_INI`` environment variable, read from the process environment or,
failing that, from the request environment, where Apache's
``SetEnv WINGAPP_INI /srv/wingapp/production.ini`` puts it: mod_wsgi passes
``SetEnv`` values to the application per request, not through
``os.environ``. A client cannot set it: request headers arrive as
``HTTP_*`` keys.

When the process environment names the ini (Apache's ``envvars``, as
deploy/apache/wingapp.conf says), the WSGI script calls ``preload()`` and
each daemon process builds the application as it starts, before it takes
a request: no request waits while a process loads the app, or meets a
process that is half-way through loading it, and every process of the
group runs the ini as it was when the group started. Named by ``SetEnv``
only, the ini is known at the first request, which builds the app then.

Either way a failed load leaves the module imported and the application
unbuilt, so that an error in the ini shows in Apache's error log on every
request until it is fixed, instead of leaving a process that imported half
a module (which mod_wsgi would answer 500). Until it loads, each request
is answered 503 with ``Retry-After`` (never 500): a database that is
still starting is the usual reason, and the next request tries again.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyramid.paster import get_app, setup_logging

INI_VARIABLE = "WINGAPP_INI"
NOT_LOADED = (
    b"Service unavailable: the application could not start (the server's "
    b"error log says why). Please try again in a moment.\n"
)


class MissingIni(RuntimeError):
    """No ini file was named."""


class RefusedToStart(RuntimeError):
    """The application stopped its own start (a setting out of range)."""


def ini_path(*environs: Mapping[str, Any]) -> str:
    """The ini file named by the first environment that sets the variable."""
    for environ in environs:
        path = environ.get(INI_VARIABLE)
        if path:
            return str(path)
    raise MissingIni(
        f"Set {INI_VARIABLE} to the path of the ini file (e.g. "
        f"{INI_VARIABLE}=/srv/wingapp/production.ini in the environment, or "
        f"'SetEnv {INI_VARIABLE} /srv/wingapp/production.ini' in Apache)."
    )


def load(config_uri: str) -> Callable:
    """The app from ``config_uri``, with the ini's logging set up first so
    that errors while loading it reach the log file."""
    setup_logging(config_uri)
    try:
        return get_app(config_uri, "main")
    except SystemExit as e:
        # wingapp.main() exits on a bad setting so that pserve prints one
        # line. In a mod_wsgi daemon that would end the process; as an
        # error it is answered 503, reaches the error log, and the next
        # request tries again, as with any other mistake in the ini.
        raise RefusedToStart(e.code) from None


class LazyApplication:
    """A WSGI app that loads the real one on its first request."""

    def __init__(self, loader: Callable[[str], Callable] = load) -> None:
        self._loader = loader
        self._app: Callable | None = None
        # mod_wsgi runs several threads a process: load only once.
        self._lock = threading.Lock()

    def get(self, environ: Mapping[str, Any]) -> Callable:
        app = self._app
        if app is None:
            # Only the first requests of a process get here; the lock makes
            # the threads among them load the app once.
            with self._lock:
                if self._app is None:
                    self._app = self._loader(ini_path(os.environ, environ))
                app = self._app
        return app

    def preload(self, environ: Mapping[str, Any] = os.environ) -> bool:
        """Load the app now if ``environ`` (the process environment) names
        the ini; True if it loaded.

        Called by the WSGI script, which mod_wsgi imports in each daemon
        process as it starts. A failure is written to stderr (mod_wsgi's
        error log) and not raised: raised, it would fail the script's
        import, and mod_wsgi would answer every request 500. The first
        request tries again and is answered 503 if that fails too.
        """
        if not environ.get(INI_VARIABLE):
            return False
        try:
            self.get(environ)
        except Exception:
            sys.stderr.write(
                "wingapp.wsgi: cannot load the application as the process "
                "starts; requests are answered 503 until it loads:\n"
                + traceback.format_exc()
            )
            return False
        return True

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            app = self.get(environ)
        except Exception:
            # The why goes to the server's error log (mod_wsgi's
            # wsgi.errors), not to the visitor.
            environ["wsgi.errors"].write(
                "wingapp.wsgi: cannot load the application; answered 503:\n"
                + traceback.format_exc()
            )
            start_response(
                "503 Service Unavailable",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Retry-After", "5"),
                ],
            )
            return [NOT_LOADED]
        return app(environ, start_response)


application = LazyApplication()


def main(
    argv: list[str] | None = None, environ: Mapping[str, Any] | None = None
) -> int:
    """Load the app as mod_wsgi would and say whether it worked.

    What buildout's ``bin/wingapp.wsgi`` does when run as a command: run it
    before ``apachectl graceful`` to catch a broken ini or a missing secret
    before Apache answers every request with an error.
    """
    argv = sys.argv[1:] if argv is None else argv
    environ = os.environ if environ is None else environ
    try:
        path = argv[0] if argv else ini_path(environ)
        app = load(path)
    except Exception as e:
        print(f"wingapp.wsgi: cannot load the application: {e}", file=sys.stderr)
        return 1
    for db in app.registry._zodb_databases.values():
        db.close()
    print(f"wingapp.wsgi: the application loads from {path}.")
    return 0
