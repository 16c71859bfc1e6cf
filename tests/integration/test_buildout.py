"""buildout.cfg in a fresh copy of the repository: a throwaway virtualenv
with only zc.buildout, one `buildout`, and the bin/pserve it made serves the
app.

The copy holds what a clone would, as the working tree has it now (files
not yet committed included). Buildout's eggs go to a cache outside the
repository, shared between runs; without it, buildout downloads them.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_ini

from .servers import copy_source_tree, fetch, free_port, run, stop, wait_for_http

pytestmark = pytest.mark.integration

CACHE = Path(os.environ.get("WINGAPP_TEST_CACHE", "/var/tmp/wingapp-test-cache"))
SCRIPTS = (
    "pserve",
    "pshell",
    "wingapp",
    "wingapp.wsgi",
    "repozo",
    "zodbconvert",
    "zodbpack",
)

AS_MOD_WSGI_IMPORTS_IT = (
    "import runpy, sys; "
    "names = runpy.run_path(sys.argv[1], run_name='_mod_wsgi_wingapp'); "
    "print('loaded' if names['application']._app is not None else 'not loaded')"
)


def test_buildout_from_a_fresh_copy_serves_the_app(tmp_path, file_settings):
    clone = copy_source_tree(tmp_path / "clone")
    venv = tmp_path / "buildout-venv"
    run([sys.executable, "-m", "venv", venv])
    run([venv / "bin" / "pip", "install", "--quiet", "zc.buildout"], timeout=600)

    eggs = CACHE / "buildout-eggs"
    eggs.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".buildout-lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        run(
            [venv / "bin" / "buildout", f"buildout:eggs-directory={eggs}"],
            cwd=clone,
            timeout=1200,
        )
    for script in SCRIPTS:
        assert (clone / "bin" / script).exists(), f"bin/{script} was not made"

    port = free_port()
    ini = write_ini(clone / "site.ini", file_settings, port)
    init = run([clone / "bin" / "wingapp", ini, "init"]).stdout
    assert "Created the admin account 'admin'" in init
    # The mod_wsgi script, run as a command, loads the app from its ini.
    check = run(
        [clone / "bin" / "wingapp.wsgi"], env={**os.environ, "WINGAPP_INI": str(ini)}
    )
    assert f"the application loads from {ini}" in check.stdout
    # Imported as mod_wsgi imports it (a module, not __main__), it loads
    # the app right away, before any request.
    script = clone / "bin" / "wingapp.wsgi"
    python = script.read_text().splitlines()[0].removeprefix("#!")
    imported = run(
        [python, "-c", AS_MOD_WSGI_IMPORTS_IT, script],
        env={**os.environ, "WINGAPP_INI": str(ini)},
    )
    assert imported.stdout.splitlines()[-1] == "loaded"

    server = subprocess.Popen(
        [clone / "bin" / "pserve", ini],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process=server)
        status, content_type, body = fetch(f"http://127.0.0.1:{port}/")
    finally:
        stop(server)
    assert status == 200
    assert content_type.startswith("text/html")
    assert "<h1>wingapp</h1>" in body
    # The scripts run from the copy's code and buildout's eggs, not this venv.
    assert str(clone / "src") in (clone / "bin" / "pserve").read_text()
