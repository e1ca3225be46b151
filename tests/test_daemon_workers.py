"""Engine work in worker processes: a worker killed mid-job fails only that job, cancel stops or kills the worker,
workers run niced below the daemon, and a GPU engine's single worker lives on between jobs.

The engine here is the real signals engine, held at its first progress report while a file named
`<media>.hold` exists next to the clip, so a test knows the job is inside the worker without timing it. Its
factory is a module-level function, so the daemon sends it to spawned workers as it does `get_engine`.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from test_daemon_support import VariantEngine, shots_request, start_daemon, tiny_clip

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.client import DaemonClient
from reelmark.core.daemon.errors import StatusError
from reelmark.core.daemon.workers import WORKER_NICENESS, ProcessWorker
from reelmark.core.engines.base import AnalysisRequest, CancelCheck, ProgressCallback
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.results import Analysis

__all__ = ["start_daemon", "tiny_clip"]  # fixtures, imported for pytest

HOLD_LIMIT_S = 60.0
STUBBORN = "stubborn"
"""A hold file with this text makes the engine ignore cancellation, like native code that never returns."""


class HoldingEngine(VariantEngine):
    def analyze(self, request: AnalysisRequest, progress: ProgressCallback | None = None,
                cancelled: CancelCheck | None = None) -> Analysis:  # fmt: skip
        hold = Path(f"{request.media}.hold")

        def report(stage: str, fraction: float) -> None:
            if progress is not None:
                progress(stage, fraction)
            stubborn = hold.exists() and hold.read_text() == STUBBORN
            deadline = time.monotonic() + HOLD_LIMIT_S
            while hold.exists() and time.monotonic() < deadline and (stubborn or not (cancelled and cancelled())):
                time.sleep(0.02)

        return self.inner.analyze(request, report, cancelled)


def holding_engines(name: str) -> HoldingEngine:
    """Sent to the workers by reference (a module-level function), like `get_engine`."""
    return HoldingEngine(needs_gpu=name == "vlm")


@pytest.fixture
def held_clip(tmp_path: Path) -> Path:
    clip = write_clip(tmp_path / "held.mp4", ClipSpec(frame_count=25, cuts=(12,), gop=12)).path
    Path(f"{clip}.hold").write_text("hold")
    return clip


def _when_running(client: DaemonClient, job_id: str) -> api.Job:
    for event in client.watch(job_id):
        if event.job.state == api.JOB_STATE_RUNNING and event.job.stage:
            return event.job
    raise AssertionError(f"job {job_id} ended before it ran: {event.job}")


def _worker(daemon, engine: str = "signals") -> ProcessWorker:  # type: ignore[no-untyped-def]
    runner = daemon.scheduler.runners(engine)[0]
    assert isinstance(runner, ProcessWorker), "a picklable engine factory runs in worker processes"
    return runner


def test_a_worker_killed_mid_job_fails_that_job_and_the_next_job_completes(start_daemon, held_clip: Path,
                                                                            tiny_clip: Path) -> None:  # fmt: skip
    daemon = start_daemon(engines=holding_engines, cpu_workers=1)
    with DaemonClient(daemon.address) as client:
        doomed = client.start(shots_request(held_clip))
        _when_running(client, doomed.id)
        queued = client.start(shots_request(tiny_clip))
        assert client.job(queued.id).state == api.JOB_STATE_QUEUED, "the second job waits behind the first"
        pid = _worker(daemon).pid
        assert pid is not None and pid != os.getpid()
        os.kill(pid, signal.SIGKILL)

        with pytest.raises(StatusError) as failed:
            list(client.watch(doomed.id))
        assert failed.value.status == "INTERNAL"
        assert "worker process died" in str(failed.value) and "SIGKILL" in str(failed.value), failed.value
        final = list(client.watch(queued.id))[-1]
        assert final.job.state == api.JOB_STATE_SUCCEEDED and final.analysis.moments, final.job
        assert _worker(daemon).pid not in (None, pid), "a fresh worker ran the second job"
        with grpc.insecure_channel(daemon.address) as channel:
            health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""))
        assert health.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("hold", ["hold", STUBBORN])
def test_cancel_stops_the_worker_or_kills_one_that_will_not_stop(start_daemon, held_clip: Path, hold: str) -> None:
    Path(f"{held_clip}.hold").write_text(hold)
    daemon = start_daemon(engines=holding_engines, cpu_workers=1)
    with DaemonClient(daemon.address) as client:
        job = client.start(shots_request(held_clip))
        _when_running(client, job.id)
        pid = _worker(daemon).pid
        client.cancel(job.id)
        with pytest.raises(StatusError) as ended:
            list(client.watch(job.id))
    assert ended.value.status == "CANCELLED"
    if hold == STUBBORN:
        assert _worker(daemon).pid is None, "the worker that ignored the cancel was killed"
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    else:
        assert _worker(daemon).pid == pid, "a worker that stops when asked is kept for the next job"


def test_workers_run_niced_below_the_daemon(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon(engines=holding_engines)
    with DaemonClient(daemon.address) as client:
        list(client.watch(client.start(shots_request(tiny_clip)).id))
    pid = next(runner.pid for runner in daemon.scheduler.runners("signals") if runner.pid is not None)
    assert os.getpriority(os.PRIO_PROCESS, pid) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)
    if hasattr(os, "SCHED_IDLE"):
        assert os.sched_getscheduler(pid) == os.SCHED_IDLE, "workers only take cycles no RPC thread wants"


def test_a_gpu_engine_keeps_one_long_lived_worker(start_daemon, tiny_clip: Path, tmp_path: Path) -> None:
    """One process for all its jobs, so a model loaded by the first job is still loaded for the next."""
    other = write_clip(tmp_path / "other.mp4", ClipSpec(frame_count=20, cuts=(8,), gop=10)).path
    daemon = start_daemon(engines=holding_engines)
    pids = []
    with DaemonClient(daemon.address) as client:
        for clip in (tiny_clip, other):
            final = list(client.watch(client.start(shots_request(clip), engine="vlm").id))[-1]
            assert final.job.state == api.JOB_STATE_SUCCEEDED
            pids.append(_worker(daemon, "vlm").pid)
    assert daemon.scheduler.workers("vlm") == 1 and pids[0] is not None and pids[0] == pids[1]
