"""Shots and transitions from the one-pass features: hard cuts, fades, dissolves; flashes are not cuts.

Detectors (all on `VideoFeatures`, no decoding):

- Hard cut at frame i: `cut_score[i]` (histogram distance to the previous frame) is a spike: above an absolute
  floor and `ratio` times the median of its neighbours within ±`WINDOW` frames (so busy footage raises its own
  bar, PySceneDetect's AdaptiveDetector idea). `sensitivity` (0–1, default 0.5) sets both:
  floor = 0.45 − 0.30·s (0.30 at the default) and ratio = 5 − 3·s (3.5 at the default).
- A weak spike (under `HARD_CUT_RESET`) must change most of the frame by the background model too, else it is a
  subject moving or the exposure adjusting inside one shot.
- Flash or strobe: a spike whose picture comes back within `FLASH_FRAMES` frames, i.e. the histogram before the
  spike matches one shortly after (distance under a third of the spike's): no cut.
- Fade: black frames (mean luma < `BLACK_LUMA` and contrast < `BLACK_STD` on the 0–255 thumbnail) with the
  brightness ramping down before them and/or up after; one "fade" transition from the start of the ramp down to
  the first frame of the new picture. Spikes inside it are part of the fade.
- Dissolve: at least `DISSOLVE_MIN_FRAMES` consecutive frames of moderate, steady change (cut score between a
  noise floor and the cut floor, varying by under `DISSOLVE_MAX_VARIATION` of its mean) whose end pictures differ
  by more than the cut floor: one "dissolve" transition. The steadiness test is a heuristic: it keeps exposure
  drift and subjects crossing a locked-off shot from reading as dissolves.
- Shots shorter than `MIN_SHOT_S` are merged into their neighbour (a double-triggered cut is one cut).

Shots tile [first frame, end]; each boundary is the first frame of the new shot (the end of a gradual
transition), exactly as the container times it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from reelmark.core.engines.signals.context import ShotBoundaries, Transition
from reelmark.core.engines.signals.features import HARD_CUT_RESET, VideoFeatures
from reelmark.core.results import Moment, MomentKind, TimeSpan

WINDOW = 12
FLASH_FRAMES = 4
BLACK_LUMA = 28.0
BLACK_STD = 10.0
DISSOLVE_MIN_FRAMES = 5
DISSOLVE_NOISE = 0.08
DISSOLVE_MAX_VARIATION = 0.3
"""A cross-fade changes the picture by the same amount each frame (coefficient of variation ≈ 0.1 measured);
auto-exposure drift and a subject crossing a static shot change it erratically (≈ 0.4 on the corpus car park)."""
MIN_SHOT_S = Fraction(1, 4)
WHOLE_FRAME_CHANGE = 0.5
"""A weak cut (histogram distance under `HARD_CUT_RESET`) must also change at least this share of the picture
against the exposure-compensated background; in the corpus car park a large white car alone moves the histogram
by 0.3 while changing 16 % of the frame."""


@dataclass(frozen=True)
class _Boundary:
    frame: int
    """First frame of the new shot."""
    first: int
    """First frame of the transition (== frame for a cut)."""
    kind: str
    score: float


def _distance(histograms: np.ndarray, a: int, b: int) -> float:
    return 0.5 * float(np.abs(histograms[a] - histograms[b]).sum())


def _thresholds(sensitivity: float) -> tuple[float, float]:
    if not 0 <= sensitivity <= 1:
        raise ValueError(f"shot sensitivity must lie between 0 and 1, not {sensitivity}")
    return 0.45 - 0.30 * sensitivity, 5.0 - 3.0 * sensitivity


def _is_flash(video: VideoFeatures, index: int, floor: float) -> bool:
    """The spike lies inside a short excursion: some picture shortly before it comes back shortly after it (a
    flash, a strobe, a dropped frame). Checked from both sides, so neither the jump into the flash nor the jump
    back out of it counts as a cut."""
    bar = max(floor, float(video.cut_score[index])) / 3
    for before in range(max(0, index - FLASH_FRAMES), index):
        for after in range(index, min(video.frame_count, before + FLASH_FRAMES + 2)):
            if _distance(video.histograms, before, after) < bar:
                return True
    return False


def _hard_cuts(video: VideoFeatures, floor: float, ratio: float) -> list[_Boundary]:
    scores = video.cut_score
    cuts = []
    for index in range(1, video.frame_count):
        score = float(scores[index])
        if score < floor:
            continue
        neighbours = np.concatenate([scores[max(1, index - WINDOW) : index], scores[index + 1 : index + 1 + WINDOW]])
        local = float(np.median(neighbours)) if len(neighbours) else 0.0
        if score < ratio * local or _is_flash(video, index, floor):
            continue
        if score < HARD_CUT_RESET and video.foreground_fraction[index] < WHOLE_FRAME_CHANGE:
            continue  # a weak change confined to part of a steady scene: a subject or exposure, not a new shot
        cuts.append(_Boundary(index, index, "cut", min(1.0, score)))
    return cuts


def _black(video: VideoFeatures) -> np.ndarray:
    return (video.luma_mean < BLACK_LUMA) & (video.luma_std < BLACK_STD)


def _fades(video: VideoFeatures) -> list[_Boundary]:
    """Each run of black frames, widened by the brightness ramps on either side, is one fade."""
    black = _black(video)
    fades = []
    index = 0
    while index < video.frame_count:
        if not black[index]:
            index += 1
            continue
        run_start = index
        while index < video.frame_count and black[index]:
            index += 1
        brightest = run_start
        while brightest > 0 and video.luma_mean[brightest - 1] > video.luma_mean[brightest] + 0.5:
            brightest -= 1  # walk back up the ramp into black to the last steady frame
        first = brightest + 1 if brightest < run_start else run_start
        last = index  # first frame after the black run
        while last + 1 < video.frame_count and video.luma_mean[last + 1] > video.luma_mean[last] + 0.5 and (
            video.cut_score[last + 1] < 0.5
        ):
            last += 1  # a ramp up out of black
        if run_start == 0 and first == 0 and index >= video.frame_count:
            continue  # all black: nothing to fade between
        new_shot = min(last, video.frame_count - 1) if index < video.frame_count else video.frame_count
        fades.append(_Boundary(new_shot, first, "fade", 1.0))
    return fades


def _dissolves(video: VideoFeatures, floor: float, taken: list[tuple[int, int]]) -> list[_Boundary]:
    scores = video.cut_score
    dissolves = []
    index = 1
    while index < video.frame_count:
        if not DISSOLVE_NOISE <= scores[index] < max(floor, DISSOLVE_NOISE * 2):
            index += 1
            continue
        first = index
        while index < video.frame_count and DISSOLVE_NOISE <= scores[index] < max(floor, 0.6):
            index += 1
        length = index - first
        inside_other = any(start <= first <= stop for start, stop in taken)
        run = scores[first:index]
        steady = float(run.std()) < DISSOLVE_MAX_VARIATION * float(run.mean())
        if length >= DISSOLVE_MIN_FRAMES and steady and not inside_other:
            end = index - 1  # the last changing frame is the first one wholly new
            change = _distance(video.histograms, first - 1, end)
            if change >= floor:
                dissolves.append(_Boundary(end, first, "dissolve", min(1.0, change)))
    return dissolves


def detect_shots(video: VideoFeatures, sensitivity: float = 0.5) -> ShotBoundaries:
    """Shots and transitions of the analysed range; see the module docstring for the detectors."""
    floor, ratio = _thresholds(sensitivity)
    if video.frame_count == 0:
        return ShotBoundaries((), ())
    fades = _fades(video)
    spans = [(boundary.first, boundary.frame) for boundary in fades]
    dissolves = _dissolves(video, floor, spans)
    spans += [(boundary.first, boundary.frame) for boundary in dissolves]
    cuts = [cut for cut in _hard_cuts(video, floor, ratio) if not any(a <= cut.frame <= b for a, b in spans)]
    boundaries = sorted(fades + dissolves + cuts, key=lambda boundary: boundary.frame)
    kept: list[_Boundary] = []
    previous_start = video.times[0]
    for boundary in boundaries:
        if boundary.frame >= video.frame_count or boundary.frame <= 0:
            continue
        if video.times[boundary.frame] - previous_start < MIN_SHOT_S:
            if kept and boundary.score > kept[-1].score:
                kept[-1] = boundary  # two triggers for one change: keep the stronger
            continue
        kept.append(boundary)
        previous_start = video.times[boundary.frame]
    starts = [video.times[0]] + [video.times[boundary.frame] for boundary in kept]
    ends = starts[1:] + [video.end]
    shots = tuple(TimeSpan(start, end) for start, end in zip(starts, ends, strict=True))
    transitions = tuple(
        Transition(TimeSpan(video.times[boundary.first], video.times[boundary.frame]), boundary.kind, boundary.score)  # type: ignore[arg-type]
        for boundary in kept
    )
    return ShotBoundaries(shots, transitions)


def shot_moments(shots: ShotBoundaries) -> list[Moment]:
    """A shot moment per shot (scored by the boundary that starts it) and a transition moment per gradual one."""
    scores = [1.0] + [transition.score for transition in shots.transitions]
    moments = [
        Moment(MomentKind.SHOT, shot, label=f"shot {number}", score=scores[number - 1])
        for number, shot in enumerate(shots.shots, start=1)
    ]
    gradual = [transition for transition in shots.transitions if transition.kind != "cut"]
    moments += [
        Moment(MomentKind.TRANSITION, transition.span, label=f"{transition.kind} {number}", score=transition.score)
        for number, transition in enumerate(gradual, start=1)
    ]
    return moments
