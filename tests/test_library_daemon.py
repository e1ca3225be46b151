"""#17 over the daemon: an Index job with progress, status and cancel, and Search, over gRPC and the JSON gateway
(a real daemon on loopback, its real store)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import grpc
import opentimelineio as otio
import pytest
from test_daemon_http import SERVICE, call
from test_daemon_support import start_daemon

from library_media import spoken_clip
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.api.v1 import service_pb2_grpc
from reelmark.core.media.synthetic import ClipSpec, write_clip

__all__ = ["start_daemon"]  # fixture, imported for pytest
SENTENCE = "the delivery truck arrives at the loading dock"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("daemon-library")
    spoken_clip(root / "dock.mp4", SENTENCE, 1.0, "2024-03-02T20:10:00.000000Z", seed=11)
    for seed in range(3):
        write_clip(root / f"cam{seed}.mp4", ClipSpec(frame_count=40, cuts=(15 + seed,), seed=20 + seed))
    return root


def wait_finished(stub: service_pb2_grpc.ReelmarkStub, job_id: str) -> api.IndexJob:
    for _ in range(1200):  # at most 2 minutes
        job = stub.GetIndexJob(api.GetIndexJobRequest(job_id=job_id))
        if job.state != api.JOB_STATE_RUNNING:
            return job
        time.sleep(0.1)
    raise AssertionError(f"index job {job_id} did not finish in 2 minutes")


def test_index_job_then_search_over_grpc_and_json(start_daemon, folder: Path) -> None:
    daemon = start_daemon()
    with grpc.insecure_channel(daemon.address) as channel:
        stub = service_pb2_grpc.ReelmarkStub(channel)
        with pytest.raises(grpc.RpcError) as refused:
            stub.Search(api.SearchRequest(query="truck"))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "no library indexed yet" in refused.value.details()
        job = stub.StartIndex(api.StartIndexRequest(paths=[str(folder)], tasks=["shots"]))
        assert job.id.startswith("ix-") and job.state == api.JOB_STATE_RUNNING
        done = wait_finished(stub, job.id)
        assert done.state == api.JOB_STATE_SUCCEEDED, done
        assert (done.files_total, done.files_done, done.analysed) == (4, 4, 4)
        assert done.media_seconds_done == pytest.approx(done.media_seconds_total) and done.media_seconds_total > 0
        hits = stub.Search(api.SearchRequest(query="loading dock", selects_format="otio")).hits
        assert hits[0].text == SENTENCE and hits[0].path.endswith("dock.mp4") and hits[0].start_s == pytest.approx(1.0)
        assert hits[0].clock.startswith("2024-03-02T20:10:01")
        again = wait_finished(stub, stub.StartIndex(api.StartIndexRequest(paths=[str(folder)], tasks=["shots"])).id)
        assert (again.analysed, again.already_indexed) == (0, 4)
        with pytest.raises(grpc.RpcError) as missing:
            stub.StartIndex(api.StartIndexRequest(paths=[str(folder / "nowhere")]))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as unknown:
            stub.GetIndexJob(api.GetIndexJobRequest(job_id="ix-none"))
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    status, _, body = call(daemon.http_address, f"{SERVICE}/Search",
                           {"query": "truck", "betweenStart": "20:00", "betweenEnd": "21:00", "selectsFormat": "otio"})
    assert status == 200, body
    answer = json.loads(body)
    assert [hit["text"] for hit in answer["hits"]] == [SENTENCE]
    timeline = otio.adapters.read_from_string(base64.b64decode(answer["selects"]).decode("utf-8"), "otio_json")
    assert len(list(timeline.find_clips())) == 1


def test_an_index_job_can_be_cancelled(start_daemon, folder: Path) -> None:
    daemon = start_daemon()
    with grpc.insecure_channel(daemon.address) as channel:
        stub = service_pb2_grpc.ReelmarkStub(channel)
        job = stub.StartIndex(api.StartIndexRequest(paths=[str(folder)], tasks=["shots"]))
        stub.CancelIndexJob(api.GetIndexJobRequest(job_id=job.id))
        done = wait_finished(stub, job.id)
        assert done.state == api.JOB_STATE_CANCELLED and done.files_done < done.files_total
