"""The daemon over gRPC: the full flow, the cache, cancellation, deadlines, limits and error codes.

Each test starts a real daemon on an ephemeral loopback port (see test_daemon_support) and talks to it through
the client library or the generated stub, as a plugin would.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from test_daemon_support import (
    GatedEngine, VariantEngine, engine_factory, second_clip, shots_request, start_daemon, tiny_clip,
)  # fmt: skip

from reelmark.core.api.convert import spec_from_request
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.api.v1 import service_pb2_grpc
from reelmark.core.client import DaemonClient, analyze_via_daemon
from reelmark.core.daemon.errors import StatusError
from reelmark.core.engines import AnalysisRequest
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task

__all__ = ["second_clip", "start_daemon", "tiny_clip"]  # fixtures, imported for pytest


def test_full_flow_start_watch_result_export(start_daemon, tiny_clip: Path) -> None:
    """analyze → watch → result → export, as a plugin does it; the result equals the in-process analysis."""
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        job = client.start(AnalysisRequest(tiny_clip, (Task.SHOTS, Task.HIGHLIGHTS)))
        assert job.state in (api.JOB_STATE_QUEUED, api.JOB_STATE_RUNNING), job
        events = list(client.watch(job.id))
        fractions = [event.job.fraction for event in events]
        assert fractions == sorted(fractions), f"progress went backwards: {fractions}"
        assert any(event.job.stage == "decoding video" for event in events), [e.job.stage for e in events]
        final = events[-1]
        assert final.job.state == api.JOB_STATE_SUCCEEDED and final.HasField("analysis")
        assert not any(event.HasField("analysis") for event in events[:-1]), "only the last event carries the result"
        analysis = client.analysis(final.job.analysis_id)
        assert analysis.of_kind("shot"), "a clip with a cut has shots"
        assert [m.span for m in analysis.of_kind("shot")][1].start * 25 == 12, "the cut is at frame 12, exactly"
        exported = client.export(final.job.analysis_id, "fcp7xml")
        assert exported.extension == ".xml" and exported.suggested_name == "tiny.xml"
        assert b"<xmeml" in exported.content and b"<marker>" in exported.content
        as_json = client.export(final.job.analysis_id, "json")
        assert Analysis.from_json(as_json.content.decode("utf-8")) == analysis


def test_a_second_request_is_served_from_the_store(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    request = shots_request(tiny_clip)
    with DaemonClient(daemon.address) as client:
        with pytest.raises(StatusError) as missing:
            client.lookup(request)
        assert missing.value.status == "NOT_FOUND" and "StartAnalysis" in str(missing.value)
        first = analyze_via_daemon(daemon.address, request)
        again = client.start(request)
        assert again.state == api.JOB_STATE_SUCCEEDED and again.cached, again
        assert client.lookup(request) == first
        assert client.analysis(again.analysis_id) == first
        forced = client.start(request, force=True)
        assert not forced.cached, "force runs the engine again"
        other_options = client.start(AnalysisRequest(tiny_clip, (Task.SHOTS,), params={"shot_sensitivity": "0.9"}))
        assert not other_options.cached, "another option is another result"


def test_progress_reaches_the_callers_callback(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    seen: list[tuple[str, float]] = []
    analysis = analyze_via_daemon(daemon.address, shots_request(tiny_clip), progress=lambda s, f: seen.append((s, f)))
    assert analysis.engine.name == "signals"
    assert seen and seen[-1][1] == 1.0, seen
    assert {"decoding video", "finding moments"} <= {stage for stage, _ in seen}, seen


def test_engines_are_listed_with_what_they_can_do(start_daemon) -> None:
    daemon = start_daemon(cpu_workers=3)
    with DaemonClient(daemon.address) as client:
        engines = {engine.name: engine for engine in client.engines()}
    assert engines["signals"].available and "shots" in engines["signals"].tasks and engines["signals"].workers == 3
    assert not engines["signals"].needs_gpu
    vlm = engines["vlm"]
    assert vlm.needs_gpu and vlm.workers == 1 and "ground" in vlm.tasks
    gpu = vlm.device.startswith("cuda")
    assert vlm.available == gpu and (gpu or "use --engine signals" in vlm.unavailable_reason)


def test_cancel_in_the_middle_of_a_job(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated))
    with DaemonClient(daemon.address) as client:
        job = client.start(shots_request(tiny_clip))
        events = client.watch(job.id)
        running = next(event for event in events if event.job.fraction > 0 or event.job.stage)
        assert running.job.state == api.JOB_STATE_RUNNING
        assert gated.held.wait(30), "the engine never reported progress"
        assert client.cancel(job.id).id == job.id
        with pytest.raises(StatusError) as ended:
            list(events)
        assert ended.value.status == "CANCELLED"
        final = client.job(job.id)
    assert final.state == api.JOB_STATE_CANCELLED and final.error.message == "cancelled on request"
    assert final.fraction < 1.0, "the engine stopped before the end"


def test_a_ground_deadline_that_expires_cancels_its_job(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated))
    with DaemonClient(daemon.address) as client:
        gated.release.set()
        analysis_id = client.start(shots_request(tiny_clip)).id
        analysis_id = [e for e in client.watch(analysis_id)][-1].job.analysis_id
        gated.held.clear()
        gated.release.clear()
        with pytest.raises(StatusError) as late:
            client.ground(analysis_id, ["speech"], timeout=0.5)
        assert late.value.status == "DEADLINE_EXCEEDED"
        grounding = next(job for job in client.jobs() if list(job.spec.tasks) == ["ground"])
        with pytest.raises(StatusError) as stopped:
            list(client.watch(grounding.id))
        assert stopped.value.status == "CANCELLED"
        assert "deadline" in client.job(grounding.id).error.message


def test_a_full_queue_is_refused_with_resource_exhausted(start_daemon, tiny_clip: Path, second_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated), cpu_workers=1, max_queue=1)
    with DaemonClient(daemon.address) as client:
        running = client.start(shots_request(tiny_clip))
        assert gated.held.wait(30)
        waiting = client.start(shots_request(second_clip))
        with pytest.raises(StatusError) as full:
            client.start(AnalysisRequest(second_clip, (Task.SHOTS, Task.ACTIVITY)))
        assert full.value.status == "RESOURCE_EXHAUSTED" and "--max-queue" in str(full.value)
        assert client.job(waiting.id).state == api.JOB_STATE_QUEUED
        gated.release.set()
        for job in (running, waiting):
            assert list(client.watch(job.id))[-1].job.state == api.JOB_STATE_SUCCEEDED


@pytest.mark.parametrize(
    ("make_path", "status", "hint"),
    [
        (lambda folder: folder / "absent.mp4", "NOT_FOUND", "no such file"),
        (lambda folder: _write(folder / "garbage.mp4", b"this is not a video" * 100), "INVALID_ARGUMENT", "FFmpeg"),
        (lambda folder: folder, "INVALID_ARGUMENT", "directory"),
    ],
    ids=["missing", "undecodable", "directory"],
)
def test_bad_media_gets_its_status(start_daemon, tmp_path: Path, make_path, status: str, hint: str) -> None:
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        with pytest.raises(StatusError) as refused:
            client.start(shots_request(make_path(tmp_path)))
    assert refused.value.status == status and hint in str(refused.value)


def test_the_vlm_engine_is_a_failed_precondition_that_says_what_to_do(start_daemon, tiny_clip: Path) -> None:
    """Refused at StartAnalysis, before queueing: a task it cannot do, no model, no GPU."""
    daemon = start_daemon()
    ground = AnalysisRequest(tiny_clip, (Task.GROUND,), ("a person",))
    with_model = replace(ground, params={"model": str(tiny_clip.parent)})
    cases = [(shots_request(tiny_clip), "use --engine signals"), (ground, "pass --model PATH_OR_ID")]
    if not torch_has_cuda():
        cases.append((with_model, "--param device=cpu"))
    with DaemonClient(daemon.address) as client:
        for request, fix in cases:
            with pytest.raises(StatusError) as refused:
                client.start(request, engine="vlm")
            assert refused.value.status == "FAILED_PRECONDITION" and fix in str(refused.value)
        assert client.jobs() == []


def torch_has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def test_bad_requests_are_invalid_arguments(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    channel = grpc.insecure_channel(daemon.address)
    stub = service_pb2_grpc.ReelmarkStub(channel)
    good = spec_from_request(shots_request(tiny_clip), "signals")
    cases = {
        "relative path": api.AnalysisSpec(media_path="tiny.mp4"),
        "unknown task": api.AnalysisSpec(media_path=good.media_path, tasks=["juggling"]),
        "zero rate": api.AnalysisSpec(media_path=good.media_path, start={"value": 1, "rate": 0}),
        "unknown option": api.AnalysisSpec(media_path=good.media_path, params={"shot_sensitivty": "0.5"}),
    }
    for name, spec in cases.items():
        with pytest.raises(grpc.RpcError) as refused:
            job = stub.StartAnalysis(api.StartAnalysisRequest(spec=spec))
            list(stub.WatchJob(api.WatchJobRequest(job_id=job.id)))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (name, refused.value.details())
    with pytest.raises(grpc.RpcError) as unknown_job:
        stub.GetJob(api.GetJobRequest(job_id="j-nope"))
    assert unknown_job.value.code() == grpc.StatusCode.NOT_FOUND
    channel.close()


def test_oversized_requests_are_refused(start_daemon) -> None:
    daemon = start_daemon()
    with grpc.insecure_channel(daemon.address) as channel:
        stub = service_pb2_grpc.ReelmarkStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Ground(api.GroundRequest(analysis_id="a", queries=["x" * (2 << 20)]))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_health_and_reflection_are_served(start_daemon) -> None:
    daemon = start_daemon()
    with grpc.insecure_channel(daemon.address) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        answer = health.Check(health_pb2.HealthCheckRequest(service="reelmark.v1.Reelmark"))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        replies = reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        names = {service.name for reply in replies for service in reply.list_services_response.service}
    assert {"reelmark.v1.Reelmark", "grpc.health.v1.Health"} <= names


def test_export_refuses_an_unknown_format_and_an_unknown_analysis(start_daemon, tiny_clip: Path) -> None:
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        analysis_id = client.start(shots_request(tiny_clip)).id
        analysis_id = list(client.watch(analysis_id))[-1].job.analysis_id
        with pytest.raises(StatusError) as bad_format:
            client.export(analysis_id, "avid")
        assert bad_format.value.status == "INVALID_ARGUMENT" and "fcp7xml" in str(bad_format.value)
        with pytest.raises(StatusError) as missing:
            client.export("a-0000", "otio")
        assert missing.value.status == "NOT_FOUND"
        otio = json.loads(client.export(analysis_id, "otio").content)
        assert otio["OTIO_SCHEMA"].startswith(("Timeline", "SerializableCollection")), otio["OTIO_SCHEMA"]


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_during_shutdown_new_jobs_are_refused_and_running_ones_finish(start_daemon, tiny_clip: Path,
                                                                      second_clip: Path) -> None:  # fmt: skip
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated))
    with DaemonClient(daemon.address) as client, grpc.insecure_channel(daemon.address) as channel:
        job = client.start(shots_request(tiny_clip))
        assert gated.held.wait(30)
        stopping = threading.Thread(target=daemon.stop, kwargs={"grace": 60.0})
        stopping.start()
        health = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service="reelmark.v1.Reelmark")
        while health.Check(request).status == health_pb2.HealthCheckResponse.SERVING:
            time.sleep(0.01)
        with pytest.raises(StatusError) as refused:
            client.start(shots_request(second_clip))
        assert refused.value.status == "UNAVAILABLE" and "shutting down" in str(refused.value)
        assert client.job(job.id).state == api.JOB_STATE_RUNNING, "status is still answered"
        gated.release.set()
        stopping.join()
    stored = daemon.store  # closed now: read the file directly
    with sqlite3.connect(stored.path) as db:
        assert db.execute("SELECT state FROM jobs WHERE id = ?", (job.id,)).fetchone()[0] == "succeeded"


def test_the_cache_follows_content_and_engine_version(start_daemon, tiny_clip: Path, tmp_path: Path) -> None:
    """A copy elsewhere hits (the key is the content fingerprint); a new engine version misses."""
    daemon = start_daemon()
    analyze_via_daemon(daemon.address, shots_request(tiny_clip))
    copy = tmp_path / "renamed copy.mp4"
    copy.write_bytes(tiny_clip.read_bytes())
    with DaemonClient(daemon.address) as client:
        assert client.start(shots_request(copy)).cached
    daemon.stop(grace=1.0)
    upgraded = start_daemon(engines=lambda name: VariantEngine(version="99.0"))
    with DaemonClient(upgraded.address) as client:
        job = client.start(shots_request(tiny_clip))
        assert not job.cached and job.state != api.JOB_STATE_SUCCEEDED, "a new engine version runs again"
        assert list(client.watch(job.id))[-1].job.state == api.JOB_STATE_SUCCEEDED


def test_a_repeated_request_joins_the_job_already_running(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated))
    with DaemonClient(daemon.address) as client:
        first = client.start(shots_request(tiny_clip))
        assert gated.held.wait(30)
        assert client.start(shots_request(tiny_clip)).id == first.id
        assert client.start(shots_request(tiny_clip), force=True).id != first.id, "force always runs again"
        gated.release.set()
        assert list(client.watch(first.id))[-1].job.state == api.JOB_STATE_SUCCEEDED


def test_a_gpu_engine_gets_a_single_worker(start_daemon) -> None:
    engines = {"signals": VariantEngine(), "vlm": VariantEngine(needs_gpu=True)}
    daemon = start_daemon(engines=engines.__getitem__, cpu_workers=3)
    with DaemonClient(daemon.address) as client:
        workers = {engine.name: (engine.needs_gpu, engine.workers) for engine in client.engines()}
    assert workers == {"signals": (False, 3), "vlm": (True, 1)}


class BrokenEngine(VariantEngine):
    """An engine with a bug: the daemon must survive it, report it, and keep the path out of its logs."""

    def analyze(self, request, progress=None, cancelled=None):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"engine bug while reading {request.media}")


def test_an_engine_bug_fails_the_job_not_the_daemon(start_daemon, tiny_clip: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="reelmark")
    daemon = start_daemon(engines=lambda name: BrokenEngine())
    with DaemonClient(daemon.address) as client:
        job = client.start(shots_request(tiny_clip))
        with pytest.raises(StatusError) as failed:
            list(client.watch(job.id))
        assert failed.value.status == "INTERNAL" and "failed unexpectedly (RuntimeError" in str(failed.value)
        assert client.engines()[0].available, "the daemon still answers"
    logged = "\n".join(record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG)
    assert "RuntimeError" in logged and str(tiny_clip) not in logged, logged
