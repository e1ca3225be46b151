"""Reframe: a crop path that keeps the subject in a vertical or square frame, one keyframed tube per shot.

Crop size. The largest window of the target aspect that fits the source, in source pixels rounded to whole
pixels, its aspect as shown (the narrow pixels of DV, HDV and anamorphic footage count at their shown width,
`VideoFeatures.pixel_aspect`): a landscape source cropped to 9:16, 4:5 or 1:1 keeps its full height and the window
slides sideways; a source narrower than the target keeps its full width and the window slides up and down.

Subject. At every sampled time (the detectors' `VideoFeatures.sampled_times` and the times of the moving regions,
which come several times a second) the subject is the most important one in view, not the first found:
1. of the face and person tracks (`ctx.people` moments with tubes) visible then, the one with the highest
   importance: its size (a person's box height, a face's height × `FACE_BODY_RATIO`: nearer means larger) ×
   `FACE_BONUS` for a face (a face over a body) × (1 + `MOVING_BONUS`) while it moves (faster than
   `MOVING_SPEED`, or the frame's largest moving region is centred inside it). Whom to follow is chosen over the
   whole shot at once (`_followed`, a Viterbi pass): each change from someone still in view costs as much as
   following someone `SWITCH_RATIO` times as important for `SWITCH_COST_S`, so the crop does not swing between
   two people of about the same size nor chase a brief peak, yet someone a little more important for long gets
   it. A face is followed
   by its box, a person by the top `HEAD_FRACTION` of theirs (the head matters more than the feet);
2. else the largest moving region of that sampled frame (`VideoFeatures.moving_regions`) in which something
   changed since the previous region sample (`STIRRING`: not the ghost of someone who stood and left);
3. else nothing.
A track is read from its sightings inside the segment (the detectors see a track across a cut), each box edge
despiked over those sightings (a running median of three: one stray box, half a body between two whole ones,
moves nothing), linear between them, and held for half a sampling interval before the first and after the last,
as the track's own span is: a 1 fps detector that saw someone once in a short shot saw them for that shot.
The target centre is the subject box's centre, interpolated linearly between samples that have one. Where nobody
is in view for longer than `HOLD_GAP_S` the crop holds still (the last subject's place, or the centre before the
first one: an honest "no subject", not a wander), and `ANTICIPATE_S` plus its travel time at `MAX_SPEED` before
the next subject is first seen it starts moving there (the whole path is known offline), so an entrance is met
rather than chased. A segment with no
subject at all stays centred and says so.

Smoother: a velocity- and acceleration-limited follower with a dead zone, run per axis on centre coordinates in
[0, 1] of the source, integrated in sub-steps of at most `STEP_S`:
- target: the subject centre `LOOKAHEAD_S` ahead (the whole path is known offline), which cancels the lag of a
  proportional follower behind a subject moving at constant speed;
- dead zone: the centre may rest anywhere within `DEAD_ZONE` × crop size of the target (and inside the picture);
  the error is the distance to that interval, so detector jitter and small moves of the subject move nothing,
  while a subject at the picture's edge still pulls the crop all the way to that edge. The zone narrows for a
  subject nearly as large as the crop, so that resting never puts part of it outside (down to half the zone,
  which still absorbs jitter, for one larger than the crop);
- the commanded velocity is `GAIN` × error, capped at `MAX_SPEED` and at √(2·`MAX_ACCEL`·|error|) (the speed from
  which it can still stop there without overshoot);
- the velocity moves toward the command by at most `MAX_ACCEL` × step, so the crop's acceleration never exceeds
  `MAX_ACCEL` (normalised units per s²) and its speed never exceeds `MAX_SPEED`: the second divided difference of
  the keyframe positions is bounded by `MAX_ACCEL`. A player interpolating linearly between sparse keyframes adds
  velocity corners of at most `MAX_ACCEL` × keyframe spacing.
With these constants a subject crossing a 16:9 picture in 2 s stays inside a 9:16 crop.
Why not a critically damped spring: its acceleration is ω² × error, unbounded when the target jumps (a new
detection, a switch of subject), and clamping that acceleration makes it overshoot; the √ cap above brakes in time.

Resets. The follower starts afresh, on the target and at rest, at every shot change (`split.shot_changes`): at
the frame of a hard cut, and at the black frame of a fade (the darkest frame; the middle of a dissolve), where a
jump is invisible, rather than at the fade's end, which would carry the last shot's crop into the next one. The
crop never slides across a reset. Keyframes: each segment start, every sampled time inside it, and the segment
end (the crop held up to the reset, so interpolation never leans toward the next segment). One REFRAME moment per
segment.

Text in the picture (titles, captions) is not seen by the signals engine, so the moment's text says a title may
be cut.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from itertools import pairwise
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import scipy.ndimage

from reelmark.core.engines.signals.bars import FULL_FRAME, picture_area
from reelmark.core.engines.signals.context import REFRAME_ASPECTS, SignalsContext
from reelmark.core.engines.signals.features import MovingRegion
from reelmark.core.engines.signals.people import sampling_interval
from reelmark.core.engines.signals.split import shot_changes
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

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
HOLD_GAP_S = 1.5
"""Samples further apart than this with no subject between them are a gap: the crop holds, it does not glide."""
ANTICIPATE_S = 0.6
"""Seconds, besides its travel time, before a subject appears after a gap that the crop starts moving to meet it."""
FACE_BODY_RATIO = 7.0
"""A standing person is about seven heads tall: a face's height × this compares with a person box's height."""
FACE_BONUS = 1.5
MOVING_BONUS = 1.0
MOVING_SPEED = 0.05
"""Source widths (or heights) per second above which a track counts as moving."""
SWITCH_RATIO = 1.5
SWITCH_COST_S = 2.0
"""A change of subject is worth it once the new one has been `SWITCH_RATIO` times as important for this long (or
more important by less for longer): about the time a viewer needs to settle on a new subject."""
FLOOR = 1e-9
"""Importance below this (a box squashed to nothing at the picture's edge) counts as this, so its log is finite."""
STIRRING = 0.02
"""A moving region counts only where at least this share of its pixels changed since the previous region sample.
The background model learns someone who stands still for a while slowly, so for many seconds after they leave
their place still reads as moving: in the corpus's CCTV room such a ghost of the table's visitor stood in every
empty-room pause, unchanged (0.00), and pulled the crop back from the door after each exit."""


def aspect_ratio(aspect: str) -> Fraction:
    """Width / height of a delivery shape; an unknown name is a ValueError that lists the choices."""
    if aspect not in REFRAME_ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}; choose one of {', '.join(REFRAME_ASPECTS)}")
    return REFRAME_ASPECTS[aspect]


def crop_size(source_size: tuple[int, int], aspect: str, pixel_aspect: Fraction = Fraction(1)) -> tuple[int, int]:
    """The largest (width, height) of `aspect` as shown inside the source, in whole source pixels, each
    `pixel_aspect` times as wide as tall when shown: a 9:16 crop of HDV's 1440×1080 (pixels 4:3) is 456 pixels
    wide, shown 608, not 608 pixels shown 810 wide (3:4)."""
    width, height = source_size
    ratio = aspect_ratio(aspect) / pixel_aspect
    if Fraction(width, height) > ratio:
        return max(1, min(width, round(height * ratio))), height
    return width, max(1, min(height, round(width / ratio)))


def _with_holds(start: float, known_times: list[float], known_centres: list[float]) -> tuple[list[float], list[float]]:
    """The subject path with holds: across a gap longer than `HOLD_GAP_S` the target stays where it was, then ramps
    to the next subject over `ANTICIPATE_S` plus the time the crop needs at `MAX_SPEED`, arriving as they are first
    seen; before a first sample that comes late it is the centre."""
    times, centres = [], []

    def ramp_start(previous_time: float, previous: float, time: float, centre: float) -> None:
        lead = ANTICIPATE_S + abs(centre - previous) / MAX_SPEED
        times.append(max(previous_time, time - lead))
        centres.append(previous)

    if known_times[0] - start > HOLD_GAP_S:
        times.append(start)
        centres.append(0.5)
        ramp_start(start, 0.5, known_times[0], known_centres[0])
    for index, (time, centre) in enumerate(zip(known_times, known_centres, strict=True)):
        if index and time - known_times[index - 1] > HOLD_GAP_S:
            ramp_start(known_times[index - 1], known_centres[index - 1], time, centre)
        times.append(time)
        centres.append(centre)
    return times, centres


def _follow(
    times: list[float],
    known_times: list[float],
    known_centres: list[float],
    known_sizes: list[float],
    crop: float,
    area: tuple[float, float] = (0.0, 1.0),
) -> list[float]:
    """Crop centres at `times` on one axis of size `crop`, following the subject centres (and sizes) known at
    `known_times`, the crop kept inside `area` (the picture between bars) where it fits, else centred on it."""
    low, high = max(crop / 2, area[0] + crop / 2), min(1 - crop / 2, area[1] - crop / 2)
    if high < low:
        middle = min(1 - crop / 2, max(crop / 2, (area[0] + area[1]) / 2))
        low = high = middle
    if high <= low or not known_centres:
        return [min(high, max(low, 0.5))] * len(times)
    sizes = (known_times, known_sizes)
    known_times, known_centres = _with_holds(times[0], known_times, known_centres)
    position, velocity = min(high, max(low, float(np.interp(times[0], known_times, known_centres)))), 0.0
    positions = [position]
    for previous, current in pairwise(times):
        steps = max(1, math.ceil((current - previous) / STEP_S - 1e-9))
        step = (current - previous) / steps
        sub_times = previous + step * np.arange(1, steps + 1)
        ahead = sub_times + LOOKAHEAD_S
        dead_zones = _dead_zone(crop, np.interp(ahead, *sizes))
        for target, dead_zone in zip(np.interp(ahead, known_times, known_centres), dead_zones, strict=True):
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


def _dead_zone(crop: float, subject_sizes: np.ndarray) -> np.ndarray:
    """How far the crop centre may rest from the subject's: `DEAD_ZONE` × crop, but no further than keeps the
    subject inside (half the room the crop has around it), and never under half of `DEAD_ZONE` × crop, so the
    jitter of a box as large as the crop still moves nothing."""
    return np.clip((crop - subject_sizes) / 2, DEAD_ZONE * crop / 2, DEAD_ZONE * crop)


def _despiked(values: list[float]) -> list[float]:
    """A running median of three samples: one stray value (a box that jumps for one sample and back) moves
    nothing, while a real move is delayed by one sample at most. The ends are kept."""
    if len(values) < 3:
        return values
    smoothed = scipy.ndimage.median_filter(np.asarray(values), size=3)
    return [values[0], *smoothed[1:-1].tolist(), values[-1]]


def _despiked_tube(tube: Sequence[TubePoint]) -> list[TubePoint]:
    """The tube with each box edge despiked over the detector's own sightings. Sampled times come several times a
    second and a 1 fps detector's one stray box (half a body between two whole ones) spans all the samples
    interpolated between its neighbours, which a median over samples cannot remove; a median over sightings does."""
    edges = [_despiked([getattr(point.box, edge) for point in tube]) for edge in ("x0", "y0", "x1", "y1")]
    return [TubePoint(point.time, Box(*corners)) for point, *corners in zip(tube, *edges, strict=True)]


def crop_path(
    subject: Sequence[tuple[Fraction, Box | None]],
    source_size: tuple[int, int],
    aspect: str,
    segments: Sequence[TimeSpan],
    areas: Sequence[Box] | None = None,
    pixel_aspect: Fraction = Fraction(1),
) -> list[TubePoint]:
    """Crop keyframes (boxes normalised to the source) for each segment in turn, kept inside that segment's
    picture area (`bars.picture_area`; the full frame by default); see the module docstring."""
    crop_width, crop_height = crop_size(source_size, aspect, pixel_aspect)
    crop = (crop_width / source_size[0], crop_height / source_size[1])
    samples = sorted(subject, key=lambda sample: sample[0])
    sample_times = [time for time, _ in samples]
    keyframes: list[TubePoint] = []
    for segment, area in zip(segments, areas or [FULL_FRAME] * len(segments), strict=True):
        within = samples[bisect_left(sample_times, segment.start) : bisect_left(sample_times, segment.end)]
        inside = [(time, box) for time, box in within if box is not None]
        times = sorted({segment.start, segment.end, *(time for time, _ in within)})
        seconds = [float(time) for time in times]
        known_times = [float(time) for time, _ in inside]
        axes = (
            ([(box.x0, box.x1) for _, box in inside], crop[0], (area.x0, area.x1)),
            ([(box.y0, box.y1) for _, box in inside], crop[1], (area.y0, area.y1)),
        )
        centres = [
            _follow(
                seconds,
                known_times,
                _despiked([(low + high) / 2 for low, high in extents]),
                _despiked([high - low for low, high in extents]),
                size,
                bounds,
            )
            for extents, size, bounds in axes
        ]
        for time, centre_x, centre_y in zip(times, *centres, strict=True):
            x0 = min(max(0.0, centre_x - crop[0] / 2), 1 - crop[0])
            y0 = min(max(0.0, centre_y - crop[1] / 2), 1 - crop[1])
            keyframes.append(TubePoint(time, Box(x0, y0, min(1.0, x0 + crop[0]), min(1.0, y0 + crop[1]))))
    return keyframes


def _head(box: Box) -> Box:
    return Box(box.x0, box.y0, box.x1, box.y0 + HEAD_FRACTION * (box.y1 - box.y0))


def _box_at(tube: Sequence[TubePoint], times: Sequence[Fraction], time: Fraction, hold: Fraction) -> Box | None:
    """The tube's box at `time` (`times` are its points' times), linear between its points. Within `hold` before
    its first point or after its last it is that point's box (a detector that samples once a second saw the person
    at one instant of a shot, not only then), and None further out."""
    if not tube or not times[0] - hold <= time <= times[-1] + hold:
        return None
    if time <= times[0]:
        return tube[0].box
    if time >= times[-1]:
        return tube[-1].box
    after = bisect_left(times, time)
    if times[after] == time:
        return tube[after].box
    before = tube[after - 1]
    weight = float((time - before.time) / (tube[after].time - before.time))
    corners = [a + (b - a) * weight for a, b in zip(before.box.to_list(), tube[after].box.to_list(), strict=True)]
    return Box(*(min(1.0, max(0.0, value)) for value in corners))


def _importance(track: Moment, box: Box, moving: bool) -> float:
    """How much a track at one sample deserves the crop: size (nearness), a face over a body, moving over still."""
    size = (box.y1 - box.y0) * (FACE_BODY_RATIO * FACE_BONUS if track.kind == MomentKind.FACE else 1.0)
    return size * (1 + MOVING_BONUS if moving else 1.0)


def _holds(box: Box, region: Box | None) -> bool:
    """Whether the centre of the frame's largest moving region lies inside `box` (the track is what moves)."""
    if region is None:
        return False
    x, y = _centre(region)
    return box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1


def _centre(box: Box) -> tuple[float, float]:
    return (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2


def _speed(tube: Sequence[TubePoint], times: Sequence[Fraction], time: Fraction) -> float:
    """Speed of the tube's box centre (source widths or heights per second) over the tube points around `time`."""
    after = min(max(1, bisect_left(times, time)), len(tube) - 1)
    if after < 1:
        return 0.0
    before, later = tube[after - 1], tube[after]
    elapsed = float(later.time - before.time)
    (x0, y0), (x1, y1) = _centre(before.box), _centre(later.box)
    return math.hypot(x1 - x0, y1 - y0) / elapsed if elapsed > 0 else 0.0


def _subject_path(
    ctx: SignalsContext, segment: TimeSpan, regions: dict[Fraction, Box]
) -> tuple[list[tuple[Fraction, Box | None]], str]:
    """The subject at each sampled time of `segment`, and what it was taken from (for the moment's text).

    `regions` maps a time to its largest moving region. Sampled times are the detectors' times and the moving
    regions' (which come more often), so the crop has a subject to follow several times a second."""
    assert ctx.video is not None
    sampled = sorted(set(ctx.video.sampled_times) | set(regions))
    times = sampled[bisect_left(sampled, segment.start) : bisect_left(sampled, segment.end)]
    tracks = [
        moment
        for moment in ctx.people
        if moment.kind in (MomentKind.FACE, MomentKind.PERSON) and moment.tube and moment.span.overlaps(segment)
    ]
    tubes = [
        _despiked_tube([point for point in track.tube if segment.start <= point.time <= segment.end]) for track in tracks
    ]
    track_times = [[point.time for point in tube] for tube in tubes]
    hold = sampling_interval(ctx.video.sampled_times) / 2
    views: list[dict[int, tuple[Box, float]]] = []
    for time in times:
        seen: dict[int, tuple[Box, float]] = {}
        for index, (track, tube, tube_times) in enumerate(zip(tracks, tubes, track_times, strict=True)):
            found = _box_at(tube, tube_times, time, hold)
            if found is not None:
                moving = _speed(tube, tube_times, time) > MOVING_SPEED or _holds(found, regions.get(time))
                seen[index] = (found, _importance(track, found, moving))
        views.append(seen)
    followed = _followed([{index: view[1] for index, view in seen.items()} for seen in views], times, segment.end)
    path: list[tuple[Fraction, Box | None]] = []
    sources: set[str] = set()
    for time, seen, current in zip(times, views, followed, strict=True):
        box = None
        if current is not None:
            track = tracks[current]
            box = seen[current][0] if track.kind == MomentKind.FACE else _head(seen[current][0])
            sources.add("faces" if track.kind == MomentKind.FACE else "people")
        elif time in regions:
            box = regions[time]
            sources.add("motion")
        path.append((time, box))
    order = ("faces", "people", "motion")
    return path, " and ".join(name for name in order if name in sources)


def _followed(importance: list[dict[int, float]], times: Sequence[Fraction], end: Fraction) -> list[int | None]:
    """Whom the crop follows at each of `times` (None: nobody in view), given each visible track's importance
    there (`importance[i]`): over each stretch with someone in view, `_best_sequence`."""
    chosen: list[int | None] = [None] * len(times)
    durations = [float(b - a) for a, b in pairwise([*times, end])]
    step = 0
    while step < len(times):
        first = step
        while step < len(times) and importance[step]:
            step += 1
        chosen[first:step] = _best_sequence(importance[first:step], durations[first:step])
        step += step == first
    return chosen


def _best_sequence(importance: list[dict[int, float]], durations: list[float]) -> list[int]:
    """The sequence of subjects, one in view at each time, that is most important over the whole stretch, less
    `SWITCH_COST_S` × log(`SWITCH_RATIO`) for each change from someone still in view to someone else (changing
    from someone who left costs nothing). A time's gain is its duration × log(importance / the most important
    one's), so someone consistently more important wins the crop once the difference has lasted long enough,
    however small, and a brief peak never does. Viterbi: the whole path is known offline."""
    if not importance:
        return []
    switch_cost = math.log(SWITCH_RATIO) * SWITCH_COST_S
    totals: dict[int, float] = {}
    came_from: list[dict[int, int]] = []
    for seen, duration in zip(importance, durations, strict=True):
        top = max(seen.values())
        gains = {index: duration * math.log(max(value, FLOOR) / max(top, FLOOR)) for index, value in seen.items()}
        leaving = {index: total - (switch_cost if index in seen else 0.0) for index, total in totals.items()}
        leaders = sorted(leaving, key=leaving.__getitem__, reverse=True)[:2]
        links: dict[int, int] = {}
        for index in gains:
            switch_from = next((other for other in leaders if other != index), None)
            stays = index in totals and (switch_from is None or totals[index] >= leaving[switch_from])
            links[index] = index if stays or switch_from is None else switch_from
        totals = {
            index: gain + (totals.get(index, 0.0) if links[index] == index else leaving[links[index]])
            for index, gain in gains.items()
        }
        came_from.append(links)
    current = max(totals, key=totals.__getitem__)
    sequence = []
    for links in reversed(came_from):
        sequence.append(current)
        current = links[current]
    return sequence[::-1]


def _pixels(pixel_aspect: Fraction) -> str:
    """What the crop's size in pixels means where they are not square."""
    return "" if pixel_aspect == 1 else f" (pixel aspect {pixel_aspect.numerator}:{pixel_aspect.denominator})"


def _segments(ctx: SignalsContext) -> list[TimeSpan]:
    """The analysed range cut at every shot change (`split.shot_changes`: hard cuts, fades' black frames)."""
    resets = [point.time for point in shot_changes(ctx)]
    return [TimeSpan(start, end) for start, end in pairwise([ctx.start, *resets, ctx.end]) if end > start]


def reframe(ctx: SignalsContext, aspect: str) -> list[Moment]:
    """One REFRAME moment per segment whose tube is the `aspect` crop path; empty (with a diagnostic) without
    video."""
    aspect_ratio(aspect)
    if ctx.video is None:
        ctx.diagnostics.append(f"reframe {aspect}: the media has no video to reframe")
        return []
    width, height = ctx.video.size
    pixel_aspect = ctx.video.pixel_aspect
    crop_width, crop_height = crop_size((width, height), aspect, pixel_aspect)
    largest: dict[Fraction, MovingRegion] = {}
    for region in ctx.video.moving_regions:
        if region.changing is not None and region.changing < STIRRING:
            continue  # nothing in it changed: a ghost of someone who left, or something that stopped
        if region.time not in largest or region.area > largest[region.time].area:
            largest[region.time] = region
    regions = {time: region.box for time, region in largest.items()}
    moments = []
    for number, segment in enumerate(_segments(ctx), start=1):
        subject, source = _subject_path(ctx, segment, regions)
        first, last = ctx.video.index_at(segment.start), ctx.video.index_at(segment.end)
        area = picture_area(ctx.video.pictures[first : max(last, first + 1)])
        tube = crop_path(subject, (width, height), aspect, [segment], [area], pixel_aspect)
        following = f"following {source}" if source else "no subject found: holds the centre"
        moments.append(
            Moment(
                kind=MomentKind.REFRAME,
                span=segment,
                label=f"reframe {aspect} {number}",
                text=f"{aspect} crop, {crop_width}×{crop_height} of {width}×{height} px{_pixels(pixel_aspect)},"
                f" {following}; titles are not checked and may be cut",
                tube=tuple(tube),
            )
        )
    return moments
