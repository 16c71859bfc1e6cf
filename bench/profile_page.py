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
import pstats
import sys
import tempfile
import time
from pathlib import Path

from budget import Caller, environ, make_site, signed_in_cookie


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

    from pyramid.paster import get_app

    with tempfile.TemporaryDirectory() as tmp:
        app = get_app(str(make_site(Path(tmp))))
        cookie = "" if args.anonymous else signed_in_cookie(app)
        env = environ(args.path, cookie, args.accept)
        once = Caller(app, env, expected=("200", "404"))
        for _ in range(200):
            once()
        # CPU time as well as wall time: on a busy machine the wall clock
        # also counts the time other processes had the CPU.
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(args.requests):
            once()
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        print(
            f"{args.path}: {elapsed / args.requests * 1000:.3f} ms a request, "
            f"{cpu / args.requests * 1000:.3f} ms of CPU, status {once.status}"
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
