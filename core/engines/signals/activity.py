"""Activity: spans where something moves inside a static shot (the surveillance and parking-lot case).

Reads `VideoFeatures.stirring_fraction` (per frame: the share of the picture the exposure-compensated
background model marks as moving and that changed from frame to frame within the last 1.5 s, so neither the ghost
a visitor who stood still leaves behind nor someone standing still counts) and `moving_regions` (connected moving
areas at the sampled rate):

- the curve is smoothed with a running median over `SMOOTH_S`, which removes one-frame noise (grain, a codec
  pulse) but keeps a subject that moves for a moment;
- a span opens where the curve rises above `on` and closes where it falls below `off` (hysteresis, so a subject
  pausing briefly does not split its span); `sensitivity` (0–1, default 0.5) sets on = 0.03 − 0.02·s and
  off = on / 2; grain and exposure breathing are already kept out by the background model's noise-adaptive
  threshold, so a subject that moves through a whole shot is activity for the whole shot;
- frames where most of the picture moves (over `CAMERA_MOVING`) are a moving camera or a cut, not activity;
- gaps shorter than `MAX_GAP_S` are bridged and spans shorter than `MIN_SPAN_S` dropped; spans never cross a
  shot boundary (a cut resets the background).

Each span becomes an ACTIVITY moment whose tube holds, at each sampled time inside it, the union box of the
moving regions, and whose score is its peak moving share relative to the threshold (capped at 1).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from reelmark.core.engines.signals.context import ShotBoundaries
from reelmark.core.engines.signals.features import VideoFeatures
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

SMOOTH_S = 0.4
CAMERA_MOVING = 0.6
MAX_GAP_S = 1.0
MIN_SPAN_S = 0.5


def _thresholds(sensitivity: float) -> tuple[float, float]:
    """(on, off): on = 0.03 − 0.02·sensitivity (2 % of the picture at the default 0.5), off = on / 2."""
    if not 0 <= sensitivity <= 1:
        raise ValueError(f"activity sensitivity must lie between 0 and 1, not {sensitivity}")
    on = 0.03 - 0.02 * sensitivity
    return on, on / 2


def _running_median(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(values) == 0:
        return values
    padded = np.pad(values, (width // 2, width - 1 - width // 2), mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.median(windows, axis=1)


def _segments(video: VideoFeatures, shots: ShotBoundaries | None) -> list[tuple[int, int]]:
    """Frame index ranges [a, b) between hard cuts: where the background model starts afresh. Gradual transitions
    do not split (the model carries through them, and a false dissolve would cut a span in two)."""
    cuts = [] if shots is None else [t.span.start for t in shots.transitions if t.kind == "cut"]
    starts = [0] + [video.index_at(time) for time in cuts] + [video.frame_count]
    return [(a, b) for a, b in zip(starts, starts[1:], strict=False) if b > a]


def _spans_in(curve: np.ndarray, on: float, off: float, seconds: np.ndarray) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    active, opened = False, 0
    for index, value in enumerate(curve):
        if not active and on <= value < CAMERA_MOVING:
            active, opened = True, index
        elif active and (value < off or value >= CAMERA_MOVING):
            spans.append((opened, index))
            active = False
    if active:
        spans.append((opened, len(curve)))
    bridged: list[tuple[int, int]] = []
    for span in spans:
        if bridged and seconds[span[0]] - seconds[bridged[-1][1] - 1] <= MAX_GAP_S:
            bridged[-1] = (bridged[-1][0], span[1])
        else:
            bridged.append(span)
    return [span for span in bridged if seconds[span[1] - 1] - seconds[span[0]] >= MIN_SPAN_S]


def _tube(video: VideoFeatures, span: TimeSpan) -> tuple[TubePoint, ...]:
    boxes_at: dict[Fraction, list[Box]] = {}
    for region in video.moving_regions:
        if span.start <= region.time <= span.end:
            boxes_at.setdefault(region.time, []).append(region.box)
    return tuple(
        TubePoint(time, Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)))
        for time, boxes in sorted(boxes_at.items())
    )


def find_activity(video: VideoFeatures, shots: ShotBoundaries | None, sensitivity: float = 0.5) -> list[Moment]:
    """ACTIVITY moments with tubes; see the module docstring."""
    on, off = _thresholds(sensitivity)
    if video.frame_count == 0:
        return []
    width = max(1, round(SMOOTH_S * float(video.rate)))
    moments: list[Moment] = []
    for first, stop in _segments(video, shots):
        raw = video.stirring_fraction[first:stop].astype(np.float64)
        curve = _running_median(raw, width)
        for a, b in _spans_in(curve, on, off, video.seconds[first:stop]):
            start = video.times[first + a]
            end = video.times[first + b] if first + b < video.frame_count else video.end
            span = TimeSpan(start, end)
            peak = float(curve[a:b].max())
            moments.append(
                Moment(
                    MomentKind.ACTIVITY, span, label=f"activity {len(moments) + 1}",
                    score=min(1.0, peak / (3 * on)), tube=_tube(video, span),
                )  # fmt: skip
            )
    return moments

