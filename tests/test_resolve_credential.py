"""The Resolve script's credential: it finds the daemon's local token where `reelmark serve` keeps it and sends
it, and a daemon started with a token accepts the script only with that token. Real daemons on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from reelmark.core.client import start_daemon_subprocess
from reelmark.core.daemon.security import LOCAL_TOKEN_ENV, TOKEN_ENV, local_token_path
from reelmark.plugin.resolve import daemon_link
from reelmark.plugin.resolve.daemon_link import DaemonError, DaemonLink

TOKEN = "resolve-test-token-0123456789"


def test_the_script_looks_for_the_local_token_where_the_daemon_keeps_it(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.delenv(LOCAL_TOKEN_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert Path(daemon_link.local_token_path()) == local_token_path()
    assert local_token_path().is_relative_to(tmp_path / "config")
    monkeypatch.setenv(LOCAL_TOKEN_ENV, str(tmp_path / "elsewhere" / "token"))
    assert Path(daemon_link.local_token_path()) == local_token_path() == tmp_path / "elsewhere" / "token"
    assert daemon_link.read_local_token() is None, "no file yet: no token, and no error"


def test_the_script_sends_the_local_token_a_real_daemon_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        assert daemon.local_token_file is not None
        monkeypatch.setenv(LOCAL_TOKEN_ENV, str(daemon.local_token_file))
        link = DaemonLink(daemon.http_address)
        assert link.token == daemon.local_token_file.read_text(encoding="utf-8").strip()
        assert link.alive() and link.call("ListJobs", {}) == {"jobs": []}
        # The token the script holds is the one the daemon asks of callers that send an Origin.
        for token, status in ((link.token, 200), ("not-the-local-token-00000000", 401)):
            request = urllib.request.Request(
                f"http://{daemon.http_address}/reelmark.v1.Reelmark/ListJobs", data=b"{}", method="POST",
                headers={"Content-Type": "application/json", "Origin": "null", "Authorization": f"Bearer {token}"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answered = response.status
            except urllib.error.HTTPError as error:
                answered = error.code
                assert json.loads(error.read())["code"] == "unauthenticated"
            assert answered == status


def test_a_daemon_with_a_token_takes_the_script_only_with_it(tmp_path: Path) -> None:
    env = {**os.environ, TOKEN_ENV: TOKEN}
    with start_daemon_subprocess(tmp_path / "store.sqlite3", env=env, log=subprocess.DEVNULL) as daemon:
        assert DaemonLink(daemon.http_address, TOKEN).call("ListJobs", {}) == {"jobs": []}
        with pytest.raises(DaemonError, match="unauthenticated"):
            DaemonLink(daemon.http_address, "wrong-token-0123456789abc").call("ListJobs", {})
