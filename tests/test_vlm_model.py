"""The vlm engine with tiny random checkpoints: loading through the real loader, chunked prefill against the native
forward, the device and model rules, and an analysis end to end in process."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_vlm import build_tiny_qwen3_vl, build_tiny_qwen25_vl
from transformers import DynamicCache

from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.engines.vlm.loader import ModelCache, resolve_model
from reelmark.core.engines.vlm.prefill import embed_prompt, greedy_decode, prefill
from reelmark.core.engines.vlm.video import build_video_input
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.results import MomentKind
from reelmark.core.tasks import Task

sys.path.insert(0, str(Path(__file__).parent / "bench"))


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-vlm")
    return {"qwen2.5": build_tiny_qwen25_vl(folder / "q25"), "qwen3": build_tiny_qwen3_vl(folder / "q3")}


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("vlm-clip") / "clip.mp4", ClipSpec(frame_count=75, cuts=(40,), gop=12)).path


@pytest.mark.parametrize("family", ["qwen2.5", "qwen3"])
def test_chunked_prefill_matches_the_native_forward(tiny_models: dict[str, Path], family: str) -> None:
    loaded = ModelCache().get(str(tiny_models[family]), "cpu")
    model, adapter, config = loaded.model, loaded.adapter, loaded.model.config
    frames = np.random.default_rng(0).integers(0, 256, (7, 60, 90, 3), dtype=np.uint8)
    factor = loaded.geometry.factor
    video = build_video_input(frames, [Fraction(n, 2) for n in range(7)], loaded.geometry, (3 * factor, 2 * factor),
                              Fraction(0), Fraction(2))  # fmt: skip
    ids = adapter.prompt_ids(loaded.tokenizer, config, video, "When does a car enter?")
    positions = adapter.position_ids(model, ids, video)  # the original rule; transformers ≥ 5.3 differs after a video
    with torch.inference_mode():
        native = model(
            input_ids=ids, pixel_values_videos=video.pixel_values, video_grid_thw=torch.tensor([video.grid_thw]),
            second_per_grid_ts=torch.tensor([float(video.seconds_per_group)]) if family == "qwen2.5" else None,
            mm_token_type_ids=adapter.token_types(config, ids), position_ids=positions,
        ).logits[:, -1]  # fmt: skip
        visual = adapter.encode_video(model, video, 1, lambda _: None)  # one frame group per vision pass
        prompt = embed_prompt(model, adapter, ids, positions, visual)
        results = {}
        for chunk in (0, 5, 16):
            cache = DynamicCache(config=config.text_config)
            results[chunk] = prefill(model, adapter, prompt, visual, cache, chunk)
            assert cache.get_seq_length() == prompt.length
        for chunk, logits in results.items():
            torch.testing.assert_close(logits, native, rtol=1e-4, atol=1e-5, msg=f"chunk {chunk}")
        tokens = greedy_decode(model, adapter, results[16], prompt.next_position, cache, 8, [])
    assert len(tokens) == 8 and all(0 <= token < config.text_config.vocab_size for token in tokens)


def test_chunked_prefill_peak_memory_is_lower_on_a_longer_input() -> None:
    prefill_bench = importlib.import_module("prefill")
    one_shot = prefill_bench.measure("small", "cpu", 6144, 0)
    chunked = prefill_bench.measure("small", "cpu", 6144, 512)
    print(f"prefill peak RSS over baseline, 6144 tokens: one-shot {one_shot['peak_mib']:.0f} MiB, "
          f"chunks of 512 {chunked['peak_mib']:.0f} MiB")  # fmt: skip
    assert chunked["peak_mib"] < one_shot["peak_mib"] / 1.5


def test_loader_refuses_what_it_cannot_load(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError, match="models pull"):
        resolve_model("reelmark-tests/not-in-any-cache")
    with pytest.raises(EngineUnavailableError, match="no config.json"):
        resolve_model(str(tmp_path))
    with pytest.raises(EngineUnavailableError, match="neither"):
        resolve_model(str(tmp_path / "missing"))


def test_no_model_no_gpu_and_bad_options_are_refused(clip: Path, tiny_models: dict[str, Path], monkeypatch) -> None:
    engine = get_engine("vlm")
    with pytest.raises(EngineUnavailableError, match="--model"):
        engine.analyze(AnalysisRequest(clip, (Task.DESCRIBE,), params={"device": "cpu"}))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(EngineUnavailableError, match="device=cpu") as refused:
        engine.analyze(AnalysisRequest(clip, (Task.DESCRIBE,), params={"model": str(tiny_models["qwen3"])}))
    assert refused.value.status == "FAILED_PRECONDITION"
    with pytest.raises(InvalidRequestError, match="known options: decode, device"):
        engine.analyze(AnalysisRequest(clip, (Task.DESCRIBE,), params={"modle": "x"}))
    with pytest.raises(InvalidRequestError, match="needs at least one --query"):
        engine.analyze(AnalysisRequest(clip, (Task.GROUND,), params={"model": str(tiny_models["qwen3"]), "device": "cpu"}))
    with pytest.raises(EngineUnavailableError, match="signals"):
        engine.analyze(AnalysisRequest(clip, (Task.SHOTS,), params={"device": "cpu"}))


@pytest.mark.parametrize("family", ["qwen2.5", "qwen3"])
def test_every_task_gives_a_well_formed_analysis(clip: Path, tiny_models: dict[str, Path], family: str) -> None:
    tasks = (Task.GROUND, Task.TRACK, Task.HIGHLIGHTS, Task.DESCRIBE, Task.ASK)
    params = {"model": str(tiny_models[family]), "device": "cpu", "max_new_tokens": "12", "prefill_chunk": "64"}
    stages = []
    analysis = get_engine("vlm").analyze(
        AnalysisRequest(clip, tasks, ("a car",), start=Fraction(1), params=params),
        progress=lambda stage, fraction: stages.append((stage, fraction)),
    )
    engine = analysis.engine
    assert engine.name == "vlm" and engine.model_id == str(tiny_models[family])
    assert engine.params["fps"] == "2" and engine.params["max_pixels"] > 0 and engine.params["visual_tokens"] > 0
    assert set(engine.params["prompts"]) == {"ground: a car", "track: a car", "highlights", "describe", "ask: a car"}
    assert any("visual tokens" in line for line in analysis.diagnostics)
    assert analysis.source_range is not None and analysis.source_range.start == 1
    for moment in analysis.moments:  # random weights: whatever it found lies in the range asked about
        assert analysis.source_range.start <= moment.span.start <= moment.span.end <= analysis.source_range.end
    assert [m.kind for m in analysis.moments if m.query == "a car" and m.label == "answer"] == [MomentKind.DESCRIPTION]
    fractions = [fraction for _, fraction in stages]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


KERNEL_RUN = """
import json, sys
from pathlib import Path
from reelmark.core.engines import AnalysisRequest, get_engine
from reelmark.core.tasks import Task
clip, model, mode = sys.argv[1:]
params = {"model": model, "device": "cpu", "max_new_tokens": "4", "decode": mode}
analysis = get_engine("vlm").analyze(AnalysisRequest(Path(clip), (Task.DESCRIBE, Task.ASK), ("what?",), params=params))
print(json.dumps({"decode": analysis.engine.params["decode"], "answers": [m.text for m in analysis.moments if m.label == "answer"]}))
"""


def test_decode_kernels_are_used_when_present(clip: Path, tiny_models: dict[str, Path]) -> None:
    """Two prompts through #8's kernels (dense: exact attention), in Triton's interpreter on this CPU."""
    spec = importlib.util.find_spec("reelmark.core.kernels")
    if spec is None:
        pytest.skip("reelmark.core.kernels (issue #8) is not here yet")
    source = Path(spec.origin).read_text(encoding="utf-8") if spec.origin else ""
    if "attach" not in source:
        pytest.skip("reelmark.core.kernels has no attach() yet")
    results = {}
    for mode in ("sdpa", "dense"):
        env = {**os.environ, "TRITON_INTERPRET": "1"}
        done = subprocess.run([sys.executable, "-c", KERNEL_RUN, str(clip), str(tiny_models["qwen2.5"]), mode],
                              check=False, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["dense"]["decode"] == "dense"
    assert results["dense"]["answers"] == results["sdpa"]["answers"], "dense kernels decode what SDPA decodes"


def test_decode_kernels_need_the_interpreter_without_a_gpu(clip: Path, tiny_models: dict[str, Path], monkeypatch) -> None:
    monkeypatch.delenv("TRITON_INTERPRET", raising=False)
    params = {"model": str(tiny_models["qwen2.5"]), "device": "cpu", "decode": "sparse"}
    with pytest.raises(EngineUnavailableError, match="TRITON_INTERPRET=1|reelmark.core.kernels"):
        get_engine("vlm").analyze(AnalysisRequest(clip, (Task.DESCRIBE,), params=params))
