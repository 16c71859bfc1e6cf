"""development-zeo.ini's set-up: a real `runzeo` serving a FileStorage,
`pserve` and `wingapp` commands both connected to it at once."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import write_ini

from .servers import (
    BIN,
    Client,
    admin_password,
    free_port,
    require,
    run,
    stop,
    wait_for_http,
)

pytestmark = pytest.mark.integration

BOB = "copper meadow whistle ninety-one"


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"runzeo exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"runzeo did not listen on {port} within {timeout} s")


@pytest.fixture
def zeo(tmp_path: Path) -> Iterator[int]:
    """`runzeo` on a free port, serving a new Data.fs (as `make zeo`)."""
    runzeo = BIN / "runzeo"
    require(runzeo.exists(), f"no {runzeo}: pip install -e . (ZEO)")
    port = free_port()
    process = subprocess.Popen(
        [runzeo, "-a", f"127.0.0.1:{port}", "-f", tmp_path / "Data.fs"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, process)
        yield port
    finally:
        stop(process)


def test_commands_and_the_server_share_one_database(tmp_path, file_settings, zeo):
    port = free_port()
    settings = {
        **file_settings,
        "zodbconn.uri": f"zeo://127.0.0.1:{zeo}?wait_timeout=10",
        # Signing in with a password alone shows the server sees the account.
        "auth.two_step": "never",
    }
    ini = write_ini(tmp_path / "zeo.ini", settings, port=port)
    admin = admin_password(run([BIN / "wingapp", ini, "init"]).stdout)
    server = subprocess.Popen(
        [BIN / "pserve", ini], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/", process=server)
        # With a FileStorage this is where the command died on the lock.
        added = run(
            [BIN / "wingapp", ini, "add-user", "bob", "--email", "bob@example.org"],
            input=BOB + "\n",
        )
        assert "Added 'bob' (user)." in added.stdout

        bob = Client(base)
        signed_in = bob.sign_in("bob", BOB)
        assert signed_in.status == 303
        assert signed_in.location == f"{base}/users/bob/"
        assert "<h1>bob</h1>" in bob.get("/users/bob/").text

        # The admin listing, in the server, shows the account the command made.
        root = Client(base)
        assert root.sign_in("admin", admin).status == 303
        listing = root.get("/users/")
        assert listing.status == 200
        assert "bob@example.org" in listing.text

        # And a command sees what the server wrote: bob's sign-in.
        exported = run([BIN / "wingapp", ini, "export-users", "-"]).stdout
        (row,) = [line for line in exported.splitlines() if line.startswith("bob,")]
        assert row.split(",")[-1], "bob's last sign-in is not recorded"
    finally:
        stop(server)
        if server.stdout is not None:
            server.stdout.close()
