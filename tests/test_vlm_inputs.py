"""Model inputs built without torchvision, against reference computations on small inputs (issue #7, DESIGN §6)."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch
from tiny_vlm import build_tiny_qwen3_vl, build_tiny_qwen25_vl

from conftest import require_corpus

from reelmark.core.engines.vlm.engine import _sample
from reelmark.core.engines.vlm.families import CLIP_MEAN, CLIP_STD, Qwen3Adapter, Qwen25Adapter
from reelmark.core.engines.vlm.loader import load_model
from reelmark.core.engines.vlm.planner import MIN_FPS, plan_budget
from reelmark.core.engines.vlm.video import VisionGeometry, build_video_input, fit_size, patchify
from reelmark.core.errors import InvalidRequestError
from reelmark.core.media import probe
from reelmark.core.media.ranges import checked_range

GEOMETRY = VisionGeometry(patch=2, merge=2, temporal=2, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


def reference_rows(frames: np.ndarray, p: int, m: int, t: int) -> np.ndarray:
    """Patch rows by explicit loops: group, merge block (row-major), position in block; channel, frame, pixels."""
    count, channels, height, width = frames.shape
    rows = []
    for g in range(count // t):
        for block_row in range(height // p // m):
            for block_col in range(width // p // m):
                for in_row in range(m):
                    for in_col in range(m):
                        y = (block_row * m + in_row) * p
                        x = (block_col * m + in_col) * p
                        row = [frames[g * t + f, c, y + dy, x + dx]
                               for c in range(channels) for f in range(t) for dy in range(p) for dx in range(p)]  # fmt: skip
                        rows.append(row)
    return np.array(rows, dtype=np.float32)


def test_patch_rows_match_a_loop_reference() -> None:
    frames = np.random.default_rng(1).standard_normal((4, 3, 8, 12)).astype(np.float32)
    rows, grid = patchify(torch.from_numpy(frames), GEOMETRY)
    assert grid == (2, 4, 6)
    np.testing.assert_array_equal(rows.numpy(), reference_rows(frames, 2, 2, 2))


def test_video_input_pads_normalises_and_keeps_exact_times() -> None:
    frames = np.random.default_rng(2).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    times = [Fraction(1001, 30000) * n + Fraction(10) for n in (0, 15, 30)]
    geometry = VisionGeometry(2, 2, 2, CLIP_MEAN, CLIP_STD)
    video = build_video_input(frames, times, geometry, (8, 8), Fraction(10), Fraction(2))
    assert video.grid_thw == (2, 4, 4) and video.frame_times == (*times, times[-1])
    assert video.group_times == ((times[0] + times[1]) / 2 - 10, times[2] - 10)
    assert video.seconds_per_group == 1 and video.token_count == 8
    padded = np.concatenate([frames, frames[-1:]]).transpose(0, 3, 1, 2) / 255.0
    normalised = (padded - np.array(CLIP_MEAN).reshape(1, 3, 1, 1)) / np.array(CLIP_STD).reshape(1, 3, 1, 1)
    np.testing.assert_allclose(video.pixel_values.numpy(), reference_rows(normalised, 2, 2, 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("height", "width", "max_pixels", "expected"),
    [
        (1080, 1920, 448 * 448, (336, 588)),  # shrunk into the budget, aspect kept, multiples of 28
        (100, 100, 448 * 448, (112, 112)),  # rounded to the nearest multiple
        (10, 10, 448 * 448, (28, 28)),  # never below one token
        (28, 2800, 448 * 448, (28, 2800)),  # within budget: untouched
    ],
)
def test_fit_size(height: int, width: int, max_pixels: int, expected: tuple[int, int]) -> None:
    fitted = fit_size(height, width, 28, 28 * 28, max_pixels)
    assert fitted == expected and fitted[0] * fitted[1] <= max_pixels


def test_planner_keeps_short_clips_and_fits_an_hour() -> None:
    geometry = VisionGeometry(14, 2, 2, CLIP_MEAN, CLIP_STD)
    short = plan_budget(Fraction(30), 1920, 1080, Fraction(30000, 1001), geometry, 32768)
    assert short.fps == 2 and short.notes == () and short.size == (588, 336)
    hour = plan_budget(Fraction(3600), 1920, 1080, Fraction(25), geometry, 32768)
    assert hour.fps == 1 and hour.visual_tokens <= 32768 and "shrunk" in hour.describe()
    four_hours = plan_budget(Fraction(4 * 3600), 1920, 1080, Fraction(25), geometry, 32768)
    assert MIN_FPS <= four_hours.fps < 1 and four_hours.visual_tokens <= 32768
    fixed = plan_budget(Fraction(600), 1920, 1080, Fraction(25), geometry, 32768, max_pixels=448 * 448)
    assert fixed.max_pixels == 448 * 448 and fixed.fps < 1, "a fixed pixel budget leaves only the rate to lower"
    with pytest.raises(InvalidRequestError, match="token_budget"):
        plan_budget(Fraction(3600), 1920, 1080, Fraction(25), geometry, 32768, fps=Fraction(2), max_pixels=448 * 448)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny-vlm")
    return {"qwen2.5": build_tiny_qwen25_vl(folder / "q25"), "qwen3": build_tiny_qwen3_vl(folder / "q3")}


def _clip_input(geometry: VisionGeometry, groups: int = 3) -> object:
    frames = np.random.default_rng(3).integers(0, 256, (2 * groups, 56, 84, 3), dtype=np.uint8)
    times = [Fraction(n, 1) for n in range(2 * groups)]  # 1 fps: 2 s per group
    return build_video_input(frames, times, geometry, (2 * geometry.factor, geometry.factor), Fraction(0), Fraction(1))


def test_qwen25_time_positions_follow_seconds_per_group(tiny_models: dict[str, Path]) -> None:
    loaded = load_model("tiny", tiny_models["qwen2.5"], "cpu")
    assert isinstance(loaded.adapter, Qwen25Adapter) and loaded.geometry.factor == 28
    video = _clip_input(loaded.geometry)
    ids = loaded.adapter.prompt_ids(loaded.tokenizer, loaded.model.config, video, "when?")
    positions = loaded.adapter.position_ids(loaded.model, ids, video)
    temporal = positions[0, 0][ids[0] == loaded.model.config.video_token_id]
    # 2 s per group × tokens_per_second 2 = 4 ids per group: absolute time, not the frame index.
    steps = sorted(set((temporal - temporal[0]).tolist()))
    assert steps == [0, 4, 8]


def test_qwen3_prompt_interleaves_group_times(tiny_models: dict[str, Path]) -> None:
    loaded = load_model("tiny", tiny_models["qwen3"], "cpu")
    assert isinstance(loaded.adapter, Qwen3Adapter) and loaded.geometry.mean == (0.5, 0.5, 0.5)
    video = _clip_input(loaded.geometry)
    ids = loaded.adapter.prompt_ids(loaded.tokenizer, loaded.model.config, video, "when?")
    text = loaded.tokenizer.decode(ids[0])
    assert text.count("<|vision_start|>") == 3
    assert "<0.5 seconds><|vision_start|>" in text and "<2.5 seconds>" in text and "<4.5 seconds>" in text
    assert int((ids == loaded.model.config.video_token_id).sum()) == video.token_count


def _grid_clip(path: Path, fps: Fraction, start: Fraction, end: Fraction, geometry: VisionGeometry) -> object:
    info = probe(path)
    start, checked_end = checked_range(info, start, end)
    budget = plan_budget(checked_end - start, *info.video.display_size, info.video.rate, geometry, 32768, fps=fps)  # type: ignore[union-attr, arg-type]
    return info, start, _sample(info, start, checked_end, budget, SimpleNamespace(geometry=geometry), lambda _: None, lambda: None)


@pytest.mark.parametrize(
    ("clip", "fps", "end"),
    [
        ("vfr", Fraction(2), Fraction(3)),  # frames 1/20–1/40 s apart
        ("vfr", Fraction(25), Fraction(3)),  # above the source rate where frames are 1/20 s apart
        ("car-detection.mp4", Fraction(20), Fraction(14)),  # the case: 20 fps on a 12.5 fps clip
    ],
)
def test_qwen25_position_times_are_the_real_times(
    tiny_models: dict[str, Path], clips: dict, clip: str, fps: Fraction, end: Fraction
) -> None:
    """#15: every frame group's position time (group × seconds per group, which the temporal rope id is
    floor(· × tokens_per_second) of) equals the real time of its frames within half a source frame interval."""
    loaded = load_model("tiny", tiny_models["qwen2.5"], "cpu")
    path = clips[clip].path if clip in clips else require_corpus() / clip
    start = Fraction(10) if clip == "car-detection.mp4" else Fraction(0)
    info, start, video = _grid_clip(path, fps, start, end, loaded.geometry)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        source = sorted(frame.pts * stream.time_base for frame in container.decode(stream))
    half_interval = max(b - a for a, b in zip(source, source[1:], strict=False)) / 2
    sampled = math.ceil((min(end, info.duration) - start) * fps)
    assert len(video.frame_times) == sampled + sampled % 2, "one frame per grid instant, none dropped"
    for index, time in enumerate(video.frame_times[:sampled]):
        assert abs(time - start - index / fps) <= half_interval, (index, float(time))
    ids = loaded.adapter.prompt_ids(loaded.tokenizer, loaded.model.config, video, "when?")
    temporal = loaded.adapter.position_ids(loaded.model, ids, video)[0, 0][ids[0] == loaded.model.config.video_token_id]
    per_group = video.tokens_per_group
    first = int(temporal[0])
    for group in range(video.grid_thw[0]):
        position_time = group * video.seconds_per_group
        assert int(temporal[group * per_group]) - first == math.floor(position_time * 2)  # tokens_per_second 2
        assert abs(video.frame_times[2 * group] - start - position_time) <= half_interval


def test_qwen25_text_after_a_video_continues_from_its_highest_position(tiny_models: dict[str, Path]) -> None:
    """Hand-computed: 4 text tokens, a video of 3 groups × 2×3 merged tokens at 1 s per group (2 ids per group at
    tokens_per_second 2), then text. Video t ids 4 + {0, 2, 4}, rows 4 + {0, 1}, columns 4 + {0, 1, 2}; the
    highest is 8, so the text after it starts at 9 (the original release and vLLM). transformers 5.25 would
    start it at 4 + max(2, 3) = 7, inside the video's time range."""
    loaded = load_model("tiny", tiny_models["qwen2.5"], "cpu")
    video_token = loaded.model.config.video_token_id
    ids = torch.tensor([[11, 12, 13, 14, *[video_token] * 18, 15, 16]])
    video = SimpleNamespace(grid_thw=(3, 4, 6), merge=2, seconds_per_group=Fraction(1))
    positions = loaded.adapter.position_ids(loaded.model, ids, video)[:, 0].tolist()
    t = [4] * 6 + [6] * 6 + [8] * 6
    h = [4, 4, 4, 5, 5, 5] * 3
    w = [4, 5, 6] * 6
    assert positions == [[0, 1, 2, 3, *t, 9, 10], [0, 1, 2, 3, *h, 9, 10], [0, 1, 2, 3, *w, 9, 10]]


def test_qwen3_positions_equal_transformers(tiny_models: dict[str, Path]) -> None:
    """For Qwen3-VL (one group per vision run, temporal id 0) the original rule and transformers 5.25 agree."""
    loaded = load_model("tiny", tiny_models["qwen3"], "cpu")
    video = _clip_input(loaded.geometry)
    ids = loaded.adapter.prompt_ids(loaded.tokenizer, loaded.model.config, video, "when?")
    ours = loaded.adapter.position_ids(loaded.model, ids, video)
    native, _ = loaded.model.model.get_rope_index(
        ids, mm_token_type_ids=loaded.adapter.token_types(loaded.model.config, ids), video_grid_thw=torch.tensor([video.grid_thw])
    )
    assert torch.equal(ours, native)
