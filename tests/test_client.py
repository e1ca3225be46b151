"""The client library: the token travels, errors become reelmark errors, a daemon subprocess comes and goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_daemon_support import shots_request, start_daemon, tiny_clip

from reelmark.core.client import DaemonClient, analyze_via_daemon, start_daemon_subprocess
from reelmark.core.daemon.errors import StatusError
from reelmark.core.errors import ReelmarkError

__all__ = ["start_daemon", "tiny_clip"]  # fixtures, imported for pytest

TOKEN = "client-token-0123456789"


def test_the_token_comes_from_the_environment(start_daemon, tiny_clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A token set on the default bind is enforced too; the client sends $REELMARK_TOKEN unless told otherwise."""
    daemon = start_daemon(token=TOKEN)
    monkeypatch.delenv("REELMARK_TOKEN", raising=False)
    with pytest.raises(StatusError) as refused:
        analyze_via_daemon(daemon.address, shots_request(tiny_clip))
    assert refused.value.status == "UNAUTHENTICATED"
    monkeypatch.setenv("REELMARK_TOKEN", TOKEN)
    assert analyze_via_daemon(daemon.address, shots_request(tiny_clip)).of_kind("shot")


def test_an_unreachable_daemon_is_a_reelmark_error_with_a_hint() -> None:
    with DaemonClient("127.0.0.1:1") as client, pytest.raises(ReelmarkError) as refused:
        client.jobs()
    assert refused.value.status == "UNAVAILABLE" and "reelmark serve" in str(refused.value)


def test_a_daemon_subprocess_serves_and_stops_cleanly(tmp_path: Path, tiny_clip: Path) -> None:
    with (tmp_path / "daemon.log").open("wb") as log:
        with start_daemon_subprocess(tmp_path / "store.sqlite3", log=log) as daemon:
            assert daemon.http_address is not None and daemon.http_address.startswith("127.0.0.1:")
            analysis = analyze_via_daemon(daemon.address, shots_request(tiny_clip))
    assert daemon.process.returncode == 0, "SIGTERM at the end of the block is a graceful stop"
    assert analysis.media.path == str(tiny_clip.resolve())
    logged = (tmp_path / "daemon.log").read_text(encoding="utf-8")
    assert "serving gRPC on 127.0.0.1:" in logged and "stopped" in logged, logged


def test_a_daemon_that_cannot_start_is_reported(tmp_path: Path) -> None:
    (tmp_path / "store.sqlite3").write_bytes(b"not a database" * 100)
    with pytest.raises(StatusError) as failed, start_daemon_subprocess(tmp_path / "store.sqlite3"):
        pass
    assert "exited with status 1 before it was ready" in str(failed.value)


def test_analyze_returns_the_id_that_export_takes(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        analysis_id, analysis = client.analyze(shots_request(tiny_clip))
        assert client.analysis(analysis_id) == analysis
        exported = client.export(analysis_id, "resolve-otio")
    assert exported.suggested_name == "tiny.otio" and exported.content.startswith(b"{")
