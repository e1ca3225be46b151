"""Highlights: the most exciting stretches of the analysed range, cut where an editor would cut.

Scoring. Each available source becomes a curve in [0, 1] on a common grid of `GRID` cells over [start, end]:

- audio (`ctx.audio`, weight 0.35): short-term (3 s) loudness relative to the programme's integrated loudness,
  each window placed at its centre; `EXCITEMENT_FLOOR_LU` (−10 LU) maps to 0, `EXCITEMENT_CEILING_LU` (+5 LU) to
  1, so the programme's ordinary level reads 2/3 and only what rises above it reaches 1. Relative loudness is
  what an audience hears as excitement, and it cancels the mono-downmix offset (see `audio_features`). Drops
  out when nothing passes the loudness gates (integrated loudness None);
- motion (`ctx.video.motion`, weight 0.30): `split.scaled_motion`, median-filtered per frame and scaled from the
  clip's median (0) to its 98th percentile (1);
- people (`ctx.people`, weight 0.15): where any person or face moment is on screen, 1 less the share of the range
  with someone on screen (being in view is remarkable when it is rare: on a camera that shows people most of the
  time, their comings and goings, seen in the motion, are the events);
- cut density (`ctx.shots`, weight 0.10): shot boundaries within ±`CUT_WINDOW_S`/2, as a rate, full at
  `FULL_CUT_RATE` (a cut every second, trailer pace; shots of ordinary length read 0.2–0.4);
- speech (`ctx.audio.speech` joined with the subtitle cues, weight 0.10): 1 inside speech; what is said often
  matters, the weight is low because speech alone is not action;
- said (the transcription's sentences, where the analysis ran `transcribe`): each sentence's
  `salience.sentence_scores` (how central it is to what the recording talks about, times its substance) over its
  words. Weight `SAID_WEIGHT` (0.2); on a speech-heavy recording (the transcribed words' utterances cover at
  least `SPEECH_HEAVY_SHARE` of the range: a podcast, an interview, a lecture) `SPEECH_HEAVY_SAID_WEIGHT` (1.5),
  so there what is said outweighs loudness, motion and cuts together: on a static two-shot at a steady level,
  those differ little, while the talk's main points and its small talk differ a lot.

A missing source drops out and the others' weights are renormalised, so the combined curve (their weighted mean)
stays in [0, 1]. Two changes make it describe what an editor would keep:
- dead picture scores 0: black frames (mean luma ≤ `BLACK_LUMA`) and frozen pictures with nobody in them (motion ≤
  `FROZEN_MOTION` for at least `FROZEN_MIN_S` and no person or face track: a title or end card, a still, an
  empty room);
- the run-up of an event belongs to it: the curve is raised to its own maximum over the next `RUN_UP_S`, so a
  window that starts just before a person comes in scores as well as one that starts when they are in.
A window's score is the mean of the combined curve over it.

Cutting. In and out points are:
- natural points (`split.natural_points`: fades, silences, shot changes; its quiet moments are left to the action
  points, which place the run-up) and speech pauses;
- action points: `RUN_UP_S` before a person/face track starts or the motion rises through `ACTION_LEVEL` (not
  before the start of its shot), and where it stops;
- calm moments (`split.still_points`, the calmest frame of each second where the picture is calm);
- sentence ends and long pauses in the transcription (`split.sentence_points`);
- the ends of the range.
Never a fixed grid, and never strictly inside speech (`split.speech_index`: the transcription's utterances where
there is one, so never inside a word or mid-sentence; else the VAD's spans; joined with the subtitle cues).
Every pair of such points whose distance lies in [`highlight_min_s`, `highlight_max_s`] is a candidate window.

Picking. Windows are taken greedily by how much they hold above the clip's `EXCESS_PERCENTILE` score ((mean −
that level) × length: a whole event beats a slice of its peak, and a calm stretch between two events counts against
a window spanning both), skipping any that comes within `MIN_GAP_S` of one taken (two picks a breath apart are one
pick), has more than `MAX_DEAD_SHARE` dead picture, scores at or below the clip's average (fewer, better picks), or
would exceed the budget, until `highlight_count` are taken. The budget is `highlight_budget_s`, by default
`BUDGET_SHARE` of the range (on a short range up to 2 × `highlight_min_s`, never over `MAX_SHARE` of it; a range
shorter than `highlight_min_s` / `MAX_SHARE` gets none). The picks are then ranked (labels,
`highlight_order=score`) by their score, the window's mean.

Reasons name only what is true of the window: a source whose mean over it reaches `REASON_LEVEL` ("people on
screen" needs person or face tracks over half of it), "a person enters" when a track starts in its first half,
else "a person leaves" when one ends inside it; only inside a shot (`_comings_and_goings`: someone a cut brings is
no entrance).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.ndimage

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.engines.signals.split import (
    CutPoint,
    natural_points,
    pause_points,
    scaled_motion,
    sentence_points,
    shot_changes,
    speech_index,
    still_points,
)
from reelmark.core.engines.signals.salience import sentence_scores
from reelmark.core.engines.signals.spoken import spoken_words
from reelmark.core.results import Moment, MomentKind, TimeSpan
from reelmark.core.times import as_fraction
from reelmark.core.utterances import utterances

GRID = Fraction(1, 10)
ABSENT_LOOKS = 2
"""Looks in a row without a person, inside one shot, that make their first sighting an entrance (their last an
exit): as many as a track needs sightings (`people.track_people`'s `min_sightings`)."""
WEIGHTS = {"audio": 0.35, "motion": 0.30, "people": 0.15, "cuts": 0.10, "speech": 0.10, "said": 0.2}
SAID_WEIGHT = WEIGHTS["said"]
SPEECH_HEAVY_SHARE = 0.5
SPEECH_HEAVY_SAID_WEIGHT = 1.5
REASONS = {"audio": "loud sound", "motion": "fast motion", "people": "people on screen", "cuts": "quick cuts", "speech": "speech",
           "said": "a main point of the talk"}  # fmt: skip
REASON_LEVEL = 0.5
"""A source is named in a highlight's text when its mean over the window reaches this."""
SOME_LEVEL = 0.2
"""If none reaches `REASON_LEVEL`, the strongest is named as "some ..." when its mean reaches this."""
EXCITEMENT_FLOOR_LU = -10.0
EXCITEMENT_CEILING_LU = 5.0
SHORT_TERM_S = 3.0
CUT_WINDOW_S = 6.0
FULL_CUT_RATE = 1.0
BLACK_LUMA = 28.0
"""Mean luma (0–255) at or below which a frame is black (as the shot detector's fades)."""
FROZEN_MOTION = 0.002
"""Motion (mean absolute difference of 64 px thumbnails, /255) at or below which the picture does not change."""
FROZEN_MIN_S = 1.0
ACTION_LEVEL = 0.25
"""`split.scaled_motion` rising through this starts an action."""
RUN_UP_S = 0.5
MIN_GAP_S = 1.0
MAX_DEAD_SHARE = 0.25
BUDGET_SHARE = 0.2
MAX_SHARE = 0.3
STILL_SPACING = Fraction(1)
EXCESS_PERCENTILE = 80
"""Windows rank by how much they hold above this percentile of the clip's score: high enough that a calm stretch
between two events counts against a window spanning both."""


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
        scaled = scaled_motion(video)
        frame = np.searchsorted(video.seconds, centres, side="right") - 1
        on_screen = (frame >= 0) & (centres < float(video.end))
        curves["motion"] = np.where(on_screen, scaled[np.clip(frame, 0, len(scaled) - 1)], 0.0)
    said = sentence_scores(spoken_words(ctx))
    if said:
        curves["said"] = np.zeros(len(centres))
        for span, score, _ in said:
            inside = (centres >= span.start_s) & (centres < span.end_s)
            curves["said"][inside] = np.maximum(curves["said"][inside], score)
    people = _tracks(ctx)
    if people:
        presence = _spans_curve(centres, people)
        curves["people"] = presence * (1 - presence.mean())
    if ctx.shots is not None:
        boundaries = np.array([float(time) for time in ctx.shots.boundary_times])
        near = np.searchsorted(boundaries, centres + CUT_WINDOW_S / 2) - np.searchsorted(boundaries, centres - CUT_WINDOW_S / 2)
        curves["cuts"] = np.minimum(1.0, near / CUT_WINDOW_S / FULL_CUT_RATE)
    return curves


def source_weights(ctx: SignalsContext, curves: dict[str, np.ndarray]) -> dict[str, float]:
    """`WEIGHTS` of the available sources, with "said" raised on a speech-heavy recording (module docstring)."""
    weights = {name: WEIGHTS[name] for name in curves}
    if "said" in weights:
        spoken = sum(span.duration for span in utterances(spoken_words(ctx)))
        if spoken >= (ctx.end - ctx.start) * as_fraction(SPEECH_HEAVY_SHARE):
            weights["said"] = SPEECH_HEAVY_SAID_WEIGHT
    return weights


def dead_cells(ctx: SignalsContext) -> np.ndarray:
    """Per grid cell: True where the picture is black or frozen (see the module docstring)."""
    centres = _cell_centres(ctx)
    video = ctx.video
    if video is None or not video.frame_count:
        return np.zeros(len(centres), dtype=bool)
    black = video.luma_mean <= BLACK_LUMA
    run = max(1, round(FROZEN_MIN_S * float(video.rate)))
    still = video.motion <= FROZEN_MOTION
    span = np.ones(run, dtype=bool)  # an opening that keeps a still stretch touching the range's ends (an end card)
    frozen = scipy.ndimage.binary_dilation(scipy.ndimage.binary_erosion(still, span, border_value=1), span) & still
    for track in _tracks(ctx):
        frozen[(video.seconds >= track.start_s) & (video.seconds < track.end_s)] = False
    frame = np.clip(np.searchsorted(video.seconds, centres, side="right") - 1, 0, video.frame_count - 1)
    return (black | frozen)[frame] | (centres >= float(video.end))


def _with_run_up(ctx: SignalsContext, curve: np.ndarray) -> np.ndarray:
    """Each cell raised to the curve's maximum over the next `RUN_UP_S`, within its shot (a run-up never reaches
    back across a shot change)."""
    cells = max(1, round(RUN_UP_S / float(GRID)))
    padded = np.concatenate([curve, np.zeros(cells)])
    raised = np.max(np.lib.stride_tricks.sliding_window_view(padded, cells + 1), axis=1)
    centres = _cell_centres(ctx)
    for change in shot_changes(ctx):
        before = (centres >= float(change.time) - RUN_UP_S) & (centres < float(change.time))
        raised[before] = curve[before]
    return raised


def _tracks(ctx: SignalsContext) -> list[TimeSpan]:
    return [moment.span for moment in ctx.people if moment.kind in (MomentKind.PERSON, MomentKind.FACE)]


def action_points(ctx: SignalsContext) -> list[CutPoint]:
    """Where something starts — a person or face track, or `split.scaled_motion` rising through `ACTION_LEVEL` —
    less `RUN_UP_S` (but not before the start of its shot), and where it stops; inside (start, end)."""
    spans = list(_tracks(ctx))
    video = ctx.video
    if video is not None and video.frame_count:
        moving, _ = scipy.ndimage.label(scaled_motion(video) >= ACTION_LEVEL)
        for found in scipy.ndimage.find_objects(moving):
            stop = found[0].stop
            end = video.times[stop] if stop < video.frame_count else video.end
            spans.append(TimeSpan(video.times[found[0].start], end))
    run_up = as_fraction(RUN_UP_S)
    times = set()
    for span in spans:
        shot = ctx.shots.shot_at(span.start) if ctx.shots is not None else None
        times.update((max(span.start - run_up, shot.start if shot is not None else ctx.start), span.end))
    return [CutPoint(time, "action") for time in sorted(times) if ctx.start < time < ctx.end]


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


def _cut_points(ctx: SignalsContext, inner: list[CutPoint]) -> list[CutPoint]:
    """The range's ends and `inner` points outside speech, one per time, in time order."""
    speech = speech_index(ctx)
    kept = {point.time: point for point in inner if not speech.inside(point.time)}
    return sorted([CutPoint(ctx.start, "edge"), CutPoint(ctx.end, "edge"), *kept.values()], key=lambda point: point.time)


def _comings_and_goings(ctx: SignalsContext) -> tuple[list[TimeSpan], list[TimeSpan]]:
    """The spans of the person and face tracks that enter, and of those that leave, a shot under way: the detectors
    looked `ABSENT_LOOKS` times inside the same shot before the track's first sighting (after its last) without
    seeing them. A track first seen at its shot's first look came with the cut, which is no entrance (on a music
    video every shot would be "a person enters"), and one missed look is a detector's slip as often as an exit."""
    if ctx.video is None:
        return [], []
    looks = sorted(ctx.video.sampled_times)
    changes = [point.time for point in shot_changes(ctx)]

    def same_shot(a: Fraction, b: Fraction) -> bool:
        return bisect_right(changes, a) == bisect_right(changes, b)

    entrances, exits = [], []
    for track in ctx.people:
        if track.kind not in (MomentKind.PERSON, MomentKind.FACE) or not track.tube:
            continue
        first, last = track.tube[0].time, track.tube[-1].time
        before, after = bisect_left(looks, first), bisect_right(looks, last)
        if before >= ABSENT_LOOKS and same_shot(looks[before - ABSENT_LOOKS], first):
            entrances.append(track.span)
        if after + ABSENT_LOOKS <= len(looks) and same_shot(last, looks[after + ABSENT_LOOKS - 1]):
            exits.append(track.span)
    return entrances, exits


def _reason(
    means: dict[str, float],
    weights: dict[str, float],
    span: TimeSpan,
    comings_and_goings: tuple[list[TimeSpan], list[TimeSpan]],
) -> str:
    """What the window holds, strongest first (module docstring); `comings_and_goings` is `_comings_and_goings`."""
    ranked = sorted(means, key=lambda name: weights[name] * means[name], reverse=True)
    named = [REASONS[name] for name in ranked if means[name] >= REASON_LEVEL]
    half = span.start + span.duration / 2
    entrances, exits = comings_and_goings
    if any(span.start - as_fraction(RUN_UP_S) <= track.start <= half for track in entrances):
        named.insert(0, "a person enters")
    elif any(span.start <= track.end <= span.end for track in exits):
        named.insert(0, "a person leaves")
    if named:
        return ", ".join(named)
    if means[ranked[0]] >= SOME_LEVEL:
        return f"some {REASONS[ranked[0]]}"
    return "livelier than the rest of the clip"


def budget(ctx: SignalsContext) -> Fraction:
    """`highlight_budget_s`, or `BUDGET_SHARE` of the range; on a short range up to twice `highlight_min_s` but never
    over `MAX_SHARE` of it (0 when even one `highlight_min_s` would be)."""
    params = ctx.params
    if params.highlight_budget_s is not None:
        return as_fraction(params.highlight_budget_s)
    length = ctx.end - ctx.start
    minimum = as_fraction(params.highlight_min_s)
    if length * as_fraction(MAX_SHARE) < minimum:
        return Fraction(0)
    return max(length * as_fraction(BUDGET_SHARE), min(length * as_fraction(MAX_SHARE), 2 * minimum))


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
    weights = source_weights(ctx, curves)
    total_weight = sum(weights.values())
    dead = dead_cells(ctx)
    weighted = sum(weights[name] * curve for name, curve in curves.items()) / total_weight
    combined = np.where(dead, 0.0, _with_run_up(ctx, weighted))
    mean = _WindowMeans(ctx.start, combined)
    dead_share = _WindowMeans(ctx.start, dead.astype(np.float64))
    speech = speech_index(ctx)
    natural = [point for point in natural_points(ctx) if point.kind != "quiet"]  # action points mark where events start
    spoken = sentence_points(ctx)
    points = _cut_points(ctx, natural + spoken + pause_points(ctx, speech) + action_points(ctx) + still_points(ctx, STILL_SPACING))
    windows = _candidate_windows(points, params.highlight_min_s, params.highlight_max_s, mean)
    limit = budget(ctx)
    if limit == 0:
        ctx.diagnostics.append(
            f"highlights: the range is too short for a {params.highlight_min_s:g} s highlight within"
            f" {MAX_SHARE:.0%} of it; give --param highlight_budget_s to ask for one anyway"
        )
    floor = float(combined.mean())
    level = float(np.percentile(combined, EXCESS_PERCENTILE))
    gap = as_fraction(MIN_GAP_S)
    chosen: list[tuple[float, TimeSpan]] = []
    used = Fraction(0)
    times = [point.time for point in points]

    def excess(window: tuple[float, int, int]) -> float:
        """How much the window holds above the clip's average: whole events beat a slice of their peak."""
        return (window[0] - level) * float(times[window[2]] - times[window[1]])

    for score, first, last in sorted(windows, key=lambda window: (-excess(window), window[1], window[2])):
        if len(chosen) == params.highlight_count:
            break
        if score <= floor:
            continue
        span = TimeSpan(times[first], times[last])
        if used + span.duration > limit:
            continue
        if any(span.start < other.end + gap and other.start < span.end + gap for _, other in chosen):
            continue
        if dead_share(np.array([span.start_s]), np.array([span.end_s]))[0] > MAX_DEAD_SHARE:
            continue
        chosen.append((score, span))
        used += span.duration
    chosen.sort(key=lambda pick: -pick[0])
    source_means = {name: _WindowMeans(ctx.start, curve) for name, curve in curves.items()}
    comings_and_goings = _comings_and_goings(ctx)
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
                text=_reason(means, weights, span, comings_and_goings),
            )
        )
    if params.highlight_order == "chronological":
        moments.sort(key=lambda moment: moment.span.start)
    return moments
