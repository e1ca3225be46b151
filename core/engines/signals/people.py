"""People and faces: OpenCV's bundled detectors at a sampled rate, tracked into presence spans with tubes.

Detectors (weights ship inside the opencv-python-headless wheel; nothing is downloaded):

- People: the HOG + linear SVM pedestrian detector (`HOGDescriptor_getDefaultPeopleDetector`). Its 64×128 window
  needs a margin around the body, and footage often cuts heads or feet at the frame edge, so the picture is padded
  by `PAD` of its height (edge pixels repeated) before detection; boxes are clipped back to the frame. Windows
  count from an SVM margin of `HIT_THRESHOLD`, grouped hits from `MIN_PERSON_WEIGHT`; overlapping hits, and hits
  mostly inside a stronger one, are suppressed.
- Faces: the Haar frontal-face cascade (`haarcascade_frontalface_default.xml`), `MIN_NEIGHBOURS` votes; it sees
  faces turned towards the camera only.

Small people (`PeopleDetector._small_people`): in a still camera, each person-shaped moving region of the frame
(from the features' background model), and each group of walkers whose outlines merged into one region, is
enlarged on its own and looked at again by HOG (see the class).

Detection runs on the luma picture the one-pass feature extraction hands over (`features.FrameConsumer`), at
`SignalsParams.detect_fps` (1 by default), on a copy `DETECT_SIDE` pixels long (smaller pictures are enlarged, so
someone filling a 160×90 frame still fills the 64×128 window); on this 2-core machine it costs about 15–25 ms
(people) + 6 ms (faces) per sampled frame, and the change measure for the checks a few ms more.

Tracking (`track_people`): detections of one kind are linked across sampled frames, best overlap first, the
overlap being the better IoU (at least `MIN_IOU`) with the track's last box and with the box predicted from its
velocity, so two people who cross keep their identities. A track that lost its subject for up to `max_gap_s` is
picked up again by a detection of similar size near where it was last seen or is predicted to be
(re-identification by position and size: only luma is available), so someone who steps out of view for a moment
stays one track. Tracks seen fewer than `min_sightings` times are dropped (a shot the detector looked at fewer
times asks for a sighting at each look: `_Shots.sightings_needed`), and the rest must pass
`person_checks` (confidence, with faces vouching for person sightings; liveness in a still camera; not a still
object that a hand moved; people in proportion with the ground). Each track
becomes a PERSON or FACE moment: its span runs from the first to the last sighting, widened by half a sampling
interval but not across a shot change, and its tube holds every sighting. `presence_spans` unites them into when
anyone is in view.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np

from reelmark.core.engines.signals.features import Detection, MovingRegion
from reelmark.core.engines.signals.person_checks import (
    ChangeMeter,
    Sighting,
    alive,
    confident,
    ground_line,
    handled,
    in_proportion,
)
from reelmark.core.evaluation import merge_spans
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

HOG_WINDOW = (64, 128)
"""The width and height of the default people detector's window (`cv2.HOGDescriptor().winSize`)."""
DETECT_SIDE = 384
"""Both detectors see this (smaller pictures enlarged): HOG costs 15 ms here against 56 ms at 640 px, and people must stand about a
third of the picture tall anyway (the 64×128 window) to be found."""
PAD = 0.25
HIT_THRESHOLD = -0.5
"""The SVM margin a window needs; below OpenCV's 0 because people seen from behind or above score lower."""
MIN_PERSON_WEIGHT = 0.2
"""The grouped detection's weight it needs to count."""
NMS_OVERLAP = 0.4
CONTAINED = 0.6
MIN_NEIGHBOURS = 5
MIN_IOU = 0.2
REID_DISTANCE = 0.35
"""Re-identification: the new box's centre within this share of the frame of the last one's..."""
REID_SIZE_RATIO = 2.0
"""...and its area within this factor."""
SMALL_PERSON_MAX_HEIGHT = 0.4
"""Moving regions shorter than this share of the picture may hold people the whole-picture pass cannot see (HOG's
window is 128 of `DETECT_SIDE`'s pixels, a third of the picture): each gets a second look of its own, enlarged."""
SMALL_PERSON_MIN_PIXELS = 16
"""...if it is at least this many pixels tall in the detection picture (below that nobody is recognisable)..."""
SMALL_PERSON_MIN_ASPECT = 1.2
"""...and taller than wide by this much, as a standing or walking person's moving outline is."""
GROUP_MAX_WIDTH = 4.0
"""A moving region wider than tall is looked at too, as people walking together (their outlines merge into one
region), up to this many times as wide as it is tall; wider is traffic, not a group."""
GROUP_INSIDE = 0.8
"""A hit in a group's look counts where this share of its width lies inside the region and it covers this share
of the region's height..."""
GROUP_HEIGHTS = (0.8, 1.8)
"""...and its box is between these multiples of the region's height tall (HOG's box has a margin around the body):
a whole walker of the group, not a head or a pattern on the road beside it."""
LOOK_MARGIN = 1.6
"""The area looked at: this many times the region's height, at least half as wide as it is tall."""
LOOK_HEIGHT = 160
"""The area is enlarged to this height, so that the region fills about HOG's 128 px window."""
LOOK_BORDER = 16
"""Pixels of repeated edge around the enlarged area, so a window may stand on its edges."""
LOOK_STILL = 0.1
"""The second look is taken only where at most this share of the picture changed over the last second: the camera
is still, so the moving regions are things that move (in a moving or hand-held shot they are the background
sliding by; on the music video the second look's hits all came at 0.15-0.33, on a CCTV street at 0.03-0.07)."""
LOOK_AGREEMENT = 0.4
"""A hit of the second look counts where its box overlaps the moving region by this IoU: the person found is the
thing that moves, not a pattern beside it."""
VELOCITY_SIGHTINGS = 3
"""A track's velocity is read over its last this many sightings: enough to smooth the detector's jitter, few
enough to follow a turn."""


class PeopleDetector:
    """A features.FrameConsumer: called as detector(time, luma, regions) at the sampled rate; collects
    `detections`.

    Two looks for people. The whole picture, at `DETECT_SIDE`, finds people standing a third of the picture tall or
    more. People further away (a street seen by a CCTV camera) are far smaller than HOG's window; the frame's
    moving regions that are shaped like one (`SMALL_PERSON_*`) are looked at again while the camera is still
    (`LOOK_STILL`), each enlarged on its own, and a hit counts where it is the moving thing (`LOOK_AGREEMENT`).
    People walking together merge into one region wider than tall; such a region (`GROUP_*`) is looked at the same
    way, and a hit counts where it is one of the group: inside its width, about its height. Without it, presence on
    OpenCV's CCTV sample breaks at 47.5-52.5 s, where the walkers go in pairs and threes.
    Where nothing moves there is no second look, so its cost follows what happens on screen (about 6 ms a sampled
    frame on a busy street, under 1 ms elsewhere)."""

    def __init__(
        self, people: bool = True, faces: bool = True, enlarge: bool = True, closer: bool = True,
        pixel_aspect: Fraction = Fraction(1),
    ) -> None:  # fmt: skip
        """`enlarge=False` leaves pictures smaller than `DETECT_SIDE` as they are and `closer=False` skips the
        second look (together: the detector before `person_checks`, kept for the benchmark's anchor).
        `pixel_aspect` is the source's (`VideoStreamInfo.pixel_aspect`): pictures are stretched to square pixels
        first, since both detectors learnt people and faces in their true shape (a face squeezed to 3/4 of its width
        gave the cascade a second, wrong face; squeezed to half, none)."""
        self.detections: list[Detection] = []
        self._pixel_aspect = pixel_aspect
        self._enlarge = enlarge
        self._closer = closer
        self._change = ChangeMeter()
        self._hog: cv2.HOGDescriptor | None = None
        self._faces: cv2.CascadeClassifier | None = None
        if people:
            self._hog = cv2.HOGDescriptor()
            self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        if faces:
            self._faces = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")

    def __call__(self, time: Fraction, luma: np.ndarray, regions: Sequence[MovingRegion]) -> None:
        if self._pixel_aspect != 1:
            height, width = luma.shape
            luma = cv2.resize(luma, (round(width * self._pixel_aspect), height), interpolation=cv2.INTER_LINEAR)
        picture = luma
        if self._enlarge or max(luma.shape) > DETECT_SIDE:
            luma = _sized(luma, DETECT_SIDE, shortest=HOG_WINDOW[1])
        height, width = luma.shape
        self._change.update(time, luma)
        found: list[Detection] = []
        if self._hog is not None:
            people = self._people(time, luma, width, height)
            changed = self._change.changed_share()
            if self._closer and changed is not None and changed <= LOOK_STILL:
                people = _suppress(people + self._small_people(time, picture, regions))
            found += people
        if self._faces is not None:
            for x, y, w, h in self._faces.detectMultiScale(luma, scaleFactor=1.1, minNeighbors=MIN_NEIGHBOURS, minSize=(20, 20)):
                box = _box(x, y, w, h, width, height)
                if box is not None:
                    found.append(Detection(time, "face", box, 1.0))
        self.detections += [Sighting(d.time, d.kind, d.box, d.score, *self._change.measure(d.box)) for d in found]

    def _people(self, time: Fraction, luma: np.ndarray, width: int, height: int) -> list[Detection]:
        border_y, border_x = int(height * PAD), int(height * PAD / 2)
        padded = cv2.copyMakeBorder(luma, border_y, border_y, border_x, border_x, cv2.BORDER_REPLICATE)
        return _suppress(self._hog_people(time, padded, (-border_x, -border_y), 1.0, (width, height)))

    def _hog_people(
        self, time: Fraction, image: np.ndarray, origin: tuple[float, float], scale: float, size: tuple[int, int]
    ) -> list[Detection]:
        """HOG's people in `image`, a padded or enlarged view of the picture (`size` pixels) whose pixel (0, 0) lies
        at `origin` in the picture and that is `scale` times its size; boxes in the picture, clipped to it."""
        assert self._hog is not None
        if image.shape[0] < HOG_WINDOW[1] or image.shape[1] < HOG_WINDOW[0]:
            return []  # no window fits, and OpenCV's HOG (4.14) can crash the process on such a picture (384×108 did)
        rects, weights = self._hog.detectMultiScale(image, winStride=(8, 8), scale=1.08, hitThreshold=HIT_THRESHOLD)
        found = []
        for (x, y, w, h), weight in zip(rects, np.ravel(weights), strict=True):
            box = _box(origin[0] + x / scale, origin[1] + y / scale, w / scale, h / scale, *size)
            if box is not None and weight >= MIN_PERSON_WEIGHT:
                found.append(Detection(time, "person", box, float(1 - np.exp(-max(weight, 0.0)))))
        return found


    def _small_people(self, time: Fraction, picture: np.ndarray, regions: Sequence[MovingRegion]) -> list[Detection]:
        """The second look: each person-shaped or group moving region, enlarged with its surroundings (see the
        class)."""
        height, width = picture.shape
        found = []
        for region in regions:
            box = region.box
            region_width, region_height = (box.x1 - box.x0) * width, (box.y1 - box.y0) * height
            if not SMALL_PERSON_MIN_PIXELS <= region_height < SMALL_PERSON_MAX_HEIGHT * height:
                continue
            group = region_height < SMALL_PERSON_MIN_ASPECT * region_width
            if group and region_width > GROUP_MAX_WIDTH * region_height:
                continue
            look_height = LOOK_MARGIN * region_height
            look_width = max(LOOK_MARGIN * region_width, look_height / 2)
            centre_x, centre_y = (box.x0 + box.x1) / 2 * width, (box.y0 + box.y1) / 2 * height
            x0, x1 = max(0, round(centre_x - look_width / 2)), min(width, round(centre_x + look_width / 2))
            y0, y1 = max(0, round(centre_y - look_height / 2)), min(height, round(centre_y + look_height / 2))
            scale = max(1.0, LOOK_HEIGHT / (y1 - y0))
            enlarged = cv2.resize(picture[y0:y1, x0:x1], (round((x1 - x0) * scale), round((y1 - y0) * scale)))
            padded = cv2.copyMakeBorder(enlarged, *[LOOK_BORDER] * 4, cv2.BORDER_REPLICATE)
            origin = (x0 - LOOK_BORDER / scale, y0 - LOOK_BORDER / scale)
            hits = self._hog_people(time, padded, origin, scale, (width, height))
            found += [hit for hit in hits if (_one_of(hit.box, box) if group else hit.box.iou(box) >= LOOK_AGREEMENT)]
        return found


def _one_of(hit: Box, group: Box) -> bool:
    """Whether `hit` is one of the walkers of a moving `group` region: inside its width, about its height."""
    across = max(0.0, min(hit.x1, group.x1) - max(hit.x0, group.x0)) / (hit.x1 - hit.x0)
    upright = max(0.0, min(hit.y1, group.y1) - max(hit.y0, group.y0)) / (group.y1 - group.y0)
    tall = (hit.y1 - hit.y0) / (group.y1 - group.y0)
    return across >= GROUP_INSIDE and upright >= GROUP_INSIDE and GROUP_HEIGHTS[0] <= tall <= GROUP_HEIGHTS[1]


def _sized(image: np.ndarray, side: int, shortest: int) -> np.ndarray:
    """`image` with its longest side `side`: larger pictures are area-averaged down (cost), smaller ones enlarged, so
    that someone filling a small frame still fills HOG's 64×128 window and a close-up face the cascade's 20 px.
    Its shortest side is at least `shortest`, enlarged further if need be: a 5:1 panoramic strip 384 px long would
    be 77 px tall, and someone standing its full height would not fill the window."""
    height, width = image.shape
    scale = max(side / max(height, width), shortest / min(height, width))
    if scale == 1:
        return image
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=interpolation)


def _suppress(candidates: list[Detection]) -> list[Detection]:
    """Non-maximum suppression that also drops a box mostly inside a stronger one (a torso inside a body)."""
    kept: list[Detection] = []
    for candidate in sorted(candidates, key=lambda d: -d.score):
        if all(candidate.box.iou(other.box) < NMS_OVERLAP and _contained(candidate.box, other.box) < CONTAINED for other in kept):
            kept.append(candidate)
    return kept


def _contained(inner: Box, outer: Box) -> float:
    """Share of `inner` lying inside `outer`."""
    width = max(0.0, min(inner.x1, outer.x1) - max(inner.x0, outer.x0))
    height = max(0.0, min(inner.y1, outer.y1) - max(inner.y0, outer.y0))
    return width * height / inner.area if inner.area > 0 else 0.0


def _box(x: float, y: float, w: float, h: float, width: int, height: int) -> Box | None:
    x0, y0 = max(0.0, x / width), max(0.0, y / height)
    x1, y1 = min(1.0, (x + w) / width), min(1.0, (y + h) / height)
    return Box(x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


@dataclass
class _Track:
    kind: str
    sightings: list[Detection] = field(default_factory=list)

    @property
    def last(self) -> Detection:
        return self.sightings[-1]

    def predicted(self, time: Fraction) -> Box:
        """The last box moved on at the track's recent velocity (over up to `VELOCITY_SIGHTINGS` sightings) to
        `time`: through a crossing or a short occlusion the person is looked for where they are heading."""
        first = self.sightings[max(0, len(self.sightings) - VELOCITY_SIGHTINGS)]
        last = self.last
        if first is last or last.time == first.time:
            return last.box
        ahead = float((time - last.time) / (last.time - first.time))
        dx = ((last.box.x0 + last.box.x1) - (first.box.x0 + first.box.x1)) / 2 * ahead
        dy = ((last.box.y0 + last.box.y1) - (first.box.y0 + first.box.y1)) / 2 * ahead
        box = last.box
        x0, x1 = min(1.0, max(0.0, box.x0 + dx)), min(1.0, max(0.0, box.x1 + dx))
        y0, y1 = min(1.0, max(0.0, box.y0 + dy)), min(1.0, max(0.0, box.y1 + dy))
        return Box(x0, y0, x1, y1)


def _centre_distance(a: Box, b: Box) -> float:
    return float(np.hypot((a.x0 + a.x1 - b.x0 - b.x1) / 2, (a.y0 + a.y1 - b.y0 - b.y1) / 2))


def _similar_size(a: Box, b: Box) -> bool:
    return max(a.area, b.area) <= REID_SIZE_RATIO * max(min(a.area, b.area), 1e-9)


def track_people(
    detections: Sequence[Detection],
    sampled_times: Sequence[Fraction],
    end: Fraction,
    *,
    cuts: Sequence[Fraction] = (),
    max_gap_s: float = 3.0,
    min_sightings: int = 2,
    verify: bool = True,
) -> list[Moment]:
    """PERSON and FACE moments with tubes, one per track; see the module docstring. `cuts` are the shot changes
    (`split.shot_changes`): a span ends at the cut after its last sighting, not half a sampling interval into the
    next shot. `verify=False` keeps every track seen `min_sightings` times, unchecked: the detector as it stood
    before `person_checks` (the anchor)."""
    interval = sampling_interval(sampled_times)
    shots = _Shots(cuts, sampled_times, end)
    face_tracks = _tracks(detections, "face", shots, interval, max_gap_s, min_sightings, verify, {})
    faces: dict[Fraction, list[Box]] = {}
    for track in face_tracks:
        for sighting in track.sightings:
            faces.setdefault(sighting.time, []).append(sighting.box)
    person_tracks = _tracks(detections, "person", shots, interval, max_gap_s, min_sightings, verify, faces)
    moments: list[Moment] = []
    for kept, moment_kind in ((person_tracks, MomentKind.PERSON), (face_tracks, MomentKind.FACE)):
        for number, track in enumerate(sorted(kept, key=lambda t: t.sightings[0].time), start=1):
            first, last = track.sightings[0].time, track.last.time
            span = TimeSpan(
                max(shots.bounds(first)[0], first - interval / 2), min(shots.bounds(last)[1], last + interval / 2)
            )
            tube = tuple(TubePoint(sighting.time, sighting.box) for sighting in track.sightings)
            score = float(np.mean([sighting.score for sighting in track.sightings]))
            label = f"{moment_kind.value} {number}"
            moments.append(Moment(moment_kind, span, label=label, score=min(1.0, score), tube=tube))
    return moments


class _Shots:
    """The shots between `cuts`, and how many sampled times each holds."""

    def __init__(self, cuts: Sequence[Fraction], sampled_times: Sequence[Fraction], end: Fraction) -> None:
        self.cuts = sorted(cuts)
        self.end = end
        self.looks = Counter(self.index(time) for time in sampled_times)

    def index(self, time: Fraction) -> int:
        return bisect_right(self.cuts, time)

    def bounds(self, time: Fraction) -> tuple[Fraction, Fraction]:
        """Start and end of the shot holding `time`."""
        index = self.index(time)
        return (self.cuts[index - 1] if index else Fraction(0)), (self.cuts[index] if index < len(self.cuts) else self.end)

    def sightings_needed(self, time: Fraction, min_sightings: int) -> int:
        """How many sightings make a track whose last sighting is at `time`: `min_sightings`, or every look in a
        shot looked at fewer times (in a music video's 0.8 s shot a 1 fps detector looks once, and someone seen at
        every look there is seen as often as they can be)."""
        return max(1, min(min_sightings, self.looks[self.index(time)]))


def _tracks(
    detections: Sequence[Detection],
    kind: str,
    shots: _Shots,
    interval: Fraction,
    max_gap_s: float,
    min_sightings: int,
    verify: bool,
    faces: Mapping[Fraction, Sequence[Box]],
) -> list[_Track]:
    """The tracks of one kind seen at least `min_sightings` times (`_Shots.sightings_needed`: fewer in a shot
    looked at fewer times) that pass the checks (when `verify`); `faces` are the kept face tracks' boxes by time,
    which vouch for person sightings."""
    tracks: list[_Track] = []
    by_time: dict[Fraction, list[Detection]] = {}
    for detection in detections:
        if detection.kind == kind:
            by_time.setdefault(detection.time, []).append(detection)
    for time in sorted(by_time):
        open_tracks = [t for t in tracks if float(time - t.last.time) <= max_gap_s + float(interval)]
        for detection, track in _assign(by_time[time], open_tracks, time):
            if track is None:
                track = _Track(kind)
                tracks.append(track)
            track.sightings.append(detection)
    seen = [track for track in tracks if len(track.sightings) >= shots.sightings_needed(track.last.time, min_sightings)]
    if not verify:
        return seen
    sure = [track for track in seen if confident(track.sightings, faces)]
    lifeless = [track.sightings for track in sure if not alive(track.sightings)]
    kept = [track for track in sure if alive(track.sightings) and not handled(track.sightings, lifeless)]
    line = ground_line([track.sightings for track in kept]) if kind == "person" else None
    return [track for track in kept if line is None or in_proportion(track.sightings, line)]


def sampling_interval(sampled_times: Sequence[Fraction]) -> Fraction:
    """The detectors' usual step between sampled times (their median gap): a track is taken as seen for half of
    it either side of each sighting."""
    gaps = [b - a for a, b in zip(sampled_times, sampled_times[1:], strict=False) if b > a]
    return Fraction(np.median(gaps)) if gaps else Fraction(1, 2)  # type: ignore[arg-type]


def _assign(detections: list[Detection], tracks: list[_Track], time: Fraction) -> list[tuple[Detection, _Track | None]]:
    """Each detection with the open track it continues (None: a new track). Pairs are taken best overlap first,
    the overlap being the better IoU with the track's last box and with where it is predicted to be now: two
    people who cross keep their identities, and a detector's jump (half a body, then all of it) does not throw the
    prediction off. A detection left over is re-identified by position and size, else it starts a track."""
    places = {id(track): (track.last.box, track.predicted(time)) for track in tracks}
    pairs = sorted(
        (
            (max(detection.box.iou(place) for place in places[id(track)]), d, t)
            for d, detection in enumerate(detections)
            for t, track in enumerate(tracks)
        ),
        key=lambda pair: -pair[0],
    )
    chosen: dict[int, _Track | None] = {}
    taken: set[int] = set()
    for overlap, d, t in pairs:
        if overlap >= MIN_IOU and d not in chosen and t not in taken:
            chosen[d] = tracks[t]
            taken.add(t)
    for d, detection in sorted(enumerate(detections), key=lambda item: -item[1].score):
        if d in chosen:
            continue
        distances = {
            t: min(_centre_distance(detection.box, place) for place in places[id(track)])
            for t, track in enumerate(tracks)
            if t not in taken and any(_similar_size(detection.box, place) for place in places[id(track)])
        }
        nearest = min((t for t in distances if distances[t] <= REID_DISTANCE), key=distances.__getitem__, default=None)
        chosen[d] = None if nearest is None else tracks[nearest]
        if nearest is not None:
            taken.add(nearest)
    return [(detection, chosen[d]) for d, detection in enumerate(detections)]


def presence_spans(moments: Sequence[Moment], merge_gap_s: float = 1.0) -> list[tuple[float, float]]:
    """When anyone is in view: the union of PERSON and FACE spans, joined across gaps of at most `merge_gap_s`
    (the measure the acceptance scores: a shot full of people is one span however its tracks come and go)."""
    return merge_spans(
        [(float(m.span.start), float(m.span.end)) for m in moments if m.kind in (MomentKind.PERSON, MomentKind.FACE)],
        merge_gap_s,
    )
