"""Throughput of wingapp's pages against a bare Pyramid app, same server.

Both apps run under waitress in their own process on this machine; one
client process sends a fixed number of requests over keep-alive
connections from a few threads. Figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from report import replace_section

PASSWORD = "violet harbour lantern seventeen"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent

SERVE_WINGAPP = """
import sys
from waitress import serve
from pyramid.paster import get_app
serve(get_app(sys.argv[1]), listen=sys.argv[2], threads=4, _quiet=True)
"""

SERVE_HELLO = """
import sys
sys.path.insert(0, sys.argv[3])
from waitress import serve
from hello_app import make_app
serve(make_app(), listen=sys.argv[2], threads=4, _quiet=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


def load(port: int, path: str, headers: dict, total: int, threads: int) -> dict:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = total // threads

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        for _ in range(per_thread):
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status >= 500:
                raise RuntimeError(f"{path} answered {response.status}")
            mine.append(time.perf_counter() - start)
        conn.close()
        with lock:
            latencies.extend(mine)

    # Warm up caches and connections before measuring.
    warm = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(50):
        warm.request("GET", path, headers=headers)
        warm.getresponse().read()
    warm.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


def start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args])


def write_ini(directory: Path) -> Path:
    secrets = directory / "secrets"
    ini = directory / "bench.ini"
    ini.write_text(
        "[app:main]\nuse = egg:wingapp\n"
        f"zodbconn.uri = file://{directory}/Data.fs\n"
        f"wingapp.session_secret_file = {secrets}/session\n"
        f"wingapp.encryption_keys_file = {secrets}/keys\n"
        f"wingapp.index_key_file = {secrets}/index\n"
        "session.secure_cookie = false\n"
        "auth.two_step = never\n"
        f"mail.maildir = {directory}/mail\n"
    )
    subprocess.run([BIN / "wingapp", ini, "init"], check=True, capture_output=True)
    subprocess.run(
        [BIN / "wingapp", ini, "add-user", "bench", "--email", "bench@example.org"],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    return ini


def signed_in_cookie(port: int) -> str:
    """Sign in through the real form; return the Cookie header to reuse."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrf_token": token, "login": "bench", "password": PASSWORD}
    )
    conn.request(
        "POST",
        "/login",
        body=form,
        headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    if response.status != 303:
        raise RuntimeError(f"sign-in answered {response.status}")
    cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie")]
    conn.close()
    return "; ".join(c for c in cookies if c.split("=", 1)[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()

    cases = [
        ("bare Pyramid hello (baseline)", "hello", "/", {}),
        ("wingapp home page (HTML)", "wingapp", "/", {}),
        ("wingapp home (JSON)", "wingapp", "/", {"Accept": "application/json"}),
        ("wingapp 404 page", "wingapp", "/no-such-name", {}),
        (
            "wingapp user page, signed in (HTML)",
            "wingapp",
            "/users/bench/",
            "signed-in",
        ),
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ini = write_ini(Path(tmp))
        servers = {}
        for name, script, extra in (
            ("hello", SERVE_HELLO, [str(HERE)]),
            ("wingapp", SERVE_WINGAPP, []),
        ):
            port = free_port()
            servers[name] = (start(script, str(ini), f"127.0.0.1:{port}", *extra), port)
            wait_ready(port)
        try:
            cookie = signed_in_cookie(servers["wingapp"][1])
            for label, server, path, headers in cases:
                if headers == "signed-in":
                    headers = {"Cookie": cookie}
                figures = load(
                    servers[server][1], path, headers, args.requests, args.threads
                )
                results.append((label, figures))
                print(
                    f"{label}: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.2f} ms"
                )
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait()

    baseline = results[0][1]["rps"]
    lines = [
        "Written by `make bench` (bench/run.py). Each app runs under waitress",
        f"(4 threads) in its own process; {args.threads} client threads send",
        f"{args.requests} keep-alive GETs per case after a warm-up. The baseline",
        "is a bare Pyramid app under the same server in the same run.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        "",
        "| case | requests/s | vs. baseline | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, f in results:
        lines.append(
            f"| {label} | {f['rps']:.0f} | {f['rps'] / baseline:.2f}x "
            f"| {f['p50_ms']:.2f} | {f['p99_ms']:.2f} |"
        )
    replace_section(Path(args.output), "Pages against a bare Pyramid app", lines)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
