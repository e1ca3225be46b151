"""The Premiere panel's credential against a real daemon: `reelmark serve` makes a local token, and the panel's
client (plugin/premiere/src/daemon.js) must send it when its host adds an Origin. Runs the panel's credential tests
with Node; skips, saying why, when Node is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reelmark.core.client import start_daemon_subprocess

PLUGIN = Path(__file__).resolve().parent.parent / "plugin" / "premiere"
NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js (20 or newer) is not installed; the panel's tests need `node --test`")
def test_panel_credential_against_a_real_daemon(tmp_path: Path) -> None:
    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        assert daemon.local_token_file is not None and daemon.local_token_file.stat().st_mode & 0o077 == 0
        env = {**os.environ, "REELMARK_TEST_HTTP": f"http://{daemon.http_address}",
               "REELMARK_TEST_LOCAL_TOKEN": daemon.local_token_file.read_text(encoding="utf-8").strip()}  # fmt: skip
        result = subprocess.run([NODE, "--test", "test/daemon.credential.test.js"], check=False, cwd=PLUGIN, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# pass 4" in result.stdout and "# skipped 0" in result.stdout
