"""Smart split: cut the analysed range into segments of about the target length at natural points.

The target is `split_target_s`, or when that is None one chosen from the range's length (`AUTO_TARGETS`:
short-form lengths for short clips), so a two-minute clip splits into a handful of segments rather than one.

Where a cut may go, ranked from best to worst (`POINT_COSTS`; shared with `highlights` and `reframe`):

- a fade's black frame (`transition_point`: the darkest frame inside a fade, the middle of a dissolve) and a
  silence (a point `SILENCE_INSET_S` after its start, its middle and one `SILENCE_INSET_S` before its end: the
  inset keeps a cut clear of the measurement's 100 ms grid) — nothing is seen or heard across the cut;
- a hard cut (a shot start that no gradual transition covers);
- on silent footage, a quiet moment: where the picture is calm and nobody is in view for at least `QUIET_MIN_S`
  (the room empties), at the middle of that stretch (`quiet_points`), read from the motion curve, the background
  model's foreground share (something still but present, a resting hand, is not an empty room) and people tracks;
- a sentence end in the transcription (the middle of the gap after a word ending in `.?!…`), nearly as good: the
  listener hears a thought end; then a long pause between transcribed words (`core.utterances.LONG_PAUSE_S`);
- a pause in speech (where speech starts or stops);
- a low-motion moment (`still_points`: the calmest frame of each `STILL_SPACING_PER_TARGET` of the target,
  from the median-filtered motion curve), used where none of the above is near;
- a grid point every T/4 — only where no other point lies within `GRID_TOLERANCE` × T, and the segment's text
  then says it ends on a grid point.

Never inside speech (strictly inside: a cut where speech starts or stops is fine). Speech is the transcription's
utterances where the analysis transcribed (`transcribe`; words joined up to a sentence end or a long pause, so a
cut never falls inside a word or mid-sentence), else what the VAD found, joined with the subtitle cues (`ctx.cues`): a cue is a line being said, so where cues exist no cut lands
mid-sentence even if the VAD missed it. A candidate inside speech is dropped when any candidate outside speech
lies within T/2 of it: a mid-speech cut remains only where speech runs on with no alternative in reach.

Splitting is a shortest path over the candidates, start to end, solved by dynamic programming. A segment of length
L costs ((L − T)/T)². A cut point costs what its kind is worth relative to the best kind within T/2 (so the kind
decides between nearby alternatives and the target decides how many segments there are; an absolute charge per
cut would make fewer, longer segments cheaper wherever only poor points exist). The segments tile [start, end].
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import scipy.ndimage

from reelmark.core.engines.signals.context import SignalsContext, Transition
from reelmark.core.engines.signals.features import VideoFeatures
from reelmark.core.engines.signals.spoken import spoken_words
from reelmark.core.results import Moment, MomentKind, TimeSpan
from reelmark.core.times import as_fraction
from reelmark.core.utterances import speech_breaks, utterances

SILENCE_INSET_S = Fraction(1, 5)
GRID_PER_TARGET = 4
GRID_TOLERANCE = 0.25
"""A grid point is offered only where no natural point lies within this share of the target."""
REACH_PER_TARGET = 3
"""Segments longer than this many targets are not considered (a grid point is always nearer than that)."""
QUIET_MIN_S = 1.0
"""A stretch with nothing moving and nobody in view must last this long to count as the room emptying."""
QUIET_MOTION = 0.1
"""`scaled_motion` at or below this is calm."""
QUIET_FOREGROUND = 1.5
"""A calm stretch is also empty only where the background model's foreground share is at most this many times the
clip's median (or `QUIET_FOREGROUND_FLOOR`): a hand resting on a table moves nothing but is still in view (its
share stays about twice the median in the corpus bottle clip). Measured on the labelled clips: 1.25 to 2 give the
same points, 3 lets the resting hand through."""
QUIET_FOREGROUND_FLOOR = 0.01
"""A foreground share this small is noise whatever the median (a clip that is nearly always empty has a median
near zero)."""
MOTION_MEDIAN_FRAMES = 5
MOTION_MIN_RANGE = 0.01
STILL_SPACING_PER_TARGET = 8
"""One low-motion point per this share of the target (at least one a second)."""
STILL_SMOOTH_S = 1.0
"""`scaled_motion` is averaged over this long before its calmest frames are taken."""
AUTO_TARGETS: tuple[tuple[float, float], ...] = ((120.0, 15.0), (600.0, 30.0), (1800.0, 60.0), (3600.0, 120.0))
"""(range up to s, target s) when `split_target_s` is None; longer ranges aim at `AUTO_LONG_TARGET_S`."""
AUTO_LONG_TARGET_S = 300.0

PointKind = Literal["fade", "silence", "sentence", "shot", "quiet", "long pause", "pause", "action", "still", "grid", "edge"]
POINT_COSTS: dict[PointKind, float] = {
    "fade": 0.0, "silence": 0.0, "sentence": 0.05, "shot": 0.1, "quiet": 0.15, "long pause": 0.2, "pause": 0.3,
    "action": 0.3, "still": 0.5, "grid": 1.0, "edge": 0.0,
}  # fmt: skip
POINT_WORDS: dict[PointKind, str] = {
    "fade": "a fade through black",
    "silence": "a silence",
    "shot": "a shot change",
    "quiet": "a quiet moment (nothing moves, nobody in view)",
    "sentence": "a sentence end",
    "long pause": "a long pause in speech",
    "pause": "a pause in speech",
    "action": "an action's start or end",
    "still": "a low-motion moment",
    "grid": "a grid point (no natural point near)",
    "edge": "the end of the range",
}


@dataclass(frozen=True)
class CutPoint:
    time: Fraction
    kind: PointKind


class SpanIndex:
    """Point-in-span queries in O(log n); overlapping or touching spans are merged first."""

    def __init__(self, spans: Iterable[TimeSpan]):
        merged: list[TimeSpan] = []
        for span in sorted(spans, key=lambda span: span.start):
            if merged and span.start <= merged[-1].end:
                previous = merged.pop()
                span = TimeSpan(previous.start, max(previous.end, span.end))
            merged.append(span)
        self.spans = merged
        self.starts = [span.start for span in merged]

    def inside(self, time: Fraction) -> bool:
        """Strictly inside a span (a span's own ends are outside)."""
        index = bisect.bisect_left(self.starts, time) - 1
        return index >= 0 and time < self.spans[index].end

    def contains(self, time: Fraction) -> bool:
        """Inside a span or on one of its ends."""
        index = bisect.bisect_right(self.starts, time) - 1
        return index >= 0 and time <= self.spans[index].end


def speech_index(ctx: SignalsContext) -> SpanIndex:
    """Speech as the transcription's words say (`utterances`: a gap after a sentence end or a long pause is not
    speech), else as the VAD heard it; joined with the subtitle cues either way."""
    words = spoken_words(ctx)
    heard = utterances(words) if words else (ctx.audio.speech if ctx.audio is not None else ())
    return SpanIndex([*heard, *(TimeSpan(cue.start, cue.end) for cue in ctx.cues if cue.end > cue.start)])


def sentence_points(ctx: SignalsContext) -> list[CutPoint]:
    """The middle of the gap after every sentence end ("sentence") and of every long pause ("long pause") in the
    transcribed words, inside (start, end)."""
    kinds: dict[str, PointKind] = {"sentence": "sentence", "pause": "long pause"}
    return [CutPoint(time, kinds[kind]) for time, kind in speech_breaks(spoken_words(ctx)) if ctx.start < time < ctx.end]


def split_target(ctx: SignalsContext) -> Fraction:
    """`split_target_s`, or the `AUTO_TARGETS` length for the analysed range when it is None."""
    if ctx.params.split_target_s is not None:
        return as_fraction(ctx.params.split_target_s)
    duration = float(ctx.end - ctx.start)
    return as_fraction(next((target for up_to, target in AUTO_TARGETS if duration <= up_to), AUTO_LONG_TARGET_S))


def transition_point(ctx: SignalsContext, transition: Transition) -> Fraction:
    """Where an editor cuts in a transition: a cut's own time, a fade's darkest frame, a dissolve's middle."""
    span = transition.span
    if transition.kind == "cut" or span.duration == 0:
        return span.start
    video = ctx.video
    if transition.kind == "fade" and video is not None and video.frame_count:
        first, last = video.index_at(span.start), video.index_at(span.end)
        darkest = first + int(np.argmin(video.luma_mean[first : last + 1]))
        return video.times[darkest]
    return span.start + span.duration / 2


def shot_changes(ctx: SignalsContext) -> list[CutPoint]:
    """Where one picture gives way to the next, inside (start, end): each transition's `transition_point` (kind
    "fade" for a gradual one), and any shot start that no transition accounts for (kind "shot")."""
    if ctx.shots is None:
        return []
    points = {transition_point(ctx, t): ("shot" if t.kind == "cut" else "fade") for t in ctx.shots.transitions}
    covered = [t.span for t in ctx.shots.transitions]
    for shot in ctx.shots.shots[1:]:
        if not any(span.start <= shot.start <= span.end for span in covered):
            points.setdefault(shot.start, "shot")
    return [CutPoint(time, kind) for time, kind in sorted(points.items()) if ctx.start < time < ctx.end]


def scaled_motion(video: VideoFeatures) -> np.ndarray:
    """Per-frame motion, median-filtered over `MOTION_MEDIAN_FRAMES` frames (a cut is a one-frame spike of picture
    change, not motion) and scaled from the clip's median (0) to its 98th percentile (1), with a span of at least
    `MOTION_MIN_RANGE` so that the grain of a static clip is not blown up into action."""
    motion = scipy.ndimage.median_filter(video.motion.astype(np.float64), MOTION_MEDIAN_FRAMES, mode="constant")
    typical, high = np.percentile(motion, [50, 98])
    return np.clip((motion - typical) / max(high - typical, MOTION_MIN_RANGE), 0, 1)


def _silent(ctx: SignalsContext) -> bool:
    """No audio, or nothing above the loudness gates: silences tell nothing there."""
    return ctx.audio is None or ctx.audio.integrated_lufs is None


def quiet_points(ctx: SignalsContext) -> list[CutPoint]:
    """On silent footage (no audio, or nothing above the loudness gates), the middle of every stretch of at least
    `QUIET_MIN_S` inside one shot where the picture is calm (`scaled_motion` at most `QUIET_MOTION`), no more of it
    differs from the background than usual (`QUIET_FOREGROUND`) and no person or face track is in view: the room
    has emptied. Inside (start, end); empty without video, and where there is
    sound (silences and pauses serve there)."""
    video = ctx.video
    if not _silent(ctx) or video is None or not video.frame_count:
        return []
    empty_share = max(QUIET_FOREGROUND * float(np.median(video.foreground_fraction)), QUIET_FOREGROUND_FLOOR)
    quiet = (scaled_motion(video) <= QUIET_MOTION) & (video.foreground_fraction <= empty_share)
    for track in ctx.people:
        if track.kind in (MomentKind.PERSON, MomentKind.FACE):
            quiet[(video.seconds >= track.span.start_s) & (video.seconds < track.span.end_s)] = False
    for change in shot_changes(ctx):
        quiet[video.index_at(change.time)] = False
    regions, _ = scipy.ndimage.label(quiet)
    points = []
    for found in scipy.ndimage.find_objects(regions):
        first, stop = found[0].start, found[0].stop
        end = video.times[stop] if stop < video.frame_count else video.end
        if end - video.times[first] >= as_fraction(QUIET_MIN_S):
            points.append(CutPoint(video.times[(first + stop) // 2], "quiet"))
    return [point for point in points if ctx.start < point.time < ctx.end]


def natural_points(ctx: SignalsContext) -> list[CutPoint]:
    """Fades, silences (where there is sound at all), shot changes and quiet moments inside (start, end), without
    speech filtering; sorted by time, one per time (the better kind wins)."""
    points: dict[Fraction, PointKind] = {}
    silences = SpanIndex(() if _silent(ctx) else ctx.audio.silence)
    for point in quiet_points(ctx):
        points[point.time] = point.kind
    for point in shot_changes(ctx):
        points[point.time] = "silence" if point.kind == "shot" and silences.contains(point.time) else point.kind
    for span in silences.spans:
        inset = min(SILENCE_INSET_S, span.duration / 4)
        for time in (span.start + inset, (span.start + span.end) / 2, span.end - inset):
            if points.get(time) != "fade":
                points[time] = "silence"
    return [CutPoint(time, kind) for time, kind in sorted(points.items()) if ctx.start < time < ctx.end]


def pause_points(ctx: SignalsContext, speech: SpanIndex) -> list[CutPoint]:
    """Where speech starts and stops, inside (start, end)."""
    times = {time for span in speech.spans for time in (span.start, span.end) if ctx.start < time < ctx.end}
    return [CutPoint(time, "pause") for time in sorted(times)]


def still_points(ctx: SignalsContext, spacing: Fraction) -> list[CutPoint]:
    """The calmest frame of every `spacing` of the range (`scaled_motion` averaged over `STILL_SMOOTH_S`), where it
    is calm (at most `QUIET_MOTION`); empty without video."""
    video = ctx.video
    if video is None or video.frame_count < 3:
        return []
    motion = scipy.ndimage.uniform_filter1d(scaled_motion(video), max(1, round(STILL_SMOOTH_S * float(video.rate))))
    points = []
    step = float(max(spacing, Fraction(1)))
    for low in np.arange(float(ctx.start), float(ctx.end), step):
        frames = np.nonzero((video.seconds > low) & (video.seconds < low + step) & (video.seconds < float(ctx.end)))[0]
        if len(frames) and motion[calmest := int(frames[np.argmin(motion[frames])])] <= QUIET_MOTION:
            points.append(CutPoint(video.times[calmest], "still"))
    return [point for point in points if ctx.start < point.time < ctx.end]


def grid_points(ctx: SignalsContext, step: Fraction, away_from: Sequence[CutPoint], reach: Fraction) -> list[CutPoint]:
    """Every `step` from the start, leaving out those within `reach` of a point in `away_from`."""
    count = math.ceil((ctx.end - ctx.start) / step)
    others = np.array(sorted(float(point.time) for point in away_from))
    times = (ctx.start + index * step for index in range(1, count))
    return [CutPoint(time, "grid") for time in times if not _any_within(others, float(time), float(reach))]


def _within(times: np.ndarray, time: float, reach: float) -> slice:
    """The slice of sorted `times` within `reach` of `time`."""
    return slice(int(np.searchsorted(times, time - reach)), int(np.searchsorted(times, time + reach, side="right")))


def _any_within(times: np.ndarray, time: float, reach: float) -> bool:
    window = _within(times, time, reach)
    return window.stop > window.start


def _candidates(ctx: SignalsContext, target: Fraction, speech: SpanIndex) -> tuple[list[CutPoint], np.ndarray]:
    """Inner cut points in time order and their relative costs (see the module docstring)."""
    natural = pause_points(ctx, speech) + sentence_points(ctx) + natural_points(ctx)
    if not _covers(natural, ctx, target * Fraction(GRID_TOLERANCE)):
        natural = still_points(ctx, target / STILL_SPACING_PER_TARGET) + natural
    by_time: dict[Fraction, CutPoint] = {}
    for point in grid_points(ctx, target / GRID_PER_TARGET, natural, target * Fraction(GRID_TOLERANCE)) + natural:
        by_time[point.time] = point  # later, better kinds replace earlier ones at the same time
    points = sorted(by_time.values(), key=lambda point: point.time)
    reach = float(target) / 2
    clear = np.array([float(point.time) for point in points if not speech.inside(point.time)])
    points = [point for point in points if not speech.inside(point.time) or not _any_within(clear, float(point.time), reach)]
    times = np.array([float(point.time) for point in points])
    kind_costs = np.array([POINT_COSTS[point.kind] for point in points])
    costs = np.array([cost - kind_costs[_within(times, time, reach)].min() for time, cost in zip(times, kind_costs, strict=True)])
    return points, costs


def _covers(points: Sequence[CutPoint], ctx: SignalsContext, reach: Fraction) -> bool:
    """Whether every moment of (start, end) has one of `points` within `reach` (no gap longer than 2 × reach)."""
    times = [ctx.start, *sorted(point.time for point in points), ctx.end]
    return all(b - a <= 2 * reach for a, b in itertools.pairwise(times))


def smart_split(ctx: SignalsContext) -> list[Moment]:
    """Segments that tile [ctx.start, ctx.end], each about the target long, cut at the cheapest points."""
    target = split_target(ctx)
    if target <= 0:
        raise ValueError(f"split_target_s must be positive, got {ctx.params.split_target_s}")
    speech = speech_index(ctx)
    inner, inner_costs = _candidates(ctx, target, speech)
    points = [CutPoint(ctx.start, "edge"), *inner, CutPoint(ctx.end, "edge")]
    costs = np.concatenate([[0.0], inner_costs, [0.0]])
    times = np.array([float(point.time) for point in points])
    target_s = float(target)
    best = np.full(len(points), np.inf)
    best[0] = 0.0
    previous = np.zeros(len(points), dtype=int)
    for index in range(1, len(points)):
        first = max(0, int(np.searchsorted(times, times[index] - REACH_PER_TARGET * target_s)))
        first = min(first, index - 1)  # always reachable from the point before
        totals = best[first:index] + ((times[index] - times[first:index]) / target_s - 1) ** 2
        choice = int(np.argmin(totals))
        best[index] = totals[choice] + costs[index]
        previous[index] = first + choice
    chain = [len(points) - 1]
    while chain[-1] != 0:
        chain.append(int(previous[chain[-1]]))
    chain.reverse()
    moments = []
    for number, (left, right) in enumerate(itertools.pairwise(chain), start=1):
        span = TimeSpan(points[left].time, points[right].time)
        ending = "mid-speech" if speech.inside(span.end) else f"at {POINT_WORDS[points[right].kind]}"
        moments.append(
            Moment(MomentKind.SEGMENT, span, label=f"segment {number}", text=f"{float(span.duration):.1f} s, ends {ending}")
        )
    return moments
