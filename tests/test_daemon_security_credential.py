"""The local token: made once per install in a private file, refused when others can read it, printed for the
Premiere panel by `reelmark serve --print-local-token`, and given to the daemon `reelmark serve` starts."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from reelmark.core.client import start_daemon_subprocess
from reelmark.core.cli.daemon import serve
from reelmark.core.daemon.errors import ConfigurationError
from reelmark.core.daemon.security import LOCAL_TOKEN_ENV, MIN_TOKEN_LENGTH, ensure_local_token


def test_the_local_token_is_made_once_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "config" / "reelmark" / "local-token"
    token = ensure_local_token(path)
    assert len(token) >= MIN_TOKEN_LENGTH and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_local_token(path) == token, "the same token every start: the panel's pasted copy keeps working"
    assert ensure_local_token(tmp_path / "other") != token, "each install has its own"


def test_a_local_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "local-token"
    ensure_local_token(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        ensure_local_token(path)
    path.chmod(0o600)
    path.write_text("short\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="delete it"):
        ensure_local_token(path)


def test_serve_prints_the_local_token_for_the_panel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "local-token"
    monkeypatch.setenv(LOCAL_TOKEN_ENV, str(path))
    result = CliRunner().invoke(serve, ["--print-local-token"])
    assert result.exit_code == 0 and result.output.strip() == path.read_text(encoding="utf-8").strip()


def test_serve_gives_its_daemon_the_local_token(tmp_path: Path) -> None:
    """Through the real `serve` command: an unlisted origin is refused without the token, served with it."""
    import http.client

    with start_daemon_subprocess(tmp_path / "store.sqlite3", log=subprocess.DEVNULL) as daemon:
        token = daemon.local_token_file.read_text(encoding="utf-8").strip()
        host, port = daemon.http_address.rsplit(":", 1)
        answers = []
        for credential in ("", f"Bearer {token}"):
            connection = http.client.HTTPConnection(host, int(port), timeout=30)
            headers = {"Content-Type": "application/json", "Origin": "https://evil.example"}
            connection.request("POST", "/reelmark.v1.Reelmark/ListJobs", body=b"{}",
                               headers={**headers, **({"Authorization": credential} if credential else {})})  # fmt: skip
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read())))
            connection.close()
    assert answers[0][0] == 401 and "--print-local-token" in answers[0][1]["message"]
    assert answers[1] == (200, {"jobs": []})
