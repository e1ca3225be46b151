"""The vlm engine's model inputs against the official transformers processing, on real corpus footage (#15).

The tiny random models cannot notice a preprocessing mismatch; this test can. For each family and each size
(1080p, 720p, 768×432, 640×480), the frames reelmark feeds the model are compared with an independent
reference built from the same file:

- frames: a plain PyAV decode of every frame at full size, and for each instant of the grid start + k / fps
  the frame whose time is nearest (a uniform grid, as Qwen's own samplers take frame indices);
- size: transformers' own `smart_resize`;
- resize: the official video path's single resize of full-size frames, bicubic with antialiasing on uint8
  tensors (qwen-vl-utils `fetch_video` → torchvision `resize`, which calls `torch.nn.functional.interpolate`
  with `antialias=True` and rounds back to uint8);
- rescale, normalise, patch order: transformers' `Qwen2VLImageProcessorPil`, built from the documented defaults
  (Qwen2.5-VL: the class defaults; Qwen3-VL: patch 16 and mean/std 0.5, the defaults of transformers 5.25's
  `Qwen3VLVideoProcessor`), on each frame; its per-frame rows are interleaved into frame pairs in the row layout
  (channel, frame, pixels) that the video processors share;
- tokens: the official processors' own placeholder expansion (`replace_video_token`, and Qwen3-VL's
  `_calculate_timestamps`) inside each checkpoint's chat template, tokenised as one string;
- rope positions: a loop over the tokens written from the original Qwen2.5-VL rule.

transformers' video processors themselves cannot run here: they need torchvision, and the only torchvision
wheels for torch 2.13 on the package index are CUDA builds (their `_C.so` links `libtorch_cuda.so`), which fail
to import against the CPU build of torch. Hence the image processor on the same frames.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import av
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny_vlm import build_tiny_qwen3_vl, build_tiny_qwen25_vl

from conftest import require_corpus
from reelmark.core.engines.vlm.engine import _sample
from reelmark.core.engines.vlm.families import CLIP_MEAN, CLIP_STD, Qwen3Adapter, Qwen25Adapter
from reelmark.core.engines.vlm.loader import load_model
from reelmark.core.engines.vlm.planner import plan_budget
from reelmark.core.engines.vlm.video import VideoInput, VisionGeometry
from reelmark.core.media import probe
from reelmark.core.media.ranges import checked_range

pytest.importorskip("PIL", reason="the reference image processor (Qwen2VLImageProcessorPil) needs Pillow")
from transformers import Qwen2VLImageProcessorPil  # noqa: E402
from transformers.image_utils import SizeDict  # noqa: E402
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor  # noqa: E402
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize  # noqa: E402
from transformers.models.qwen3_vl.processing_qwen3_vl import Qwen3VLProcessor  # noqa: E402

FAMILIES = {
    "qwen2.5": (VisionGeometry(14, 2, 2, CLIP_MEAN, CLIP_STD), {}),
    "qwen3": (VisionGeometry(16, 2, 2, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),
              {"patch_size": 16, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}),
}  # fmt: skip
CLIPS = [  # (file, start, end): about two seconds each, so four frame groups at 2 fps
    ("frame_debugger_0h.mov", Fraction(1), Fraction(3)),  # 1920×1080, 24 fps
    ("bigbuckbunny.mp4", Fraction(1), Fraction(3)),  # 1280×720, 25 fps
    ("car-detection.mp4", Fraction(10), Fraction(12)),  # 768×432, 12.5 fps
    ("again.mkv", Fraction(0), Fraction(2)),  # 640×480, 30 fps
]
QUESTION = "When does the red car enter?"
TOKENS_PER_SECOND = 2


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("tiny-vlm-equivalence")
    return {
        "qwen2.5": load_model("tiny", build_tiny_qwen25_vl(folder / "q25"), "cpu"),
        "qwen3": load_model("tiny", build_tiny_qwen3_vl(folder / "q3"), "cpu"),
    }


def reference_frames(path: Path, start: Fraction, end: Fraction, fps: Fraction) -> tuple[list[np.ndarray], list[Fraction]]:
    """Full-size RGB frames and their times: for each grid instant, the decoded frame nearest it (earlier on a tie)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = [(frame.pts * stream.time_base, frame.to_ndarray(format="rgb24")) for frame in container.decode(stream)]
    decoded.sort(key=lambda item: item[0])
    frames, times = [], []
    for index in range(math.ceil((end - start) * fps)):
        target = start + index / fps
        time, image = min(decoded, key=lambda item: (abs(item[0] - target), item[0]))
        frames.append(image)
        times.append(time)
    return frames, times


def official_resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """torchvision's `resize` of a uint8 tensor, bicubic with antialiasing, written out: interpolate in float,
    then round and clamp back to uint8."""
    tensor = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
    resized = F.interpolate(tensor, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8)[0].permute(1, 2, 0).numpy()


def reference_rows(processor: Qwen2VLImageProcessorPil, frames: list[np.ndarray], temporal: int) -> tuple[np.ndarray, tuple]:
    """The processor's rows for each frame, interleaved into temporal groups (the last frame repeated to fill one)."""
    frames = frames + [frames[-1]] * (-len(frames) % temporal)
    output = processor(images=frames, return_tensors="np")
    grids = output["image_grid_thw"]
    per_frame = int(np.prod(grids[0]))
    patch = processor.patch_size
    rows = output["pixel_values"].reshape(len(frames), per_frame, 3, temporal, patch, patch)[:, :, :, 0]
    groups = rows.reshape(len(frames) // temporal, temporal, per_frame, 3, patch, patch).transpose(0, 2, 3, 1, 4, 5)
    grid = (len(frames) // temporal, int(grids[0][1]), int(grids[0][2]))
    return groups.reshape(grid[0] * per_frame, 3 * temporal * patch * patch), grid


def official_prompt(family: str, video: VideoInput, source_fps: float, frame_indices: list[int]) -> str:
    """The chat text the official processor produces: its own placeholder expansion inside the chat template."""
    placeholders = {"video_grid_thw": [torch.tensor(video.grid_thw)]}
    if family == "qwen2.5":
        expander = SimpleNamespace(video_processor=SimpleNamespace(merge_size=2), video_token="<|video_pad|>")
        expanded = Qwen2_5_VLProcessor.replace_video_token(expander, placeholders, 0)
        # Qwen2.5-VL's chat template: a default system turn, then the video inside vision_start/end.
        return ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                f"<|vision_start|>{expanded}<|vision_end|>{QUESTION}<|im_end|>\n<|im_start|>assistant\n")  # fmt: skip
    metadata = SimpleNamespace(fps=source_fps, frames_indices=frame_indices)
    expander = SimpleNamespace(
        video_processor=SimpleNamespace(merge_size=2, temporal_patch_size=2), video_token="<|video_pad|>",
        vision_start_token="<|vision_start|>", vision_end_token="<|vision_end|>",
    )  # fmt: skip
    expander._calculate_timestamps = lambda *args: Qwen3VLProcessor._calculate_timestamps(expander, *args)
    expanded = Qwen3VLProcessor.replace_video_token(expander, {**placeholders, "video_metadata": [metadata]}, 0)
    # Qwen3-VL's chat template: no default system turn; the processor's expansion replaces the video block.
    return f"<|im_start|>user\n{expanded}{QUESTION}<|im_end|>\n<|im_start|>assistant\n"


def reference_positions(
    ids: list[int], video_token: int, family: str, grid: tuple[int, int, int], seconds_per_group: Fraction
) -> list[list[int]]:
    """Rope positions by the original rule, token by token: text continues from the highest position + 1; a
    Qwen2.5-VL group's temporal id is floor(its start in seconds × tokens_per_second)."""
    groups, rows, columns = grid
    rows, columns = rows // 2, columns // 2
    positions: list[list[int]] = [[], [], []]
    highest, index = -1, 0
    while index < len(ids):
        if ids[index] != video_token:
            highest += 1
            for axis in positions:
                axis.append(highest)
            index += 1
            continue
        start = highest + 1
        run_groups = groups if family == "qwen2.5" else 1
        for local in range(run_groups):
            temporal = math.floor(local * seconds_per_group * TOKENS_PER_SECOND) if family == "qwen2.5" else 0
            for row in range(rows):
                for column in range(columns):
                    positions[0].append(start + temporal)
                    positions[1].append(start + row)
                    positions[2].append(start + column)
                    highest = max(highest, start + temporal, start + row, start + column)
        index += run_groups * rows * columns
    return positions


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize(("name", "start", "end"), CLIPS, ids=[clip[0] for clip in CLIPS])
def test_inputs_match_the_official_processing(
    tiny_models: dict[str, object], family: str, name: str, start: Fraction, end: Fraction
) -> None:
    path = require_corpus() / name
    info = probe(path)
    assert info.video is not None
    start, end = checked_range(info, start, end)  # as the engine does: a range never starts before the first frame
    assert end is not None
    geometry, processor_options = FAMILIES[family]
    width, height = info.video.display_size
    budget = plan_budget(end - start, width, height, info.video.rate, geometry, 32768)
    loaded = tiny_models[family]
    video = _sample(info, start, end, budget, SimpleNamespace(geometry=geometry), lambda _: None, lambda: None)

    frames, times = reference_frames(path, start, end, budget.fps)
    fitted_h, fitted_w = smart_resize(height, width, geometry.factor, 56 * 56, budget.max_pixels)
    assert budget.size == (fitted_w, fitted_h)
    resized = [official_resize(frame, fitted_h, fitted_w) for frame in frames]
    processor = Qwen2VLImageProcessorPil(**processor_options, size={"shortest_edge": 56 * 56, "longest_edge": budget.max_pixels})
    rows, grid = reference_rows(processor, resized, geometry.temporal)

    assert video.grid_thw == grid
    assert list(video.frame_times[: len(times)]) == times
    one_level = (1 / 255) / np.array(geometry.std).reshape(1, 3, 1)
    difference = np.abs(video.pixel_values.numpy() - rows).reshape(len(rows), 3, -1)
    assert (difference <= one_level + 1e-5).all(), f"largest difference {difference.max():.4f} (normalised units)"

    config = loaded.model.config
    source_fps = float(info.video.rate)
    # The model's clock starts at the analysed range, as if the official processor were given the range cut out.
    indices = [round((time - start) * info.video.rate) for time in times]
    official = official_prompt(family, video, source_fps, indices)
    ids = loaded.adapter.prompt_ids(loaded.tokenizer, config, video, QUESTION)
    assert ids[0].tolist() == loaded.tokenizer(official, add_special_tokens=False).input_ids
    adapter = loaded.adapter
    assert isinstance(adapter, Qwen25Adapter if family == "qwen2.5" else Qwen3Adapter)
    positions = adapter.position_ids(loaded.model, ids, video)
    expected = reference_positions(ids[0].tolist(), config.video_token_id, family, grid, 2 / budget.fps)
    assert positions[:, 0].tolist() == expected


def test_official_pil_resize_differs_from_the_video_path_and_is_reported() -> None:
    """Why the reference resize is torch's, not the image processor's PIL one: PIL's bicubic kernel (a = −0.5)
    is not torchvision's (a = −0.75), so the two official paths differ by more than a grey level at edges."""
    path = require_corpus() / "frame_debugger_0h.mov"
    frames, _ = reference_frames(path, Fraction(1), Fraction(3, 2), Fraction(2))
    processor = Qwen2VLImageProcessorPil()
    fitted_h, fitted_w = smart_resize(1080, 1920, 28, 56 * 56, 448 * 448)
    budget = SizeDict(shortest_edge=56 * 56, longest_edge=448 * 448)
    pil = processor.resize(frames[0].transpose(2, 0, 1), size=budget, resample=processor.resample, factor=28)
    torch_path = official_resize(frames[0], fitted_h, fitted_w).transpose(2, 0, 1).astype(float)
    difference = np.abs(np.asarray(pil, dtype=float) - torch_path)
    print(f"PIL vs torch bicubic, 1080p → {fitted_w}x{fitted_h}: mean {difference.mean():.3f}, max {difference.max():.0f}")
    assert difference.max() > 1, "if the two official paths agreed, the PIL processor could be the reference"
