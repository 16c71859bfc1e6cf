"""`pserve` with a setting out of range: one line, no traceback."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import write_ini

from .servers import BIN

pytestmark = pytest.mark.integration


def test_pserve_refuses_a_bad_setting_in_one_line(tmp_path, settings):
    ini = write_ini(tmp_path / "bad.ini", {**settings, "auth.backoff_cap": "0"})
    # Only the environment's own deprecation notice is silenced, so that
    # what is left is exactly what wingapp says.
    env = {
        **os.environ,
        "PYTHONWARNINGS": "ignore:pkg_resources is deprecated:UserWarning",
    }
    done = subprocess.run(
        [BIN / "pserve", ini], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "wingapp: auth.backoff_cap must be from 900 to 86400 seconds; got 0.\n"
    )
