"""Model video input built from our own frame sampler: no torchvision, exact times carried through (DESIGN §6).

transformers' Qwen video processors need torchvision, which has no CPU build here, so this module does their job:
resize each full-size frame once to a multiple of patch × merge within a pixel budget (`fit_size`, the "smart
resize" rule; `resize_frames`, the official bicubic antialiased resize), scale to [0, 1], normalise with the
checkpoint's mean and std, pad the frame count to a whole temporal patch by repeating the last frame, and flatten
into `pixel_values` rows in the vision tower's patch order (tests/test_vlm_equivalence.py checks all of it against
transformers' own processing). Frames come on the exact grid start + k / fps (the sampler's `uniform_grid`), so
Qwen2.5-VL's `second_per_grid_ts` is the real spacing; the frames' own times (pts × time_base) travel with the
result, per frame and per temporal group, for Qwen3-VL's `<t seconds>` text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class VisionGeometry:
    """How a checkpoint's vision tower cuts video into tokens, and how it wants pixels normalised."""

    patch: int
    merge: int
    temporal: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @property
    def factor(self) -> int:
        """Frame sides must be multiples of this: one merged token covers factor × factor pixels."""
        return self.patch * self.merge

    def tokens_per_group(self, width: int, height: int) -> int:
        """Language-model tokens for one temporal group of frames at this (already fitted) size."""
        return (width // self.factor) * (height // self.factor)


@dataclass(frozen=True)
class VideoInput:
    """What the vision tower and the prompt builder need for one clip."""

    pixel_values: torch.Tensor
    """(groups × grid_h × grid_w, 3 × temporal × patch × patch) float32 rows in the vision tower's order."""
    grid_thw: tuple[int, int, int]
    """(temporal groups, patch rows, patch columns)."""
    merge: int
    frame_times: tuple[Fraction, ...]
    """Media time of every frame fed, padding repeats included."""
    origin: Fraction
    """Media time the model's clock starts at (the start of the analysed range): model time 0."""
    seconds_per_group: Fraction
    """Seconds per temporal group on the sampling grid (temporal / fps): Qwen2.5-VL's `second_per_grid_ts`."""
    size: tuple[int, int]
    """(width, height) of the frames the model saw; Qwen2.5-VL answers boxes in these pixels."""

    @property
    def group_times(self) -> tuple[Fraction, ...]:
        """Model time of each temporal group: the mean of its first and last frame, as Qwen3-VL's processor has it."""
        temporal = len(self.frame_times) // self.grid_thw[0]
        return tuple(
            (self.frame_times[index] + self.frame_times[index + temporal - 1]) / 2 - self.origin
            for index in range(0, len(self.frame_times), temporal)
        )

    @property
    def tokens_per_group(self) -> int:
        _, rows, columns = self.grid_thw
        return rows * columns // self.merge**2

    @property
    def token_count(self) -> int:
        return self.grid_thw[0] * self.tokens_per_group


def fit_size(height: int, width: int, factor: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(height, width): multiples of `factor`, as near the source aspect as can be, with an area in the budget."""
    if min(height, width) <= 0:
        raise ValueError(f"a frame must have a positive size, got {width}x{height}")
    fitted_h = max(factor, round(height / factor) * factor)
    fitted_w = max(factor, round(width / factor) * factor)
    if fitted_h * fitted_w > max_pixels:
        scale = math.sqrt(height * width / max_pixels)
        fitted_h = max(factor, math.floor(height / scale / factor) * factor)
        fitted_w = max(factor, math.floor(width / scale / factor) * factor)
    elif fitted_h * fitted_w < min_pixels:
        scale = math.sqrt(min_pixels / (height * width))
        fitted_h = math.ceil(height * scale / factor) * factor
        fitted_w = math.ceil(width * scale / factor) * factor
    return fitted_h, fitted_w


def resize_frames(frames: np.ndarray, height: int, width: int) -> torch.Tensor:
    """(T, H, W, 3) uint8 → (T, 3, height, width) float32 holding whole values 0–255: one bicubic antialiased
    resize straight from the decoded frames, on the uint8 tensor, exactly as the official video path does it on
    a CPU (qwen-vl-utils hands uint8 tensors to torchvision's `resize`, which calls `interpolate` on uint8 for
    bicubic: torch's integer kernel, 20× faster here than the float one, and within one grey level of it)."""
    tensor = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    if tensor.shape[-2:] != (height, width):
        tensor = F.interpolate(tensor, size=(height, width), mode="bicubic", antialias=True, align_corners=False)
    return tensor.float()


def patchify(frames: torch.Tensor, geometry: VisionGeometry) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """(T, 3, H, W) normalised frames, T a multiple of the temporal patch → (rows, 3·t·p·p) and (groups, gh, gw).

    Row order is group, then merge block (row-major), then position inside the block; each row is channel,
    then frame within the group, then the patch's pixels: the layout the Qwen vision towers unflatten."""
    count, channels, height, width = frames.shape
    p, m, t = geometry.patch, geometry.merge, geometry.temporal
    groups, grid_h, grid_w = count // t, height // p, width // p
    blocks = frames.reshape(groups, t, channels, grid_h // m, m, p, grid_w // m, m, p)
    rows = blocks.permute(0, 3, 6, 4, 7, 2, 1, 5, 8).reshape(groups * grid_h * grid_w, channels * t * p * p)
    return rows.contiguous(), (groups, grid_h, grid_w)


def build_video_input(
    frames: np.ndarray,
    times: Sequence[Fraction],
    geometry: VisionGeometry,
    size: tuple[int, int],
    origin: Fraction,
    fps: Fraction,
) -> VideoInput:
    """The model input for `frames` (T, H, W, 3 uint8) sampled at `times`, resized to `size` = (width, height)."""
    if len(frames) == 0 or len(frames) != len(times):
        raise ValueError(f"need one time per frame and at least one frame, got {len(frames)} frames, {len(times)} times")
    width, height = size
    pad = -len(frames) % geometry.temporal
    if pad:
        frames = np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)])
        times = [*times, *([times[-1]] * pad)]
    pixels = resize_frames(frames, height, width) / 255.0
    mean = torch.tensor(geometry.mean).view(1, 3, 1, 1)
    std = torch.tensor(geometry.std).view(1, 3, 1, 1)
    rows, grid = patchify((pixels - mean) / std, geometry)
    return VideoInput(rows, grid, geometry.merge, tuple(times), origin, Fraction(geometry.temporal) / fps, size)
