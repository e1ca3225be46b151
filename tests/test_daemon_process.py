"""The daemon as a process: `kill -9` mid-job and restart, graceful SIGTERM, and its commands.

These start `python -m reelmark.core.daemon serve` through the client's `start_daemon_subprocess`, on free
loopback ports with a store in a temp folder, and analyse a clip long enough (2 minutes) that a job is still running
when the test acts on it.
"""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_daemon_support import GatedEngine, engine_factory, shots_request, start_daemon, tiny_clip

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.client import DaemonClient, start_daemon_subprocess
from reelmark.core.cli import cli as daemon_cli  # the daemon verbs live with every other verb (#19)
from reelmark.core.daemon.errors import StatusError
from reelmark.core.media.synthetic import ClipSpec, write_clip

__all__ = ["start_daemon", "tiny_clip"]  # fixtures, imported for pytest


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("long") / "long.mp4", ClipSpec(frame_count=3000, cuts=(1200,), gop=25)).path


def _running_job(client: DaemonClient, clip: Path) -> str:
    """Start a job and return its id once the engine has reported progress."""
    job = client.start(shots_request(clip))
    for event in client.watch(job.id):
        if event.job.state == api.JOB_STATE_RUNNING and event.job.fraction > 0:
            return job.id
    raise AssertionError(f"job {job.id} ended before the test could act on it: {event.job}")


def test_kill_9_mid_job_then_restart_requeues_it_and_the_store_is_intact(tmp_path: Path, long_clip: Path) -> None:
    store = tmp_path / "store.sqlite3"
    with start_daemon_subprocess(store) as daemon:
        with DaemonClient(daemon.address) as client:
            job_id = _running_job(client, long_clip)
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT state FROM jobs WHERE id = ?", (job_id,)).fetchone()[0] == "running"

    with start_daemon_subprocess(store) as daemon, DaemonClient(daemon.address) as client:
        requeued = client.job(job_id)
        assert "re-queued" in requeued.note, requeued
        final = list(client.watch(job_id))[-1]
    assert final.job.state == api.JOB_STATE_SUCCEEDED and final.job.attempts == 2, final.job
    assert final.analysis.moments, "the re-run produced the analysis"


@pytest.mark.parametrize(("grace", "expected"), [("60", "succeeded"), ("0", "queued")])
def test_sigterm_lets_running_jobs_finish_within_the_grace_or_requeues_them(
    tmp_path: Path, long_clip: Path, grace: str, expected: str
) -> None:
    store = tmp_path / "store.sqlite3"
    with start_daemon_subprocess(store, args=("--grace", grace)) as daemon:
        with DaemonClient(daemon.address) as client:
            job_id = _running_job(client, long_clip)
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(120) == 0, "a graceful stop exits 0"
    with sqlite3.connect(store) as db:
        state, note = db.execute("SELECT state, note FROM jobs WHERE id = ?", (job_id,)).fetchone()
    assert state == expected
    if expected == "queued":
        assert "re-queued" in note and "restarts" in note


def test_jobs_and_cancel_commands(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated), cpu_workers=1)
    runner = CliRunner()
    with DaemonClient(daemon.address) as client:
        running = client.start(shots_request(tiny_clip))
        assert gated.held.wait(30)
        waiting = client.start(shots_request(tiny_clip), force=True)
        listed = runner.invoke(daemon_cli, ["jobs", "--daemon", daemon.address])
        assert listed.exit_code == 0, listed.output
        assert running.id in listed.output and waiting.id in listed.output and "tiny.mp4" in listed.output
        assert "running" in listed.output and "queued" in listed.output
        cancelled = runner.invoke(daemon_cli, ["cancel", "--daemon", daemon.address, waiting.id, running.id])
        assert cancelled.exit_code == 0, cancelled.output
        assert f"{waiting.id}: cancelled" in cancelled.output and f"{running.id}: cancelling" in cancelled.output
        with pytest.raises(StatusError):
            list(client.watch(running.id))
        only_cancelled = runner.invoke(daemon_cli, ["jobs", "--daemon", daemon.address, "--state", "cancelled"])
        rows = only_cancelled.output.splitlines()[1:]
        assert len(rows) == 2 and all(row.split()[1] == "cancelled" for row in rows), only_cancelled.output
    unknown = runner.invoke(daemon_cli, ["cancel", "--daemon", daemon.address, "j-nope"])
    assert unknown.exit_code == 1 and "reelmark: error: no job 'j-nope'" in unknown.output


def test_serve_refuses_an_exposed_address_without_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REELMARK_TOKEN", raising=False)
    result = CliRunner().invoke(daemon_cli, ["serve", "--address", "127.0.0.2:0", "--store", str(tmp_path / "s.db")])
    assert result.exit_code == 1 and "needs a bearer token and media roots" in result.output


def test_an_unreachable_daemon_says_how_to_start_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(daemon_cli, ["jobs", "--daemon", "127.0.0.1:1"])
    assert result.exit_code == 1 and "reelmark serve" in result.output
