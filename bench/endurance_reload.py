"""A graceful reload under load: the WSGI script touched while a crowd works.

mod_wsgi-express (2 daemon processes of 4 threads, as www-data, from a
virtualenv of the system Python) serves production.ini on RelStorage in a
throwaway PostgreSQL database. Clients read pages (home, sign-in form),
sign in, read their page and sign out, and register new accounts, without
pause. Every ``--interval`` seconds the WSGI script (handler.wsgi) is
touched, as a deploy does: mod_wsgi starts new daemon processes and
hands them the requests; ``--reloads`` times, each time waiting until both
old daemons have been replaced. Goal: 0 failed requests (no answer, or an
answer >= 500). Figures go to the "Endurance: reload under load" section
of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from concurrency import answered_503
from endurance_common import (
    ROOT,
    Log,
    add_mix_arguments,
    app_errors,
    busy,
    crowd,
    failed,
    header,
    make_site,
    mixed_works,
    servers,
)
from report import replace_section
from tests.integration.postgres import fresh_database, uri

HEADING = "Endurance: reload under load"


def wait_for_new_daemons(server: servers.Express, old: set[int]) -> float:
    started = time.monotonic()
    deadline = started + 120
    while True:
        now = server.daemon_pids()
        if len(now) == 2 and not now & old:
            return time.monotonic() - started
        if time.monotonic() > deadline:
            raise RuntimeError(f"daemons not replaced: {old} -> {now}")
        time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--interval", type=float, default=10.0)
    add_mix_arguments(parser)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wingapp-reload-") as tmp:
        root = servers.readable_by_daemon(Path(tmp))
        source = servers.copy_source_tree(root / "source")
        venv = servers.modwsgi_venv(source)
        app = servers.install_app(venv, source, root / "app")
        log = Log()
        swaps = []
        with fresh_database("wingapp_bench") as database:
            site = root / "site"
            site.mkdir()
            servers.readable_by_daemon(site)
            zodb_uri = uri(database, keep_history="true", cache_local_mb="64")
            ini = make_site(site, zodb_uri, signers=args.signers)
            servers.give_to_daemon(site / "var")
            express = contextlib.contextmanager(servers.start_express)
            clients = str(3 * (args.readers + args.signers + args.registrants))
            with express(venv, ini, app, "--max-clients", clients) as server:
                base = server.base
                works = mixed_works(base, log, args)
                script = server.root / "handler.wsgi"
                with crowd(works):
                    for number in range(args.reloads):
                        time.sleep(args.interval)
                        old = server.daemon_pids()
                        script.touch()
                        swaps.append(wait_for_new_daemons(server, old))
                        print(f"reload {number + 1}: {swaps[-1]:.1f} s", flush=True)
                    time.sleep(args.interval)
                apache = server.error_log()
            errors = app_errors(site / "var" / "log" / "wingapp.log")
            conflicts = answered_503(site / "var" / "log" / "wingapp.log")

    statuses = log.statuses()
    failures = [a for a in log.answers if failed(a)]
    for answer in failures[:10]:
        print(f"  failed: {answer}")
    mod_wsgi_errors = sum(
        1 for line in apache.splitlines() if "[wsgi:error]" in line or "crit]" in line
    )
    print(f"statuses {dict(sorted(statuses.items()))}; failed {len(failures)}")
    verdict = "met" if not failures else "NOT MET"
    lines = [
        *header("endurance_reload.py", sys.argv[1:]),
        "mod_wsgi-express (2 daemon processes of 4 threads, as www-data), "
        "production.ini on RelStorage (PostgreSQL). "
        f"{args.readers} clients read the home page and the sign-in form, "
        f"{args.signers} sign in, read their page and sign out, "
        f"{args.registrants} register new accounts, all without pause. Every "
        f"{args.interval:g} s the WSGI script is touched (a deploy), "
        f"{args.reloads} times; mod_wsgi replaced both daemon processes in "
        f"{', '.join(f'{s:.1f}' for s in swaps)} s. Goal: 0 failed requests, "
        f"no answer or >= 500 ({verdict}). A *busy* 503 is "
        "a conflict between the clients' own writes that outlasted its retries "
        "(as in the crowd above).",
        "",
        "| requests | failed | of which 503 busy | 2xx | 3xx | 4xx "
        "| ERROR in app log | wsgi errors in error_log |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {sum(statuses.values()):,} | {len(failures)} "
        f"| {sum(1 for a in failures if busy(a))} "
        f"| {sum(n for s, n in statuses.items() if 200 <= s < 300):,} "
        f"| {sum(n for s, n in statuses.items() if 300 <= s < 400):,} "
        f"| {sum(n for s, n in statuses.items() if 400 <= s < 500):,} "
        f"| {sum(errors.values())} | {mod_wsgi_errors} |",
    ]
    if conflicts:
        lines += [
            "",
            "What the 503s were for (the app's log): "
            + "; ".join(f"{n}x {what}" for what, n in conflicts.most_common())
            + ".",
        ]
    print("\n".join(lines))
    replace_section(args.output, HEADING, lines)
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
