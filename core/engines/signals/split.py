"""Smart split: cut the analysed range into segments of about `split_target_s` at natural points.

Where a cut may go (shared with `highlights`):

- natural points: every shot boundary (`ShotBoundaries.boundary_times`) and, in every silence span, a point
  `SILENCE_INSET_S` after its start, its middle and a point `SILENCE_INSET_S` before its end (the inset keeps
  a cut clear of the measurement's 100 ms grid at the span's edges);
- never inside speech (strictly inside: a cut where speech starts or stops is fine). Speech is what the VAD
  found joined with the subtitle cues (`ctx.cues`): a cue is a line being said, so where cues exist no cut
  lands mid-sentence even if the VAD missed it.

Splitting is a shortest path over candidate cut points, start to end, solved by dynamic programming. Candidates
are the natural points, the edges of speech spans (a pause in speech, shorter than a silence) and a fallback
grid every T/4 (so that any stretch of media can be cut), T being the target. A candidate inside speech is
dropped when any candidate outside speech lies within T/2 of it: a mid-speech cut remains only where speech
runs on with no alternative in reach (then it must be taken, or segments would grow without bound).

A segment of length L costs ((L − T)/T)². A cut point costs what its kind is worth, relative to the best kind
within T/2: a silence 0 (nothing is heard across the cut), a shot boundary with sound running through it
`SHOT_COST`, a speech pause `PAUSE_COST`, a grid point `GRID_COST`. Relative, because an absolute charge per cut
would make fewer, longer segments cheaper whenever only poor points exist; this way the kind of point decides
between nearby alternatives and the target decides how many segments there are. The segments always tile
[start, end] exactly.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.results import Moment, MomentKind, TimeSpan
from reelmark.core.times import as_fraction

SILENCE_INSET_S = Fraction(1, 5)
SHOT_COST = 0.1
PAUSE_COST = 0.3
GRID_COST = 1.0
GRID_PER_TARGET = 4
REACH_PER_TARGET = 3
"""Segments longer than this many targets are not considered (a grid point is always nearer than that)."""

PointKind = Literal["silence", "shot", "pause", "grid", "edge"]
POINT_COSTS: dict[PointKind, float] = {"silence": 0.0, "shot": SHOT_COST, "pause": PAUSE_COST, "grid": GRID_COST, "edge": 0.0}
POINT_WORDS: dict[PointKind, str] = {
    "silence": "a silence",
    "shot": "a shot change",
    "pause": "a pause in speech",
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
    """Speech as the VAD heard it, joined with the subtitle cues."""
    vad = ctx.audio.speech if ctx.audio is not None else ()
    return SpanIndex([*vad, *(TimeSpan(cue.start, cue.end) for cue in ctx.cues if cue.end > cue.start)])


def natural_points(ctx: SignalsContext) -> list[CutPoint]:
    """Shot boundaries and points in silences inside (start, end), without speech filtering; sorted by time."""
    points: dict[Fraction, PointKind] = {}
    silences = SpanIndex(ctx.audio.silence if ctx.audio is not None else ())
    for span in silences.spans:
        inset = min(SILENCE_INSET_S, span.duration / 4)
        for time in (span.start + inset, (span.start + span.end) / 2, span.end - inset):
            points[time] = "silence"
    for time in ctx.shots.boundary_times if ctx.shots is not None else ():
        points.setdefault(time, "silence" if silences.contains(time) else "shot")
    return [CutPoint(time, kind) for time, kind in sorted(points.items()) if ctx.start < time < ctx.end]


def pause_points(ctx: SignalsContext, speech: SpanIndex) -> list[CutPoint]:
    """Where speech starts and stops, inside (start, end)."""
    times = {time for span in speech.spans for time in (span.start, span.end) if ctx.start < time < ctx.end}
    return [CutPoint(time, "pause") for time in sorted(times)]


def grid_points(ctx: SignalsContext, step: Fraction) -> list[CutPoint]:
    count = math.ceil((ctx.end - ctx.start) / step)
    return [CutPoint(ctx.start + index * step, "grid") for index in range(1, count)]


def _within(times: np.ndarray, time: float, reach: float) -> slice:
    """The slice of sorted `times` within `reach` of `time`."""
    return slice(int(np.searchsorted(times, time - reach)), int(np.searchsorted(times, time + reach, side="right")))


def _any_within(times: np.ndarray, time: float, reach: float) -> bool:
    window = _within(times, time, reach)
    return window.stop > window.start


def _candidates(ctx: SignalsContext, target: Fraction, speech: SpanIndex) -> tuple[list[CutPoint], np.ndarray]:
    """Inner cut points in time order and their relative costs (see the module docstring)."""
    by_time: dict[Fraction, CutPoint] = {}
    for point in grid_points(ctx, target / GRID_PER_TARGET) + pause_points(ctx, speech) + natural_points(ctx):
        by_time[point.time] = point  # later, better kinds replace earlier ones at the same time
    points = sorted(by_time.values(), key=lambda point: point.time)
    reach = float(target) / 2
    clear = np.array([float(point.time) for point in points if not speech.inside(point.time)])
    points = [point for point in points if not speech.inside(point.time) or not _any_within(clear, float(point.time), reach)]
    times = np.array([float(point.time) for point in points])
    kind_costs = np.array([POINT_COSTS[point.kind] for point in points])
    costs = np.array([cost - kind_costs[_within(times, time, reach)].min() for time, cost in zip(times, kind_costs, strict=True)])
    return points, costs


def smart_split(ctx: SignalsContext) -> list[Moment]:
    """Segments that tile [ctx.start, ctx.end], each about `split_target_s` long, cut at the cheapest points."""
    target = as_fraction(ctx.params.split_target_s)
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
