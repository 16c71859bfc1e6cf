"""`pserve` as a real process on a free port, as `make run` starts it."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import write_ini

from .servers import BIN, fetch, free_port, stop, wait_for_http

pytestmark = pytest.mark.integration


@pytest.fixture
def served(tmp_path, file_settings):
    port = free_port()
    ini = write_ini(tmp_path / "serve.ini", file_settings, port=port)
    init = subprocess.run(
        [BIN / "wingapp", ini, "init"], capture_output=True, text=True, check=True
    )
    assert "Created the admin account 'admin'" in init.stdout
    process = subprocess.Popen(
        [BIN / "pserve", ini], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/", process=process)
        yield base
    finally:
        stop(process)


def test_pserve_serves_home_json_and_404(served):
    status, content_type, body = fetch(served + "/")
    assert status == 200
    assert content_type.startswith("text/html")
    assert "<h1>wingapp</h1>" in body

    status, content_type, body = fetch(served + "/", {"Accept": "application/json"})
    assert status == 200
    assert content_type == "application/json"
    assert json.loads(body)["type"] == "root"

    status, _, body = fetch(served + "/no-such-name")
    assert status == 404
    assert 'class="site-header"' in body
    assert "Not found" in body
