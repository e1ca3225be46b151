"""Highlights: the most exciting stretches of the analysed range, cut where an editor would cut.

Scoring. Each available source becomes a curve in [0, 1] on a common grid of `GRID` cells over [start, end]:

- audio (`ctx.audio`, weight 0.35): short-term (3 s) loudness relative to the programme's integrated loudness,
  each window placed at its centre; `EXCITEMENT_FLOOR_LU` (−10 LU) maps to 0, `EXCITEMENT_CEILING_LU` (+5 LU) to
  1, so the programme's ordinary level reads 2/3 and only what rises above it reaches 1. Relative loudness is
  what an audience hears as excitement, and it cancels the mono-downmix offset (see `audio_features`). Drops
  out when nothing passes the loudness gates (integrated loudness None);
- motion (`ctx.video.motion`, weight 0.30): per-frame motion, median-filtered over `MOTION_MEDIAN_FRAMES` frames
  (a cut is a one-frame spike of picture change, not motion), scaled from the clip's median (0) to its 98th
  percentile (1), with a span of at least `MOTION_MIN_RANGE` so that the grain of a static clip is not blown up
  into action;
- people (`ctx.people`, weight 0.15): 1 where any person or face moment is on screen;
- cut density (`ctx.shots`, weight 0.10): shot boundaries within ±`CUT_WINDOW_S`/2, as a rate, full at
  `FULL_CUT_RATE` (a cut every second, trailer pace; shots of ordinary length read 0.2–0.4);
- speech (`ctx.audio.speech` joined with the subtitle cues, weight 0.10): 1 inside speech; what is said often
  matters, the weight is low because speech alone is not action.

A missing source drops out and the others' weights are renormalised, so the combined curve (their weighted mean)
stays in [0, 1]. A window's score is the mean of the combined curve over it.

Cutting. In and out points are natural cut points (`split.natural_points`: shot boundaries and points inside
silences) or the ends of the range, never strictly inside speech (the VAD's spans joined with the subtitle cues,
see `split`). Every pair of such points whose distance
lies in [`highlight_min_s`, `highlight_max_s`] is a candidate window; only if there is none do speech pauses and a
`FALLBACK_STEP` grid outside speech join in. Windows are taken greedily by score, skipping any that overlaps one
taken or would exceed the budget (`highlight_budget_s`, default count × max), until `highlight_count` are taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.signal

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.engines.signals.split import CutPoint, grid_points, natural_points, pause_points, speech_index
from reelmark.core.results import Moment, MomentKind, TimeSpan
from reelmark.core.times import as_fraction

GRID = Fraction(1, 10)
WEIGHTS = {"audio": 0.35, "motion": 0.30, "people": 0.15, "cuts": 0.10, "speech": 0.10}
REASONS = {"audio": "loud sound", "motion": "fast motion", "people": "people on screen", "cuts": "quick cuts", "speech": "speech"}
REASON_LEVEL = 0.5
"""A source is named in a highlight's text when its mean over the window reaches this; if none does, the text
names the strongest one as "some ..."."""
EXCITEMENT_FLOOR_LU = -10.0
EXCITEMENT_CEILING_LU = 5.0
SHORT_TERM_S = 3.0
MOTION_MEDIAN_FRAMES = 5
MOTION_MIN_RANGE = 0.01
CUT_WINDOW_S = 6.0
FULL_CUT_RATE = 1.0
FALLBACK_STEP = Fraction(1)


def _cell_centres(ctx: SignalsContext) -> np.ndarray:
    count = max(1, -(-(ctx.end - ctx.start) // GRID))
    return float(ctx.start) + (np.arange(count) + 0.5) * float(GRID)


def _spans_curve(centres: np.ndarray, spans: Sequence[TimeSpan]) -> np.ndarray:
    curve = np.zeros(len(centres))
    for span in spans:
        curve[(centres >= span.start_s) & (centres < span.end_s)] = 1.0
    return curve


def source_curves(ctx: SignalsContext) -> dict[str, np.ndarray]:
    """Every available source as a [0, 1] curve over the grid cells of [start, end]."""
    centres = _cell_centres(ctx)
    curves: dict[str, np.ndarray] = {}
    audio = ctx.audio
    if audio is not None and audio.integrated_lufs is not None and len(audio.short_term_lufs):
        relative = np.nan_to_num(audio.short_term_lufs - audio.integrated_lufs, neginf=EXCITEMENT_FLOOR_LU)
        excitement = np.clip((relative - EXCITEMENT_FLOOR_LU) / (EXCITEMENT_CEILING_LU - EXCITEMENT_FLOOR_LU), 0, 1)
        index = np.round((centres + SHORT_TERM_S / 2 - float(audio.start)) / float(audio.hop)).astype(int) - 1
        curves["audio"] = excitement[np.clip(index, 0, len(excitement) - 1)]
    if audio is not None or ctx.cues:
        curves["speech"] = _spans_curve(centres, speech_index(ctx).spans)
    video = ctx.video
    if video is not None and video.frame_count:
        motion = scipy.signal.medfilt(video.motion.astype(np.float64), MOTION_MEDIAN_FRAMES)
        typical, high = np.percentile(motion, [50, 98])
        scaled = np.clip((motion - typical) / max(high - typical, MOTION_MIN_RANGE), 0, 1)
        frame = np.searchsorted(video.seconds, centres, side="right") - 1
        on_screen = (frame >= 0) & (centres < float(video.end))
        curves["motion"] = np.where(on_screen, scaled[np.clip(frame, 0, len(scaled) - 1)], 0.0)
    people = [moment.span for moment in ctx.people if moment.kind in (MomentKind.PERSON, MomentKind.FACE)]
    if people:
        curves["people"] = _spans_curve(centres, people)
    if ctx.shots is not None:
        boundaries = np.array([float(time) for time in ctx.shots.boundary_times])
        near = np.searchsorted(boundaries, centres + CUT_WINDOW_S / 2) - np.searchsorted(boundaries, centres - CUT_WINDOW_S / 2)
        curves["cuts"] = np.minimum(1.0, near / CUT_WINDOW_S / FULL_CUT_RATE)
    return curves


class _WindowMeans:
    """Mean of a grid curve over any [a, b] in O(1), from its running sum (cells are uniform over GRID)."""

    def __init__(self, start: Fraction, curve: np.ndarray):
        self.start = float(start)
        self.cumulative = np.concatenate([[0.0], np.cumsum(curve)])
        self.cells = np.arange(len(self.cumulative), dtype=np.float64)

    def __call__(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        first = (starts - self.start) / float(GRID)
        last = (ends - self.start) / float(GRID)
        sums = np.interp(last, self.cells, self.cumulative) - np.interp(first, self.cells, self.cumulative)
        return sums / (last - first)


def _candidate_windows(points: list[CutPoint], low: float, high: float, mean: _WindowMeans) -> list[tuple[float, int, int]]:
    """(score, i, j) for every pair of points i < j whose distance lies in [low, high]."""
    times = np.array([float(point.time) for point in points])
    windows: list[tuple[float, int, int]] = []
    for first in range(len(points)):
        lo = int(np.searchsorted(times, times[first] + low - 1e-9))
        hi = int(np.searchsorted(times, times[first] + high + 1e-9, side="right"))
        if hi > lo:
            scores = mean(np.full(hi - lo, times[first]), times[lo:hi])
            windows.extend(zip(scores.tolist(), [first] * (hi - lo), range(lo, hi), strict=True))
    return windows


def _reason(means: dict[str, float]) -> str:
    ranked = sorted(means, key=lambda name: WEIGHTS[name] * means[name], reverse=True)
    named = [REASONS[name] for name in ranked if means[name] >= REASON_LEVEL]
    return ", ".join(named) if named else f"some {REASONS[ranked[0]]}"


def pick_highlights(ctx: SignalsContext) -> list[Moment]:
    """The top `highlight_count` windows by score, cut at natural points, within the length and budget limits."""
    params = ctx.params
    if not 0 < params.highlight_min_s <= params.highlight_max_s:
        raise ValueError(
            f"need 0 < highlight_min_s <= highlight_max_s, got {params.highlight_min_s} and {params.highlight_max_s}"
        )
    curves = source_curves(ctx)
    if not curves:
        ctx.diagnostics.append("highlights: no audio, video, people or shots to score; none picked")
        return []
    total_weight = sum(WEIGHTS[name] for name in curves)
    combined = sum(WEIGHTS[name] * curve for name, curve in curves.items()) / total_weight
    mean = _WindowMeans(ctx.start, combined)
    speech = speech_index(ctx)
    edges = [CutPoint(ctx.start, "edge"), CutPoint(ctx.end, "edge")]
    natural = [point for point in natural_points(ctx) if not speech.inside(point.time)]
    points = sorted(edges + natural, key=lambda point: point.time)
    windows = _candidate_windows(points, params.highlight_min_s, params.highlight_max_s, mean)
    if not windows:
        fallback = [
            point for point in pause_points(ctx, speech) + grid_points(ctx, FALLBACK_STEP) if not speech.inside(point.time)
        ]
        points = sorted({point.time: point for point in fallback + points}.values(), key=lambda point: point.time)
        windows = _candidate_windows(points, params.highlight_min_s, params.highlight_max_s, mean)
        ctx.diagnostics.append("highlights: too few shot changes and silences; some cut at speech pauses or on a grid")
    budget = (
        as_fraction(params.highlight_budget_s)
        if params.highlight_budget_s is not None
        else params.highlight_count * as_fraction(params.highlight_max_s)
    )
    chosen: list[tuple[float, TimeSpan]] = []
    used = Fraction(0)
    for score, first, last in sorted(windows, key=lambda window: (-window[0], window[1], window[2])):
        if len(chosen) == params.highlight_count:
            break
        span = TimeSpan(points[first].time, points[last].time)
        if used + span.duration > budget or any(span.overlaps(other) for _, other in chosen):
            continue
        chosen.append((score, span))
        used += span.duration
    source_means = {name: _WindowMeans(ctx.start, curve) for name, curve in curves.items()}
    moments = []
    for rank, (score, span) in enumerate(chosen, start=1):
        window = (np.array([span.start_s]), np.array([span.end_s]))
        means = {name: float(source(*window)[0]) for name, source in source_means.items()}
        moments.append(
            Moment(
                MomentKind.HIGHLIGHT,
                span,
                label=f"highlight {rank}",
                score=round(min(1.0, max(0.0, score)), 4),
                text=_reason(means),
            )
        )
    if params.highlight_order == "chronological":
        moments.sort(key=lambda moment: moment.span.start)
    return moments
