"""The vlm engine through the daemon as a process: a tiny random checkpoint analyses a generated clip on the CPU
(`device=cpu`), and without a model, or without a GPU, the request is refused with FAILED_PRECONDITION and the fix
before any job is queued."""

from __future__ import annotations

import pytest
import torch
from tiny_vlm import build_tiny_qwen25_vl

from reelmark.core.client import DaemonClient, start_daemon_subprocess
from reelmark.core.daemon.errors import StatusError
from reelmark.core.engines.base import AnalysisRequest
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.results import Analysis, MomentKind
from reelmark.core.tasks import Task


@pytest.fixture(scope="module")
def daemon_and_model(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("vlm-daemon")
    model = build_tiny_qwen25_vl(folder / "model")
    clip = write_clip(folder / "clip.mp4", ClipSpec(frame_count=50, cuts=(25,), gop=12)).path
    with start_daemon_subprocess(folder / "store.sqlite3") as daemon, DaemonClient(daemon.address) as client:
        yield client, model, clip


def test_analysis_through_the_daemon_is_well_formed(daemon_and_model) -> None:
    client, model, clip = daemon_and_model
    info = {engine.name: engine for engine in client.engines()}["vlm"]
    assert info.needs_gpu and info.workers == 1 and "ground" in info.tasks
    assert info.available == torch.cuda.is_available()  # without a GPU it is listed unavailable, with the fix
    assert info.max_duration_s >= 3600, "an hour-long clip fits the default token budget"
    request = AnalysisRequest(clip, (Task.GROUND, Task.ASK), ("a car",),
                              params={"model": str(model), "device": "cpu", "max_new_tokens": "16"})  # fmt: skip
    _, analysis = client.analyze(request, engine="vlm")
    assert Analysis.from_json(analysis.to_json()) == analysis
    assert analysis.engine.name == "vlm" and analysis.engine.model_id == str(model)
    assert analysis.engine.params["prompts"]["ground: a car"].startswith('When does "a car" happen')
    assert any(line.startswith("sampling 2 fps") for line in analysis.diagnostics)
    answers = analysis.of_kind(MomentKind.DESCRIPTION)
    assert [moment.query for moment in answers] == ["a car"] and answers[0].span.end == 2


def test_without_a_model_the_request_is_refused_with_the_fix(daemon_and_model) -> None:
    client, _, clip = daemon_and_model
    with pytest.raises(StatusError) as failed:
        client.start(AnalysisRequest(clip, (Task.DESCRIBE,), params={"device": "cpu"}), engine="vlm")
    assert failed.value.status == "FAILED_PRECONDITION" and "--model" in str(failed.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU, so the no-GPU refusal cannot happen")
def test_without_a_gpu_the_request_is_refused_with_the_fix(daemon_and_model) -> None:
    client, model, clip = daemon_and_model
    with pytest.raises(StatusError) as failed:
        client.start(AnalysisRequest(clip, (Task.DESCRIBE,), params={"model": str(model)}), engine="vlm")
    assert failed.value.status == "FAILED_PRECONDITION" and "device=cpu" in str(failed.value)
