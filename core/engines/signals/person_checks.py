"""Checks that turn the HOG and Haar detectors' raw tracks into people you can trust.

The bundled detectors fire on anything with a person's outline: a cartoon rabbit, a car seen from above, a row of
bottles. No detector with weights inside a registry package does better under our licence and dependency limits
(see README), so each track must earn its place with evidence the detectors do not use:

- **Confidence** (`MIN_STRONG_SIGHTINGS` sightings at `STRONG_SCORE` or more, or with a face found inside the
  box): a real person seen at a sampled rate gives the SVM a clear margin, or shows a face, more than once; the
  chance hits on cars and cartoons stay near the threshold.
- **Liveness** in a still camera: a person breathes, turns, gestures, so the pixels inside their box change from
  one sample to the next while the rest of the picture does not. An object (a bottle, a statue, a poster) is as
  still as its background. Only samples where the camera is still (`STILL_CAMERA` of the picture outside the
  box changed at most) count; in a moving shot the test has nothing to say and the track keeps its benefit of
  the doubt.

- **Not a handled object**: a live track standing where a lifeless one (confident, but turned down by the
  liveness check) stood within `HANDLED_WITHIN_S` is that object, moved by a hand: the change in its box is the
  hand's (the corpus's bottles). A person does not replace a still person-shaped object in exactly its place.

- **In proportion with the ground** in a still camera: over a flat floor or street a standing person's height in
  the picture grows in proportion with how far below the horizon their feet are (a pinhole camera: height ≈ k ×
  (foot row − horizon row)). Where enough people stand at enough different depths (`MIN_GROUND_TRACKS`,
  `MIN_GROUND_SPREAD`), the line most tracks agree with is found (`ground_line`, on each track's median feet and
  height), and a track more than `OVERSIZE` times as tall as the line allows where its feet are is rejected: HOG's
  hits on a whole street corner with people in it (OpenCV's CCTV sample, `vtest.avi`: boxes two thirds of the
  picture tall whose bottom is where walkers a third that tall stand). A box cut by the picture's bottom shows no
  feet and is not judged.

`Sighting` carries the change measures from the detector to the tracker; plain `Detection`s (no measures) are
judged on confidence alone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np

from reelmark.core.engines.signals.features import Detection
from reelmark.core.results import Box

STRONG_SCORE = 0.6
"""1 - exp(-SVM weight): 0.6 is a grouped weight of about 0.9, a clear margin over HIT_THRESHOLD."""
MIN_STRONG_SIGHTINGS = 2
REFERENCE_AGE_S = Fraction(1)
"""Change is measured against the latest sampled frame at least this old (the previous one at 1 fps or slower)."""
CHANGE_LEVEL = 12
"""Grey levels (after a 5×5 blur) a pixel must change by between samples to count as changed; sensor grain and
compression noise stay below it."""
NOISE_FACTOR = 4.0
"""...or this many times the picture's median change, where compression noise is stronger (low bit rates)."""
STILL_CAMERA = 0.02
"""Share of the picture outside the box that may change for the camera to count as still."""
LIVE_MARGIN = 0.005
"""A box is live when its changed share exceeds twice the outside's plus this floor."""
MAX_SHAKE = 0.05
"""Global shifts up to this share of the width are camera shake, aligned away before measuring change."""
MIN_STILL_SAMPLES = 4
"""Liveness is judged only on tracks with at least this many still-camera samples..."""
MIN_LIVE_SHARE = 0.5
"""...and rejects those live in fewer than this share of them."""
HANDLED_WITHIN_S = 10.0
"""A live track is a handled object when a lifeless one stood in its place at most this long before it began or
after it ended (set on bottle-detection, where a hand keeps a bottle out of place for 4–11 s)."""
HANDLED_IOU = 0.5
"""...its place being the lifeless track's median box, overlapping the live track's by at least this IoU."""
GROUND_STILL = 0.1
"""The camera counts as still for the ground line where at most this share of the picture outside the box
changed: looser than `STILL_CAMERA`, since on a busy street the walkers themselves change 3-7 % of it."""
FEET_IN_VIEW = 0.97
"""A box whose bottom edge lies above this row (share of the height) shows where the person stands."""
MIN_GROUND_TRACKS = 5
"""The ground line is fitted only from at least this many tracks standing in a still camera..."""
MIN_GROUND_SPREAD = 0.15
"""...whose feet lie at least this share of the picture apart between the highest and lowest."""
GROUND_AGREEMENT = 0.3
"""A track agrees with a ground line when its height is within this share of the line's at its feet."""
OVERSIZE = 1.6
"""A track taller than this many times the ground line's height at its feet is not one person (on the CCTV sample
walkers' heights lie within 0.85-1.45 of the line, the street-corner boxes at 1.8-2.15)."""


@dataclass(frozen=True)
class Sighting(Detection):
    """A detection with the picture change around it over the last `REFERENCE_AGE_S` (None at the first frame)."""

    changed_inside: float | None = None
    changed_outside: float | None = None


class ChangeMeter:
    """Measures, per sampled frame, which pixels changed since the sampled frame `REFERENCE_AGE_S` earlier (same
    size, blurred luma): a fixed age, so that liveness reads the same at any sampling rate."""

    def __init__(self) -> None:
        self._recent: deque[tuple[Fraction, np.ndarray]] = deque()
        self._integral: np.ndarray | None = None

    def update(self, time: Fraction, luma: np.ndarray) -> None:
        blurred = cv2.GaussianBlur(luma, (5, 5), 0)
        while len(self._recent) > 1 and time - self._recent[1][0] >= REFERENCE_AGE_S:
            self._recent.popleft()
        reference = self._recent[0][1] if self._recent else None
        self._recent.append((time, blurred))
        if reference is not None and reference.shape == blurred.shape:
            difference = cv2.absdiff(blurred, _aligned(reference, blurred))
            level = max(CHANGE_LEVEL, NOISE_FACTOR * float(np.median(difference)))
            changed = (difference > level).astype(np.uint8)
            self._integral = cv2.integral(changed)
        else:
            self._integral = None

    def changed_share(self) -> float | None:
        """Share of the whole picture that changed (None on the first frame of a size)."""
        if self._integral is None:
            return None
        return float(self._integral[-1, -1]) / ((self._integral.shape[0] - 1) * (self._integral.shape[1] - 1))

    def measure(self, box: Box) -> tuple[float | None, float | None]:
        """(changed share inside `box`, changed share outside it), or Nones on the first frame of a size."""
        if self._integral is None:
            return None, None
        rows, cols = self._integral.shape[0] - 1, self._integral.shape[1] - 1
        x0, x1 = int(box.x0 * cols), max(int(box.x0 * cols) + 1, int(np.ceil(box.x1 * cols)))
        y0, y1 = int(box.y0 * rows), max(int(box.y0 * rows) + 1, int(np.ceil(box.y1 * rows)))
        total = float(self._integral[-1, -1])
        inside = float(self._integral[y1, x1] - self._integral[y0, x1] - self._integral[y1, x0] + self._integral[y0, x0])
        inside_area, outside_area = (x1 - x0) * (y1 - y0), rows * cols - (x1 - x0) * (y1 - y0)
        return inside / inside_area, (total - inside) / outside_area if outside_area else 0.0


def _aligned(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """`previous` brought to `current`'s exposure and shifted onto it by their global translation (phase
    correlation), so that auto exposure and a hand-held camera's shake do not read as change everywhere; a shift
    over `MAX_SHAKE` of the width is a pan, left as is."""
    gain = (float(cv2.mean(current)[0]) + 1) / (float(cv2.mean(previous)[0]) + 1)
    previous = cv2.convertScaleAbs(previous, alpha=gain)  # auto exposure brightens or darkens the whole picture
    (dx, dy), _ = cv2.phaseCorrelate(previous.astype(np.float32), current.astype(np.float32))
    if abs(dx) > MAX_SHAKE * current.shape[1] or abs(dy) > MAX_SHAKE * current.shape[1] or (dx, dy) == (0.0, 0.0):
        return previous
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(previous, shift, (current.shape[1], current.shape[0]), borderMode=cv2.BORDER_REPLICATE)


def confident(sightings: Sequence[Detection], faces: Mapping[Fraction, Sequence[Box]]) -> bool:
    """Seen clearly more than once: chance hits on person-like shapes stay near the detector's threshold. A sighting
    is clear at `STRONG_SCORE`, or when the face cascade, an independent detector, found a face inside its box at
    the same moment (people in small or soft pictures score low on HOG but show their faces). A track seen once
    (in a shot the detector looked at once: `people.track_people`) needs that one sighting clear."""
    clear = sum(
        sighting.score >= STRONG_SCORE or any(_centre_inside(face, sighting.box) for face in faces.get(sighting.time, ()))
        for sighting in sightings
    )
    return clear >= min(MIN_STRONG_SIGHTINGS, len(sightings))


def _centre_inside(inner: Box, outer: Box) -> bool:
    x, y = (inner.x0 + inner.x1) / 2, (inner.y0 + inner.y1) / 2
    return outer.x0 <= x <= outer.x1 and outer.y0 <= y <= outer.y1


def alive(sightings: Sequence[Detection]) -> bool:
    """False for a track that sits as still as its background whenever the camera is still (an object)."""
    still = [
        sighting
        for sighting in sightings
        if isinstance(sighting, Sighting)
        and sighting.changed_inside is not None
        and sighting.changed_outside is not None
        and sighting.changed_outside <= STILL_CAMERA
    ]
    if len(still) < MIN_STILL_SAMPLES:
        return True
    live = sum(s.changed_inside > 2 * s.changed_outside + LIVE_MARGIN for s in still)  # type: ignore[operator]
    return live / len(still) >= MIN_LIVE_SHARE


def handled(sightings: Sequence[Detection], lifeless: Sequence[Sequence[Detection]]) -> bool:
    """True for a track standing where one of the `lifeless` tracks (confident, not alive) stood within
    `HANDLED_WITHIN_S` of it: the same still object, its box changing because a hand moves it."""
    place = median_box(sightings)
    start, end = sightings[0].time, sightings[-1].time
    return any(
        float(max(other[0].time - end, start - other[-1].time)) <= HANDLED_WITHIN_S
        and place.iou(median_box(other)) >= HANDLED_IOU
        for other in lifeless
    )


def _standing(sightings: Sequence[Detection]) -> tuple[float, float] | None:
    """(feet row, height), medians over the track's sightings in a still camera whose feet are in view; None with
    fewer than two such sightings."""
    standing = [
        sighting.box
        for sighting in sightings
        if isinstance(sighting, Sighting)
        and sighting.changed_outside is not None
        and sighting.changed_outside <= GROUND_STILL
        and sighting.box.y1 < FEET_IN_VIEW
    ]
    if len(standing) < 2:
        return None
    return float(np.median([box.y1 for box in standing])), float(np.median([box.y1 - box.y0 for box in standing]))


def ground_line(tracks: Sequence[Sequence[Detection]]) -> tuple[float, float] | None:
    """(slope, intercept) of height against feet row that most tracks agree with; None where too few tracks stand
    in a still camera, or all at about one depth.

    Consensus first: of the lines through every two tracks' standing points, the one that most points lie within
    `GROUND_AGREEMENT` of (oversized boxes cluster where the street corner is, and would tilt any least-squares or
    even Theil–Sen line towards them). Then the Theil–Sen line (the median of pairwise slopes) through the points
    that agree, so the result does not hang on two points."""
    points = np.array([point for point in map(_standing, tracks) if point is not None])
    if len(points) < MIN_GROUND_TRACKS or np.ptp(points[:, 0]) < MIN_GROUND_SPREAD:
        return None
    agreeing = max((_agreeing(points, line) for line in _lines_through_pairs(points)), key=lambda mask: int(mask.sum()))
    if agreeing.sum() < MIN_GROUND_TRACKS:
        return None
    slope = float(np.median(_lines_through_pairs(points[agreeing])[:, 0]))
    return slope, float(np.median(points[agreeing, 1] - slope * points[agreeing, 0]))


def _lines_through_pairs(points: np.ndarray) -> np.ndarray:
    """(slope, intercept) rows, one per pair of points at different feet rows."""
    first, second = np.triu_indices(len(points), k=1)
    rise, run = points[second, 1] - points[first, 1], points[second, 0] - points[first, 0]
    apart = np.abs(run) > 1e-6
    slopes = rise[apart] / run[apart]
    return np.column_stack([slopes, points[first[apart], 1] - slopes * points[first[apart], 0]])


def _agreeing(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    """Which points' heights lie within `GROUND_AGREEMENT` (as a ratio) of the line's at their feet."""
    allowed = line[0] * points[:, 0] + line[1]
    return (allowed > 0) & (np.abs(points[:, 1] / np.maximum(allowed, 1e-9) - 1) <= GROUND_AGREEMENT)


def in_proportion(sightings: Sequence[Detection], line: tuple[float, float]) -> bool:
    """False for a track standing in a still camera far taller than a person whose feet are where its feet are."""
    point = _standing(sightings)
    if point is None:
        return True
    foot, height = point
    allowed = line[0] * foot + line[1]
    return allowed <= 0 or height <= OVERSIZE * allowed


def median_box(sightings: Sequence[Detection]) -> Box:
    """The coordinate-wise median of the sightings' boxes: where a track mostly stood."""
    corners = np.median([sighting.box.to_list() for sighting in sightings], axis=0)
    return Box(*(float(value) for value in corners))
