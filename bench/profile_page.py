"""Where a page's time goes, in-process: no server, no sockets.

Builds a throwaway site on a FileStorage (as bench/run.py does), signs
``bench`` in through the real form, then calls the WSGI app directly for
``--requests`` GETs of one page: first timed, then under cProfile. Prints
the mean time per request and the functions that cost most.

    .venv/bin/python bench/profile_page.py [--path /users/bench/] [--requests 2000]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PASSWORD = "violet harbour lantern seventeen"


def make_site(directory: Path) -> Path:
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:wingapp\n"
        f"zodbconn.uri = file://{directory}/Data.fs\n"
        f"wingapp.session_secret_file = {directory}/secrets/session\n"
        f"wingapp.encryption_keys_file = {directory}/secrets/keys\n"
        f"wingapp.index_key_file = {directory}/secrets/index\n"
        "session.secure_cookie = false\n"
        "auth.two_step = never\n"
        "wingapp.public_url = http://127.0.0.1\n"
        f"mail.maildir = {directory}/mail\n"
    )
    wingapp = BIN / "wingapp"
    subprocess.run([wingapp, ini, "init"], check=True, capture_output=True)
    subprocess.run(
        [wingapp, ini, "add-user", "bench", "--email", "bench@example.org"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return ini


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--path", default="/users/bench/")
    parser.add_argument("--accept", help="the Accept header, if any")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--anonymous", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--save", help="write the profile's data to this file")
    args = parser.parse_args()

    import webtest
    from pyramid.paster import get_app

    with tempfile.TemporaryDirectory() as tmp:
        app = get_app(str(make_site(Path(tmp))))
        client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "127.0.0.1"})
        if not args.anonymous:
            form = client.get("/login").forms["login-form"]
            form["login"], form["password"] = "bench", PASSWORD
            # Follow the redirect, as a browser does: the first page after
            # signing in gives the session its CSRF token, and the cookie
            # the browser keeps from then on carries it.
            form.submit().follow()
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": args.path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
            "HTTP_COOKIE": cookie,
        }
        if args.accept:
            environ["HTTP_ACCEPT"] = args.accept
        statuses = []

        def start_response(status, headers, exc_info=None):
            statuses.append(status)

        def once() -> None:
            b"".join(app(dict(environ), start_response))

        for _ in range(200):
            once()
        assert statuses[-1].startswith(("200", "404")), statuses[-1]
        statuses.clear()
        # CPU time as well as wall time: on a busy machine the wall clock
        # also counts the time other processes had the CPU.
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            once()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        print(
            f"{args.path}: {elapsed / args.requests * 1000:.3f} ms a request, "
            f"{cpu / args.requests * 1000:.3f} ms of CPU, status {statuses[-1]}"
        )
        if args.top == 0:
            return 0
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            once()
        profile.disable()
        if args.save:
            profile.dump_stats(args.save)
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
        for db in app.registry._zodb_databases.values():
            db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
