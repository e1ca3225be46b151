"""Reframe: a crop path that keeps the subject in a vertical or square frame, one keyframed tube per shot.

Crop size. The largest window of the target aspect that fits the source, in source pixels rounded to whole
pixels: a landscape source cropped to 9:16, 4:5 or 1:1 keeps its full height and the window slides sideways; a
source narrower than the target keeps its full width and the window slides up and down.

Subject. At every sampled time (the detectors' `VideoFeatures.sampled_times` and the times of the moving regions,
which come several times a second) the subject is, in this order of preference:
1. a face, else a person's head: the top `HEAD_FRACTION` of a person box (keeping the head in frame matters more
   than the feet). Of the face/person tracks (`ctx.people` moments with tubes) present in a shot, the one with the
   most box area over the shot is followed while it is visible, so the crop does not swing between two people;
2. else the largest moving region of that sampled frame (`VideoFeatures.moving_regions`);
3. else nothing: the crop holds, and a shot with no subject at all stays centred.
The target centre is the subject box's centre, interpolated linearly between samples that have one and held
before the first and after the last.

Smoother: a velocity- and acceleration-limited follower with a dead zone, run per axis on centre coordinates in
[0, 1] of the source, integrated in sub-steps of at most `STEP_S`:
- target: the subject centre `LOOKAHEAD_S` ahead (the whole path is known offline), which cancels the lag of a
  proportional follower behind a subject moving at constant speed;
- dead zone: the centre may rest anywhere within `DEAD_ZONE` × crop size of the target (and inside the picture);
  the error is the distance to that interval, so detector jitter and small moves of the subject move nothing,
  while a subject at the picture's edge still pulls the crop all the way to that edge;
- the commanded velocity is `GAIN` × error, capped at `MAX_SPEED` and at √(2·`MAX_ACCEL`·|error|) (the speed from
  which it can still stop there without overshoot);
- the velocity moves toward the command by at most `MAX_ACCEL` × step, so the crop's acceleration never exceeds
  `MAX_ACCEL` (normalised units per s²) and its speed never exceeds `MAX_SPEED`: the second divided difference of
  the keyframe positions is bounded by `MAX_ACCEL`. A player interpolating linearly between sparse keyframes adds
  velocity corners of at most `MAX_ACCEL` × keyframe spacing.
With these constants a subject crossing a 16:9 picture in 2 s stays inside a 9:16 crop.
Why not a critically damped spring: its acceleration is ω² × error, unbounded when the target jumps (a new
detection, a switch of subject), and clamping that acceleration makes it overshoot; the √ cap above brakes in time.

Shots. The follower starts afresh at each segment (shot) start, on the target, at rest: the crop jumps at a cut and
never slides across one. Keyframes: each segment start, every sampled time inside the segment, and the segment end
(the crop held up to the cut, so interpolation inside a shot never leans toward the next one).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import pairwise
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from reelmark.core.engines.signals.context import SignalsContext
from reelmark.core.engines.signals.features import MovingRegion
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

ASPECTS: dict[str, Fraction] = {"9:16": Fraction(9, 16), "1:1": Fraction(1), "4:5": Fraction(4, 5)}
"""Target width / height for each delivery shape."""

HEAD_FRACTION = 0.25
"""The top quarter of a standing person's box holds the head and shoulders."""
DEAD_ZONE = 0.1
"""Share of the crop size (per side) the subject may drift from the centre before the crop moves."""
GAIN = 5.0
"""1/s: commanded speed per unit of error beyond the dead zone (a 0.2 s time constant)."""
MAX_SPEED = 1.0
"""Normalised units per second: the crop crosses the whole source in one second at most."""
MAX_ACCEL = 4.0
"""Normalised units per s²: the bound on the crop centre's acceleration."""
LOOKAHEAD_S = 1 / GAIN
"""The follower aims where the subject will be this much later (the whole path is known offline), which cancels
the lag of a proportional follower behind a subject moving at constant speed."""
STEP_S = 0.01
"""Longest integration sub-step, in seconds."""


def aspect_ratio(aspect: str) -> Fraction:
    """Width / height of a delivery shape; an unknown name is a ValueError that lists the choices."""
    if aspect not in ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; choose one of {', '.join(ASPECTS)}")
    return ASPECTS[aspect]


def crop_size(source_size: tuple[int, int], aspect: str) -> tuple[int, int]:
    """The largest (width, height) of `aspect` inside the source, in whole source pixels."""
    width, height = source_size
    ratio = aspect_ratio(aspect)
    if Fraction(width, height) > ratio:
        return max(1, min(width, round(height * ratio))), height
    return width, max(1, min(height, round(width / ratio)))


def _follow(times: list[float], known_times: list[float], known_centres: list[float], crop: float) -> list[float]:
    """Crop centres at `times` on one axis of size `crop`, following the subject centres known at `known_times`."""
    low, high = crop / 2, 1 - crop / 2
    if high <= low or not known_centres:
        return [0.5] * len(times)
    dead_zone = DEAD_ZONE * crop
    position, velocity = min(high, max(low, float(np.interp(times[0], known_times, known_centres)))), 0.0
    positions = [position]
    for previous, current in pairwise(times):
        steps = max(1, math.ceil((current - previous) / STEP_S - 1e-9))
        step = (current - previous) / steps
        sub_times = previous + step * np.arange(1, steps + 1)
        for target in np.interp(sub_times + LOOKAHEAD_S, known_times, known_centres):
            # Where the centre may rest: within the dead zone of the target, and where the crop stays in the picture.
            rest_low = min(max(target - dead_zone, low), high)
            rest_high = max(min(target + dead_zone, high), low)
            error = (
                rest_low - position if position < rest_low else rest_high - position if position > rest_high else 0.0
            )
            speed = min(GAIN * abs(error), MAX_SPEED, math.sqrt(2 * MAX_ACCEL * abs(error)))
            velocity += max(-MAX_ACCEL * step, min(MAX_ACCEL * step, math.copysign(speed, error) - velocity))
            position += velocity * step
            if not low <= position <= high:
                position, velocity = min(high, max(low, position)), 0.0
        positions.append(position)
    return positions


def crop_path(
    subject: Sequence[tuple[Fraction, Box | None]],
    source_size: tuple[int, int],
    aspect: str,
    segments: Sequence[TimeSpan],
) -> list[TubePoint]:
    """Crop keyframes (boxes normalised to the source) for each segment in turn; see the module docstring."""
    crop_width, crop_height = crop_size(source_size, aspect)
    crop = (crop_width / source_size[0], crop_height / source_size[1])
    samples = sorted(subject, key=lambda sample: sample[0])
    sample_times = [time for time, _ in samples]
    keyframes: list[TubePoint] = []
    for segment in segments:
        within = samples[bisect_left(sample_times, segment.start) : bisect_left(sample_times, segment.end)]
        inside = [(time, box) for time, box in within if box is not None]
        times = sorted({segment.start, segment.end, *(time for time, _ in within)})
        seconds = [float(time) for time in times]
        known_times = [float(time) for time, _ in inside]
        centres = (
            _follow(seconds, known_times, [(box.x0 + box.x1) / 2 for _, box in inside], crop[0]),
            _follow(seconds, known_times, [(box.y0 + box.y1) / 2 for _, box in inside], crop[1]),
        )
        for time, centre_x, centre_y in zip(times, *centres, strict=True):
            x0 = min(max(0.0, centre_x - crop[0] / 2), 1 - crop[0])
            y0 = min(max(0.0, centre_y - crop[1] / 2), 1 - crop[1])
            keyframes.append(TubePoint(time, Box(x0, y0, min(1.0, x0 + crop[0]), min(1.0, y0 + crop[1]))))
    return keyframes


def _head(box: Box) -> Box:
    return Box(box.x0, box.y0, box.x1, box.y0 + HEAD_FRACTION * (box.y1 - box.y0))


def _box_at(tube: Sequence[TubePoint], times: Sequence[Fraction], time: Fraction) -> Box | None:
    """The tube's box at `time` (`times` are its points' times), linear between its points, None outside them."""
    if not tube or not times[0] <= time <= times[-1]:
        return None
    after = bisect_left(times, time)
    if times[after] == time:
        return tube[after].box
    before = tube[after - 1]
    weight = float((time - before.time) / (tube[after].time - before.time))
    corners = [a + (b - a) * weight for a, b in zip(before.box.to_list(), tube[after].box.to_list(), strict=True)]
    return Box(*(min(1.0, max(0.0, value)) for value in corners))


def _subject_path(
    ctx: SignalsContext, shot: TimeSpan, regions: dict[Fraction, Box]
) -> tuple[list[tuple[Fraction, Box | None]], str]:
    """The subject at each sampled time of `shot`, and what it was taken from (for the moment's text).

    `regions` maps a time to its largest moving region. Sampled times are the detectors' times and the moving
    regions' (which come more often), so the crop has a subject to follow several times a second."""
    assert ctx.video is not None
    sampled = sorted(set(ctx.video.sampled_times) | set(regions))
    times = sampled[bisect_left(sampled, shot.start) : bisect_left(sampled, shot.end)]
    tracks = [
        moment
        for moment in ctx.people
        if moment.kind in (MomentKind.FACE, MomentKind.PERSON) and moment.tube and moment.span.overlaps(shot)
    ]

    def presence(track: Moment) -> float:
        return sum(point.box.area for point in track.tube if shot.start <= point.time < shot.end)

    tracks.sort(key=lambda track: (track.kind != MomentKind.FACE, -presence(track)))
    track_times = [[point.time for point in track.tube] for track in tracks]
    path: list[tuple[Fraction, Box | None]] = []
    sources: set[str] = set()
    for time in times:
        box = None
        for track, tube_times in zip(tracks, track_times, strict=True):
            found = _box_at(track.tube, tube_times, time)
            if found is not None:
                box = found if track.kind == MomentKind.FACE else _head(found)
                sources.add("faces" if track.kind == MomentKind.FACE else "people")
                break
        if box is None and time in regions:
            box = regions[time]
            sources.add("motion")
        path.append((time, box))
    order = ("faces", "people", "motion")
    return path, " and ".join(name for name in order if name in sources) or "the centre"


def reframe(ctx: SignalsContext, aspect: str) -> list[Moment]:
    """One REFRAME moment per shot whose tube is the `aspect` crop path; empty (with a diagnostic) without video."""
    aspect_ratio(aspect)
    if ctx.video is None:
        ctx.diagnostics.append(f"reframe {aspect}: the media has no video to reframe")
        return []
    width, height = ctx.video.size
    crop_width, crop_height = crop_size((width, height), aspect)
    shots = ctx.shots.shots if ctx.shots and ctx.shots.shots else (TimeSpan(ctx.start, ctx.end),)
    largest: dict[Fraction, MovingRegion] = {}
    for region in ctx.video.moving_regions:
        if region.time not in largest or region.area > largest[region.time].area:
            largest[region.time] = region
    regions = {time: region.box for time, region in largest.items()}
    moments = []
    for number, shot in enumerate(shots, start=1):
        subject, source = _subject_path(ctx, shot, regions)
        tube = crop_path(subject, (width, height), aspect, [shot])
        moments.append(
            Moment(
                kind=MomentKind.REFRAME,
                span=shot,
                label=f"reframe {aspect} {number}",
                text=f"{aspect} crop, {crop_width}×{crop_height} of {width}×{height} px, following {source}",
                tube=tuple(tube),
            )
        )
    return moments
