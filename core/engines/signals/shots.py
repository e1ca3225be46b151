"""Shots and transitions from the one-pass features: hard cuts, fades, dissolves; flashes are not cuts.

Everything here reads `VideoFeatures` (no decoding). A new shot starts where its transition ends: at the frame of
a hard cut, at the first frame of the new picture after a fade, at the first wholly new frame after a dissolve.
Shots tile [first frame, end]; a cut's `Transition` is the point at the new shot's first frame, a gradual one
spans from its first changed frame to that first frame. Detectors run in this order, and each claims its frames so
that no later one finds a cut inside them:

- Fade (`_fades`): a run of black frames (mean luma ≤ `BLACK_MEAN` and contrast ≤ `BLACK_STD`, on the 0–255
  thumbnail) widened by the brightness ramp down into it and the ramp up out of it. Fade-out, black, then a cut
  or a fade-in is one "fade", from the first dimmed frame to the first frame of the new picture at full
  brightness. Black at the very start or end of the range (a leader, a tail) is a shot of its own, entered by a
  fade or a cut (`_leader_or_tail`), so the fade out that ends a programme is found. A
  short black blink with no ramps after which the same picture returns is a dropout, left to the flash test.
- Dissolve (`_dissolves`): at least `DISSOLVE_MIN_S` of sustained, steady change: the 3-frame running median of
  `cut_score` reaches the gradual floor, and the run goes on while it stays above `DISSOLVE_TAIL` of its level
  there. The run must vary by at most `DISSOLVE_MAX_VARIATION` of its mean, stand `DISSOLVE_CONTRAST` times above
  the score around it, join end pictures that clearly differ (histogram distance ≥ the dissolve change), and
  consist of frames that could be blends of those two pictures: brightness near the line from one to the other,
  contrast within the blend bound (the contrast of a mix is at most the mix of the contrasts). Steadiness keeps
  auto-exposure drift out; the blend bound keeps out a subject crossing a locked-off shot (in the corpus car park a
  white car driving out raises the contrast above it).
- Hard cut (`_hard_cuts`): a spike of `colour_change` (mean absolute Y'CbCr difference of consecutive 48×27
  thumbnails) above an absolute floor and `cut_ratio` times the mean change of the `NEIGHBOUR_FRAMES` frames either
  side of it (PySceneDetect's AdaptiveDetector rule, on colour rather than HSV). A cut changes the whole picture
  in one frame while the frames around it change little, so the ratio separates cuts from motion: a whip pan or
  a hair toss changes several frames in a row and raises its own bar. Measured on real footage labelled by eye
  (`tests/bench/signals.py`), every labelled cut stands at least 3.5× above its neighbours and 8.7 levels high,
  while motion look-alikes stay below 2×. A second test decides what the ratio cannot: a spike that undoing the
  picture's global shift (`aligned_change`) mostly explains is a camera jolt, not a cut.
- Flash or strobe (`_is_excursion`): a spike is no cut when a picture from just before it comes back just after
  it, within `FLASH_S`: the 16×9 pictures before and after are closer than a third of the spike. This is tested
  from both sides, so neither the jump into the flash nor the jump back counts.
- Double triggers (`_assemble`): no two shot starts closer than `MIN_SHOT_S`; gradual transitions are kept first,
  then cuts from the strongest down (a cut split over two frames, as a one-frame blend makes it, is one cut).

`sensitivity` in [0, 1] (default 0.5) moves every threshold linearly from strict (0) to loose (1), see
`ShotThresholds.for_sensitivity`:

| threshold | at 0 | at 0.5 | at 1 |
|---|---|---|---|
| cut floor (colour change of a spike, 0–255 levels) | 9 | 7 | 5 |
| cut ratio (times the neighbours' mean change) | 3.5 | 2.75 | 2 |
| gradual floor (per-frame score a dissolve sustains) | 0.12 | 0.075 | 0.03 |
| dissolve change (histogram distance of its end pictures) | 0.60 | 0.45 | 0.30 |

The black, ramp, flash and minimum-shot settings describe the picture, not confidence, and do not move.

Confidence (the `Transition.score`, in [0, 1]): a cut's colour change above its neighbours' mean, over
`CERTAIN_CUT_LEVELS`; a fade's contrast drop into black; a dissolve's histogram distance between its end pictures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from reelmark.core.engines.signals.context import ShotBoundaries, Transition, TransitionKind
from reelmark.core.engines.signals.features import VideoFeatures
from reelmark.core.engines.signals.runs import true_runs
from reelmark.core.results import Moment, MomentKind, TimeSpan

NEIGHBOUR_S = 0.5
"""The dissolve test compares a run with the score this many seconds either side of it."""
NEIGHBOUR_FRAMES = 2
"""A cut is compared with this many frames either side of it (PySceneDetect's adaptive window): a cut is a one-frame
event, so its neighbours are the two shots' own motion, whatever the frame rate."""
MIN_NEIGHBOUR_CHANGE = 1.0
"""Floor, in levels, on the neighbours' mean change: in a locked-off shot the ratio of noise to noise means nothing."""
MOVED_NOT_CHANGED = 0.5
"""A spike whose change falls below this share once the picture's global shift is undone is a camera move (a
shake, a whip pan), not a cut; real cuts labelled by eye keep at least 0.85 of it."""
CERTAIN_CUT_LEVELS = 32.0
"""A colour change this far above the neighbours' is a cut beyond doubt (confidence 1)."""
FLASH_S = 0.2
"""A flash or strobe lasts at most this long (at least one frame)."""
MIN_SHOT_S = 0.2
"""No two boundaries closer than this (at least two frames): one change that triggers twice is one cut. Fast
edits go lower than the 0.3 s once used here: the labelled music video has shots of 7 frames (0.28 s)."""
BLACK_MEAN = 28.0
"""Video black is 16 (limited range) or 0 (full range); PySceneDetect's fade threshold is 12 on 0–255 RGB."""
BLACK_STD = 8.0
RAMP_STEP = 0.5
"""Least brightness step, in luma levels (and at least 1 % of the brighter frame), that counts as dimming: the
frame mean of a still shot wanders by a few tenths."""
GENTLE_EDGE = 4.0
"""Luma levels between the last black frame and the picture next to it below which the picture meets the black
gently, as a slow fade does."""
RAMP_TREND_S = 0.4
RAMP_TREND_STEP = 0.25
"""A slow fade dims by less than a ramp step between some frames (noise, compression); over `RAMP_TREND_S` it
still dims by at least this many levels a frame (the labelled music video's 2.5 s fade: 0.4–1 a frame), which no
still shot's exposure does."""
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
    cut_ratio: float
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
            cut_floor=9.0 - 4.0 * sensitivity,
            cut_ratio=3.5 - 1.5 * sensitivity,
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
    cuts = _hard_cuts(video, frames_per_s, thresholds, taken)
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


def _distance(video: VideoFeatures, a: int, b: int) -> float:
    """Half the L1 distance of two frames' histograms: the cut score between any two frames."""
    return 0.5 * float(np.abs(video.histograms[a] - video.histograms[b]).sum())


def _darker(video: VideoFeatures, brighter: int, darker: int, least_step: float | None = None) -> bool:
    """Frame `darker` is a dimmed version of frame `brighter`: lower brightness by more than `least_step` (default:
    a ramp step) for every frame between them, and no more contrast."""
    if not 0 <= brighter < video.frame_count:
        return False
    mean, std = video.luma_mean, video.luma_std
    step = float(mean[brighter] - mean[darker])
    per_frame = max(RAMP_STEP, 0.01 * float(mean[brighter])) if least_step is None else least_step
    return step > abs(darker - brighter) * per_frame and std[darker] <= std[brighter] * 1.05 + 0.5


def _on_ramp(video: VideoFeatures, index: int, towards_black: int, trend: int | None) -> bool:
    """Frame `index` is dimmer than its neighbour away from the black (`towards_black`, -1 or +1, is where the
    black lies), frame to frame or, for a slow fade whose frame steps drown in noise, over `trend` frames."""
    if _darker(video, index - towards_black, index):
        return True
    return trend is not None and _darker(video, index - towards_black * trend, index, RAMP_TREND_STEP)


def _slow_trend(video: VideoFeatures, black: int, outside: int, trend: int) -> int | None:
    """`trend` when the picture meets the black gently (a slow fade), None when it steps in or out of it: then the
    pictures beyond are a shot of their own, whose lighting may drift any way it likes."""
    if not 0 <= outside < video.frame_count:
        return None
    return trend if float(video.luma_mean[outside] - video.luma_mean[black]) < GENTLE_EDGE else None


def _fades(video: VideoFeatures, scores: np.ndarray, frames_per_s: float, taken: np.ndarray) -> list[_Boundary]:
    """Each run of black frames, widened by the ramps either side of it, is one fade."""
    count = video.frame_count
    black = (video.luma_mean <= BLACK_MEAN) & (video.luma_std <= BLACK_STD)
    limit = max(1, round(MAX_FADE_S * frames_per_s))
    flash = max(1, round(FLASH_S * frames_per_s))
    trend = max(2, round(RAMP_TREND_S * frames_per_s))
    fades = []
    for black_start, black_stop in true_runs(black):
        first = black_start
        down_trend = _slow_trend(video, black_start, black_start - 1, trend)
        while first > 1 and black_start - first < limit and _on_ramp(video, first - 1, +1, down_trend):
            first -= 1  # frame first - 1 is dimmer than the one before it: still on the ramp down
        new = black_stop
        up_trend = _slow_trend(video, black_stop - 1, black_stop, trend)
        while new + 1 < count and new - black_stop < limit and _on_ramp(video, new, -1, up_trend):
            new += 1  # the next frame is brighter, with no less contrast: still on the ramp up
        if black_start == 0 or black_stop == count:
            taken[first : new + 1] = True
            fades.extend(_leader_or_tail(video, first, black_start, black_stop, new))
            continue
        blink = first == black_start and new == black_stop and black_stop - black_start <= flash
        if blink and _distance(video, black_start - 1, black_stop) < scores[black_start] / 3:
            continue  # a dropped or black frame inside one shot: the flash test deals with it
        taken[first : new + 1] = True
        contrast = max(float(video.luma_std[first - 1]), float(video.luma_std[new]), 1e-6)
        drop = 1 - float(video.luma_std[black_start:black_stop].min()) / contrast
        fades.append(_Boundary(new, first, "fade", min(1.0, max(0.0, drop))))
    return fades


def _leader_or_tail(video: VideoFeatures, first: int, black_start: int, black_stop: int, new: int
                    ) -> list[_Boundary]:
    """Black that opens or ends the range is a shot of its own: an editor looks for the fade out at the end of a
    programme as for any other. The boundary is a fade where the picture ramps into or out of the black, else a
    cut; a range that is black throughout has none."""
    if black_start == 0 and black_stop < video.frame_count:
        kind = "fade" if new > black_stop else "cut"
        return [_Boundary(new, 0 if kind == "fade" else new, kind, 1.0)]
    if black_start > 0:
        kind = "fade" if first < black_start else "cut"
        return [_Boundary(black_start, first, kind, 1.0)]
    return []


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
    for core_start, core_stop in true_runs((smooth >= thresholds.gradual_floor) & free):
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


def _neighbour_mean(change: np.ndarray, half: int) -> np.ndarray:
    """Per frame, the mean change of the `half` frames either side of it (itself left out; fewer at the ends)."""
    padded = np.concatenate((np.zeros(half), change, np.zeros(half)))
    present = np.concatenate((np.zeros(half), np.ones(len(change)), np.zeros(half)))
    window = np.ones(2 * half + 1)
    window[half] = 0
    total = np.convolve(padded, window, mode="valid")
    count = np.convolve(present, window, mode="valid")
    return total / np.maximum(count, 1)


def _picture_distance(video: VideoFeatures, a: int, b: int) -> float:
    """Mean absolute difference of two frames' 16×9 pictures, in levels."""
    return float(np.abs(video.pictures[a].astype(np.int16) - video.pictures[b]).mean())


def _is_excursion(video: VideoFeatures, index: int, frames: int) -> bool:
    """The spike at `index` lies inside a short excursion: a picture from at most `frames` frames before it comes
    back (closer than a third of the spike) at most `frames + 1` frames later: a flash, a strobe, a dropped frame."""
    bar = _picture_distance(video, index - 1, index) / 3
    for before in range(max(0, index - frames), index):
        for after in range(index, min(video.frame_count, before + frames + 2)):
            if _picture_distance(video, before, after) < bar:
                return True
    return False


def _hard_cuts(video: VideoFeatures, frames_per_s: float, thresholds: ShotThresholds, taken: np.ndarray
               ) -> list[_Boundary]:
    """Colour-change spikes above the floor and `cut_ratio` times their neighbours that are not flashes."""
    change = video.colour_change.astype(np.float64)
    level = np.maximum(_neighbour_mean(change, NEIGHBOUR_FRAMES), MIN_NEIGHBOUR_CHANGE)
    moved = video.aligned_change < MOVED_NOT_CHANGED * change  # a shift of the picture explains the change
    spikes = (change >= thresholds.cut_floor) & (change >= thresholds.cut_ratio * level) & ~moved & ~taken
    spikes[0] = False  # frame 0 has no predecessor
    flash = max(1, round(FLASH_S * frames_per_s))
    return [
        _Boundary(index, index, "cut", min(1.0, (change[index] - level[index]) / CERTAIN_CUT_LEVELS))
        for index in np.flatnonzero(spikes).tolist()
        if not _is_excursion(video, index, flash)
    ]


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
