"""The vlm engine's model inputs against the official transformers processing, on real corpus footage (#15).

The tiny random models cannot notice a preprocessing mismatch; this test can. For each family and each size
(1080p, 720p, 768×432, 640×480), the frames reelmark feeds the model are compared with an independent
reference built from the same file:

- frames: a plain PyAV decode of every frame at full size, and for each instant of the grid start + k / fps
  the frame whose time is nearest (a uniform grid, as Qwen's own samplers take frame indices);
- size, resize, rescale, normalise, patch order: transformers' `Qwen2VLImageProcessorPil` on each full-size
  frame, built from the documented defaults (Qwen2.5-VL: the class defaults; Qwen3-VL: patch 16 and mean/std
  0.5, the defaults of transformers 5.25's `Qwen3VLVideoProcessor`) with the planner's pixel budget. Its per-frame
  rows are interleaved into frame pairs in the row layout (channel, frame, pixels) the video processors share.
  Its resize is Pillow's bicubic (antialiased), which the official video path's resize matches: qwen-vl-utils
  hands uint8 tensors to torchvision's `resize`, which on a CPU runs torch's uint8 kernel (torchvision 0.28
  `_do_native_uint8_resize_on_cpu`), a port of Pillow-SIMD's (measured on 1080p: at most 1 grey level apart);
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


def torchvision_cpu_resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """What torchvision 0.28's `resize(uint8 tensor, BICUBIC, antialias=True)` runs on a CPU, written out."""
    tensor = torch.from_numpy(frame).permute(2, 0, 1)[None]
    resized = torch.nn.functional.interpolate(tensor, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return resized[0].permute(1, 2, 0).numpy()


def reference_rows(processor: Qwen2VLImageProcessorPil, frames: list[np.ndarray], temporal: int) -> tuple[np.ndarray, tuple]:
    """The processor's rows for each full-size frame, interleaved into temporal groups (the last frame repeated
    to fill one, as the video processors pad)."""
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
    processor = Qwen2VLImageProcessorPil(**processor_options, size={"shortest_edge": 56 * 56, "longest_edge": budget.max_pixels})
    assert list(video.frame_times[: len(times)]) == times
    levels = np.array(geometry.std).reshape(1, 3, 1) * 255  # grey levels per normalised unit
    pixels = video.pixel_values.numpy()
    resized = [torchvision_cpu_resize(frame, fitted_h, fitted_w) for frame in frames]
    rows, grid = reference_rows(processor, resized, geometry.temporal)
    assert video.grid_thw == grid
    official = np.abs(pixels - rows).reshape(len(rows), 3, -1) * levels
    assert official.max() <= 1 + 1e-3, f"{official.max():.2f} grey levels from the official video path"
    rows, grid = reference_rows(processor, frames, geometry.temporal)  # Pillow resizes the full-size frames
    assert video.grid_thw == grid
    pillow = np.abs(pixels - rows).reshape(len(rows), 3, -1) * levels
    print(f"{name} {family}: vs Pillow's resize: {100 * (pillow > 1 + 1e-3).mean():.4f} % over 1 level, max {pillow.max():.2f}")
    assert pillow.max() <= 2 + 1e-3 and (pillow > 1 + 1e-3).mean() < 1e-3

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
