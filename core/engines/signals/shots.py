"""Shots and transitions from the one-pass features: hard cuts, fades, dissolves; flashes are not cuts.

Everything here reads `VideoFeatures` (no decoding). A new shot starts where its transition ends: at the frame of
a hard cut, at the first frame of the new picture after a fade, at the first wholly new frame after a dissolve.
Shots tile [first frame, end]; a cut's `Transition` is the point at the new shot's first frame, a gradual one
spans from its first changed frame to that first frame. Detectors run in this order, and each claims its frames so
that no later one finds a cut inside them:

- Fade (`_fades`): a run of black frames (mean luma ≤ `BLACK_MEAN` and contrast ≤ `BLACK_STD`, on the 0–255
  thumbnail) widened by the brightness ramp down into it and the ramp up out of it. Fade-out, black, then a cut
  or a fade-in is one "fade", from the first dimmed frame to the first frame of the new picture at full
  brightness. Black at the very start or end of the range (a leader, a tail) belongs to the first or last shot. A
  short black blink with no ramps after which the same picture returns is a dropout, left to the flash test.
- Dissolve (`_dissolves`): at least `DISSOLVE_MIN_S` of sustained, steady change: the 3-frame running median of
  `cut_score` reaches the gradual floor, and the run goes on while it stays above `DISSOLVE_TAIL` of its level
  there. The run must vary by at most `DISSOLVE_MAX_VARIATION` of its mean, stand `DISSOLVE_CONTRAST` times above
  the score around it, join end pictures that clearly differ (histogram distance ≥ the dissolve change), and
  consist of frames that could be blends of those two pictures: brightness near the line from one to the other,
  contrast within the blend bound (the contrast of a mix is at most the mix of the contrasts). Steadiness keeps
  auto-exposure drift out; the blend bound keeps out a subject crossing a locked-off shot (in the corpus car park a
  white car driving out raises the contrast above it).
- Hard cut (`_hard_cuts`): a `cut_score` spike above both an absolute floor and the local level: the median of
  its neighbours within ±`NEIGHBOUR_S` (frames of gradual transitions left out) plus `cut_spread` robust
  deviations (1.4826 × MAD) of them, so busy footage raises its own bar (PySceneDetect's AdaptiveDetector idea).
  A weak spike (under `HARD_CUT_RESET`, where the background model is not reset) must also change at least
  `WHOLE_FRAME_CHANGE` of the picture against the exposure-compensated background, else it is a subject or the
  exposure moving inside one shot.
- Flash or strobe (`_is_excursion`): a spike is no cut when a picture from just before it comes back just after
  it, within `FLASH_S`: the histograms before and after are closer than a third of the spike. This is tested
  from both sides, so neither the jump into the flash nor the jump back counts.
- Double triggers (`_assemble`): no two shot starts closer than `MIN_SHOT_S`; gradual transitions are kept first,
  then cuts from the strongest down (a cut split over two frames, as a one-frame blend makes it, is one cut).

`sensitivity` in [0, 1] (default 0.5) moves every threshold linearly from strict (0) to loose (1), see
`ShotThresholds.for_sensitivity`:

| threshold | at 0 | at 0.5 | at 1 |
|---|---|---|---|
| cut floor (histogram distance of a spike) | 0.55 | 0.35 | 0.15 |
| cut spread (robust deviations above the neighbours' median) | 12 | 8 | 4 |
| gradual floor (per-frame score a dissolve sustains) | 0.12 | 0.075 | 0.03 |
| dissolve change (histogram distance of its end pictures) | 0.60 | 0.45 | 0.30 |

The black, ramp, flash and minimum-shot settings describe the picture, not confidence, and do not move.

Confidence (the `Transition.score`, in [0, 1]): a cut's spike above its neighbours' median; a fade's contrast
drop into black; a dissolve's histogram distance between its end pictures.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from reelmark.core.engines.signals.context import ShotBoundaries, Transition, TransitionKind
from reelmark.core.engines.signals.features import HARD_CUT_RESET, VideoFeatures
from reelmark.core.results import Moment, MomentKind, TimeSpan

NEIGHBOUR_S = 0.5
"""The local level of a frame is taken from this many seconds either side of it."""
MIN_SPREAD = 0.01
"""Floor on the neighbours' robust deviation: a perfectly still shot would otherwise call any flicker a cut."""
WHOLE_FRAME_CHANGE = 0.5
"""A weak spike must change at least this share of the picture; in the corpus car park a large white car alone
moves the histogram by 0.3 while changing a sixth of the frame."""
FLASH_S = 0.2
"""A flash or strobe lasts at most this long (at least one frame)."""
MIN_SHOT_S = 0.3
"""No two boundaries closer than this (at least two frames): one change that triggers twice is one cut."""
BLACK_MEAN = 28.0
"""Video black is 16 (limited range) or 0 (full range); PySceneDetect's fade threshold is 12 on 0–255 RGB."""
BLACK_STD = 8.0
RAMP_STEP = 0.5
"""Least brightness step, in luma levels (and at least 1 % of the brighter frame), that counts as dimming: the
frame mean of a still shot wanders by a few tenths."""
MAX_FADE_S = 3.0
"""Longest ramp into or out of black."""
DISSOLVE_MIN_S = 0.2
"""Shortest dissolve (at least three frames): anything shorter is a cut, or a flash."""
DISSOLVE_MAX_S = 4.0
DISSOLVE_MAX_VARIATION = 0.3
"""A cross-fade changes the picture by about the same amount every frame (coefficient of variation of the score
0.13–0.16 on generated dissolves); auto-exposure drift with subjects moving changes it in fits (0.44 where the car
park's exposure recovers after a car leaves, 0.38 where hands reach in front of the bottles)."""
DISSOLVE_TAIL = 0.5
"""A dissolve runs on, either side of where its score passes the gradual floor, while the score stays above this
share of its median there."""
DISSOLVE_CONTRAST = 3.0
"""A dissolve's mean score stands this many times above the median score around it."""
BLEND_MEAN_TOLERANCE = 4.0
"""Luma levels a dissolve's brightness may stray from the straight line between its end pictures (plus a quarter of
their difference, for dissolves that do not run at a constant rate)."""
BLEND_STD_TOLERANCE = 1.0
"""Luma levels (plus 5 % of the larger end contrast) a dissolve's contrast may exceed the blend bound by: noise."""
LINEAR_LUMA = 10.0
"""End pictures at least this far apart in brightness let a frame's brightness say how far the blend has gone."""


@dataclass(frozen=True)
class ShotThresholds:
    """The thresholds one `sensitivity` sets; see the module docstring for what each does."""

    cut_floor: float
    cut_spread: float
    gradual_floor: float
    dissolve_change: float

    @classmethod
    def for_sensitivity(cls, sensitivity: float) -> ShotThresholds:
        """Linear from strict (0) to loose (1); anything outside [0, 1] is a caller's mistake, so it raises."""
        if isinstance(sensitivity, bool) or not isinstance(sensitivity, (int, float)) or not math.isfinite(sensitivity):
            raise ValueError(f"shot sensitivity must be a number between 0 and 1, got {sensitivity!r}")
        if not 0 <= sensitivity <= 1:
            raise ValueError(
                f"shot sensitivity must lie between 0 (only the clearest cuts) and 1 (also weak ones), "
                f"got {sensitivity}"
            )
        return cls(
            cut_floor=0.55 - 0.40 * sensitivity,
            cut_spread=12.0 - 8.0 * sensitivity,
            gradual_floor=0.12 - 0.09 * sensitivity,
            dissolve_change=0.60 - 0.30 * sensitivity,
        )


@dataclass(frozen=True)
class _Boundary:
    frame: int
    """First frame of the new shot."""
    first: int
    """First frame of the transition (== frame for a cut)."""
    kind: TransitionKind
    score: float


def detect_shots(video: VideoFeatures, sensitivity: float = 0.5) -> ShotBoundaries:
    """Shots and transitions of the analysed range; see the module docstring for the detectors."""
    thresholds = ShotThresholds.for_sensitivity(sensitivity)
    count = video.frame_count
    if count < 2:
        start = video.times[0] if count else video.end
        return ShotBoundaries((TimeSpan(start, video.end),), ())
    frames_per_s = float(video.rate)
    scores = video.cut_score.astype(np.float64)
    scores[0] = scores[1]  # frame 0 has no predecessor; its 0 would read as an unusually still neighbour
    taken = np.zeros(count, dtype=bool)  # frames a gradual transition, leader or tail owns: no cut lands there
    gradual = _fades(video, scores, frames_per_s, taken)
    gradual += _dissolves(video, scores, frames_per_s, thresholds, taken)
    cuts = _hard_cuts(video, scores, frames_per_s, thresholds, taken)
    return _assemble(video, gradual, cuts, max(2, round(MIN_SHOT_S * frames_per_s)))


def shot_moments(shots: ShotBoundaries) -> list[Moment]:
    """A shot moment per shot, scored by the boundary that starts it, and a transition moment per gradual
    transition (hard cuts are already the shots' starts)."""
    starts = {transition.span.end: transition for transition in shots.transitions}
    moments = []
    for number, shot in enumerate(shots.shots, start=1):
        boundary = starts.get(shot.start) if number > 1 else None
        moments.append(Moment(MomentKind.SHOT, shot, f"shot {number}", 1.0 if boundary is None else boundary.score))
        if boundary is not None and boundary.kind != "cut":
            text = f"{boundary.kind} into shot {number}"
            moments.append(Moment(MomentKind.TRANSITION, boundary.span, boundary.kind, boundary.score, text))
    return moments


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True."""
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def _distance(video: VideoFeatures, a: int, b: int) -> float:
    """Half the L1 distance of two frames' histograms: the cut score between any two frames."""
    return 0.5 * float(np.abs(video.histograms[a] - video.histograms[b]).sum())


def _darker(video: VideoFeatures, brighter: int, darker: int) -> bool:
    """Frame `darker` is a dimmed version of frame `brighter`: lower brightness, no more contrast."""
    mean, std = video.luma_mean, video.luma_std
    step = float(mean[brighter] - mean[darker])
    return step > max(RAMP_STEP, 0.01 * float(mean[brighter])) and std[darker] <= std[brighter] * 1.05 + 0.5


def _fades(video: VideoFeatures, scores: np.ndarray, frames_per_s: float, taken: np.ndarray) -> list[_Boundary]:
    """Each run of black frames, widened by the ramps either side of it, is one fade."""
    count = video.frame_count
    black = (video.luma_mean <= BLACK_MEAN) & (video.luma_std <= BLACK_STD)
    limit = max(1, round(MAX_FADE_S * frames_per_s))
    flash = max(1, round(FLASH_S * frames_per_s))
    fades = []
    for black_start, black_stop in _runs(black):
        first = black_start
        while first > 1 and black_start - first < limit and _darker(video, first - 2, first - 1):
            first -= 1  # frame first - 1 is dimmer than the one before it: still on the ramp down
        new = black_stop
        while new + 1 < count and new - black_stop < limit and _darker(video, new + 1, new):
            new += 1  # the next frame is brighter, with no less contrast: still on the ramp up
        if black_start == 0 or black_stop == count:
            taken[first : new + 1] = True  # a leader or a tail: part of the first or last shot
            continue
        blink = first == black_start and new == black_stop and black_stop - black_start <= flash
        if blink and _distance(video, black_start - 1, black_stop) < scores[black_start] / 3:
            continue  # a dropped or black frame inside one shot: the flash test deals with it
        taken[first : new + 1] = True
        contrast = max(float(video.luma_std[first - 1]), float(video.luma_std[new]), 1e-6)
        drop = 1 - float(video.luma_std[black_start:black_stop].min()) / contrast
        fades.append(_Boundary(new, first, "fade", min(1.0, max(0.0, drop))))
    return fades


def _dissolves(
    video: VideoFeatures, scores: np.ndarray, frames_per_s: float, thresholds: ShotThresholds, taken: np.ndarray
) -> list[_Boundary]:
    """Runs of sustained change between two different pictures, each frame a blend of them."""
    count = video.frame_count
    padded = np.concatenate(([scores[0]], scores, [scores[-1]]))
    smooth = np.median(sliding_window_view(padded, 3), axis=1)  # drops lone spikes (cuts) and lone dips
    free = ~taken
    shortest = max(3, round(DISSOLVE_MIN_S * frames_per_s))
    longest = max(shortest, round(DISSOLVE_MAX_S * frames_per_s))
    context = max(3, round(NEIGHBOUR_S * frames_per_s))
    dissolves = []
    reach = 0
    for core_start, core_stop in _runs((smooth >= thresholds.gradual_floor) & free):
        if core_start < reach:
            continue  # inside the run of the previous core
        start, stop, level = core_start, core_stop, DISSOLVE_TAIL * float(np.median(smooth[core_start:core_stop]))
        while start > 1 and free[start - 1] and smooth[start - 1] >= level:
            start -= 1  # hysteresis: the run goes on while the change stays near its level
        while stop < count and free[stop] and smooth[stop] >= level:
            stop += 1
        reach = stop
        before, new = start - 1, stop - 1  # the last frame of the old picture; the first wholly new one
        if not shortest <= stop - start <= longest or before < 1 or stop >= count:
            continue
        run = scores[start:stop]
        around = np.concatenate((scores[max(1, start - context) : start], scores[stop : stop + context]))
        if run.std() > DISSOLVE_MAX_VARIATION * run.mean() or run.mean() < DISSOLVE_CONTRAST * np.median(around):
            continue
        change = _distance(video, before, new)
        if change < thresholds.dissolve_change or not _blends(video, before, new):
            continue
        taken[start:stop] = True
        dissolves.append(_Boundary(new, start, "dissolve", min(1.0, change)))
    return dissolves


def _blends(video: VideoFeatures, before: int, new: int) -> bool:
    """Every frame strictly between `before` and `new` could be a mix of those two pictures.

    A mix w·B + (1 − w)·A has brightness w·mean(B) + (1 − w)·mean(A) and, by the triangle inequality, contrast at
    most w·std(B) + (1 − w)·std(A). A subject moving in front of a still background breaks the second bound.
    """
    inner = np.arange(before + 1, new)
    mean = video.luma_mean.astype(np.float64)
    std = video.luma_std.astype(np.float64)
    mean_change = mean[new] - mean[before]
    progress = (inner - before) / (new - before)
    line = mean[before] + progress * mean_change
    if np.any(np.abs(mean[inner] - line) > BLEND_MEAN_TOLERANCE + 0.25 * abs(mean_change)):
        return False
    weight = np.clip((mean[inner] - mean[before]) / mean_change, 0, 1) if abs(mean_change) >= LINEAR_LUMA else progress
    bound = (1 - weight) * std[before] + weight * std[new]
    slack = BLEND_STD_TOLERANCE + 0.05 * max(std[before], std[new])
    return bool(np.all(std[inner] <= bound + slack))


def _neighbour_level(scores: np.ndarray, half: int, ignore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the median of the scores within ±`half` frames (the frame itself and `ignore`d frames, i.e. those of
    gradual transitions, left out) and their robust deviation (1.4826 × MAD); 0 where nothing is left. Computed in
    blocks so that hours of footage need little memory."""
    padded = np.pad(np.where(ignore, np.nan, scores), half, mode="edge")
    median = np.zeros_like(scores)
    spread = np.zeros_like(scores)
    block = 8192
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-ignored windows: NaN, replaced by 0 below
        for first in range(0, len(scores), block):
            windows = sliding_window_view(padded[first : first + block + 2 * half], 2 * half + 1)
            neighbours = np.delete(windows, half, axis=1)
            level = np.nanmedian(neighbours, axis=1)
            median[first : first + len(level)] = level
            spread[first : first + len(level)] = 1.4826 * np.nanmedian(np.abs(neighbours - level[:, None]), axis=1)
    return np.nan_to_num(median), np.nan_to_num(spread)


def _is_excursion(video: VideoFeatures, index: int, frames: int, bar: float) -> bool:
    """The spike at `index` lies inside a short excursion: a picture from at most `frames` frames before it comes
    back (histogram distance under `bar`) at most `frames + 1` frames later: a flash, a strobe, a dropped frame."""
    for before in range(max(0, index - frames), index):
        for after in range(index, min(video.frame_count, before + frames + 2)):
            if _distance(video, before, after) < bar:
                return True
    return False


def _hard_cuts(
    video: VideoFeatures, scores: np.ndarray, frames_per_s: float, thresholds: ShotThresholds, taken: np.ndarray
) -> list[_Boundary]:
    """Spikes of the cut score above the absolute floor and the local level that are not flashes."""
    median, spread = _neighbour_level(scores, max(3, round(NEIGHBOUR_S * frames_per_s)), taken)
    bar = np.maximum(thresholds.cut_floor, median + thresholds.cut_spread * np.maximum(spread, MIN_SPREAD))
    flash = max(1, round(FLASH_S * frames_per_s))
    cuts = []
    for index in np.flatnonzero((scores >= bar) & ~taken).tolist():
        score = float(scores[index])
        if index == 0 or (score < HARD_CUT_RESET and video.foreground_fraction[index] < WHOLE_FRAME_CHANGE):
            continue
        if _is_excursion(video, index, flash, score / 3):
            continue
        cuts.append(_Boundary(index, index, "cut", min(1.0, score - float(median[index]))))
    return cuts


def _assemble(video: VideoFeatures, gradual: list[_Boundary], cuts: list[_Boundary], min_gap: int) -> ShotBoundaries:
    """Keep gradual transitions, then the strongest cuts at least `min_gap` frames from any kept boundary; tile."""
    count = video.frame_count
    blocked = np.zeros(count, dtype=bool)
    kept = []
    for boundary in gradual + sorted(cuts, key=lambda cut: -cut.score):
        if boundary.kind == "cut" and blocked[boundary.frame]:
            continue
        kept.append(boundary)
        blocked[max(0, boundary.frame - min_gap + 1) : boundary.frame + min_gap] = True
    kept.sort(key=lambda boundary: boundary.frame)
    times = video.times
    starts = [times[0]] + [times[boundary.frame] for boundary in kept]
    shots = tuple(TimeSpan(start, end) for start, end in zip(starts, starts[1:] + [video.end], strict=True))
    transitions = tuple(
        Transition(TimeSpan(times[boundary.first], times[boundary.frame]), boundary.kind, boundary.score)
        for boundary in kept
    )
    return ShotBoundaries(shots, transitions)
