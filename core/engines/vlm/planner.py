"""The token-budget planner: choose the sampling rate and frame size from the clip's duration (DESIGN §6).

A VLM's context holds a fixed number of visual tokens, and a clip costs (frames / temporal patch) × (tokens per
frame group). Like Vidi's adaptive compression, the planner keeps the model's preferred 2 fps and its pixel
budget for short clips and spends less on each as the clip gets longer, in this order:

1. lower the rate to 1 fps (one sample a second still catches most events at grounding precision);
2. shrink the frames, down to `MIN_TOKENS_PER_GROUP` tokens a group (enough to tell scenes apart);
3. lower the rate again, down to `MIN_FPS`.

Values the user fixed (`fps`, `max_pixels`) are never changed; a plan that still does not fit is refused with
the fix, never silently truncated. Every plan says what it chose and why, and the engine logs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from reelmark.core.engines.vlm.video import VisionGeometry, fit_size
from reelmark.core.errors import InvalidRequestError

PREFERRED_FPS = Fraction(2)
"""The rate Qwen2.5-VL and Qwen3-VL were tuned on for video."""
COMFORT_FPS = Fraction(1)
MIN_FPS = Fraction(1, 8)
MIN_TOKENS_PER_GROUP = 16
DEFAULT_MAX_PIXELS = 448 * 448
"""Per frame: 256 tokens a group at patch 14 × merge 2."""


@dataclass(frozen=True)
class SamplingBudget:
    """How one clip will be fed to the model."""

    fps: Fraction
    size: tuple[int, int]
    """(width, height) each frame is resized to."""
    max_pixels: int
    groups: int
    tokens_per_group: int
    notes: tuple[str, ...]

    @property
    def visual_tokens(self) -> int:
        return self.groups * self.tokens_per_group

    def describe(self) -> str:
        width, height = self.size
        return (
            f"sampling {float(self.fps):g} fps at {width}x{height} (max_pixels {self.max_pixels}): "
            f"{self.groups} frame groups × {self.tokens_per_group} tokens = {self.visual_tokens} visual tokens"
            + ("; " + "; ".join(self.notes) if self.notes else "")
        )


def plan_budget(
    duration: Fraction,
    width: int,
    height: int,
    rate: Fraction | None,
    geometry: VisionGeometry,
    token_budget: int,
    fps: Fraction | None = None,
    max_pixels: int | None = None,
) -> SamplingBudget:
    """The plan for `duration` seconds of `width`×`height` video at `rate` (None when unknown) within
    `token_budget` visual tokens; `fps` / `max_pixels` given by the user are kept as they are."""
    if duration <= 0:
        raise InvalidRequestError("the range to analyse is empty; give --end after --start")
    notes: list[str] = []
    chosen_fps = fps if fps is not None else min(PREFERRED_FPS, rate) if rate else PREFERRED_FPS
    pixels = max_pixels if max_pixels is not None else DEFAULT_MAX_PIXELS
    factor_area = geometry.factor**2

    def cost(rate_: Fraction, pixels_: int) -> tuple[int, int, tuple[int, int]]:
        fitted_h, fitted_w = fit_size(height, width, geometry.factor, factor_area, pixels_)
        per_group = geometry.tokens_per_group(fitted_w, fitted_h)
        return _groups(duration, rate_, geometry.temporal), per_group, (fitted_w, fitted_h)

    groups, per_group, size = cost(chosen_fps, pixels)
    if groups * per_group > token_budget and fps is None and chosen_fps > COMFORT_FPS:
        chosen_fps = max(COMFORT_FPS, _fitting_fps(duration, token_budget // per_group, geometry.temporal))
        notes.append(f"rate lowered to {float(chosen_fps):g} fps to fit {token_budget} tokens")
        groups, per_group, size = cost(chosen_fps, pixels)
    if groups * per_group > token_budget and max_pixels is None:
        allowed = max(MIN_TOKENS_PER_GROUP, token_budget // groups)
        pixels = allowed * factor_area
        notes.append(f"frames shrunk to at most {allowed} tokens each to fit {token_budget} tokens")
        groups, per_group, size = cost(chosen_fps, pixels)
    if groups * per_group > token_budget and fps is None:
        chosen_fps = _fitting_fps(duration, token_budget // per_group, geometry.temporal)
        if chosen_fps < MIN_FPS:
            raise InvalidRequestError(
                f"{float(duration):g} s of video does not fit {token_budget} visual tokens even at "
                f"{float(MIN_FPS):g} fps at {size[0]}x{size[1]}; raise --param token_budget, lower max_pixels, or analyse a shorter "
                "range with --start/--end"
            )
        notes.append(f"rate lowered to {float(chosen_fps):g} fps to fit {token_budget} tokens")
        groups, per_group, size = cost(chosen_fps, pixels)
    if groups * per_group > token_budget:
        raise InvalidRequestError(
            f"fps {float(chosen_fps):g} and max_pixels {pixels} give {groups * per_group} visual tokens, over the "
            f"token_budget of {token_budget}; lower --param fps or max_pixels, raise token_budget, or leave them unset"
        )
    return SamplingBudget(chosen_fps, size, pixels, groups, per_group, tuple(notes))


def _groups(duration: Fraction, fps: Fraction, temporal: int) -> int:
    frames = max(1, math.ceil(duration * fps))
    return math.ceil(frames / temporal)


def _fitting_fps(duration: Fraction, max_groups: int, temporal: int) -> Fraction:
    """The highest rate (in thousandths of a frame per second) whose frames fill at most `max_groups` groups."""
    return Fraction(math.floor(Fraction(max(0, max_groups) * temporal) / duration * 1000), 1000)
