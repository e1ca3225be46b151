"""One video decode, every per-frame feature the signals tasks read.

Frames come from `sample_frames` as Y'CbCr planes (as decoded, no colour conversion), decimated by the largest
whole step that keeps the longest side at least `FEATURE_SIDE` pixels; the feature thumbnails are area-averaged from
that with OpenCV (fast, and grain averages out). The people detectors get a larger luma of the sampled frames
(`detect_side`), converted from the same decoded frame only for them:

- `colour_change`: mean absolute Y'CbCr difference of consecutive 48×27 thumbnails, in 0–255 levels: the hard-cut
  score. Colour matters: real cuts between shots of similar brightness move a luma histogram by only 0.16–0.48,
  while their colour and layout change everywhere. 48×27 is TransNetV2's input size: coarse enough that grain and
  small motion average out, fine enough that a cut within one set still changes most cells;
- `aligned_change`: the same difference after rolling the previous thumbnail by the global translation that
  phase correlation finds between the two: a camera shake or a whip pan moves the picture (the aligned change
  falls to a fraction), a cut replaces it (on real cuts labelled by eye it keeps 85–100 % of the change). Computed
  only where the change could be a cut (`ALIGN_FROM` levels); elsewhere it equals the change;
- `pictures`: every frame's 16×9 Y'CbCr thumbnail (432 bytes a frame), so detectors can compare any two frames
  (a flash: does the picture from before it come back after it?) without holding larger frames for hours;
- `cut_score`: half the L1 distance between consecutive 32-bin luma histograms (0 same, 1 disjoint): the gradual
  transition score (fades, dissolves change the histogram steadily); the histograms themselves are kept
  (`histograms`) for any-pair checks;
- `luma_mean`, `luma_std`: brightness and contrast, for fades and black frames;
- `motion`: mean absolute difference of consecutive 64 px thumbnails, /255 (averaging over blocks keeps sensor
  grain out of it);
- `foreground_fraction`: share of the thumbnail that background subtraction (`background.StaticBackground`:
  exposure-compensated running average, reset at hard cuts) marks as moving; meaningful in a static shot;
  `stirring_fraction`, the part of it that changed from frame to frame within the last few seconds (no ghosts);
- the connected moving regions (`moving_regions`) at `REGION_FPS` and at every sampled frame, and at `detect_fps`
  the detection-size picture and that frame's moving regions handed to `consumers` (the people detector, which
  looks for small people where something moves), so no task decodes the file again.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import cv2
import numpy as np

from reelmark.core.engines.base import AnalysisCancelled, CancelCheck
from reelmark.core.engines.signals.background import StaticBackground
from reelmark.core.media.frames import FrameSampler
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Box

FrameConsumer = Callable[[Fraction, np.ndarray, "Sequence[MovingRegion]"], None]
"""Receives (time, upright luma at detection size, the frame's moving regions) at the sampled rate."""
FeatureProgress = Callable[[float], None]

HISTOGRAM_BINS = 32
COLOUR_THUMB_SIZE = (48, 27)
ALIGN_FROM = 3.0
"""Colour change, in levels, from which the aligned change is worth measuring (below the loosest cut floor)."""
PICTURE_SIZE = (16, 9)
THUMB_SIDE = 160
FEATURE_SIDE = 360
"""Every frame's features are computed from a picture whose longest side is at least this (each 160 px thumbnail
pixel still averages 2.25 or more samples a side), where the source allows. Sources under 1080 px on their longest
side get the same picture as the detectors, as before this rule; at 1080p it saves converting and reducing a 640 px
picture on every frame, about an eighth of the whole pass."""
MOTION_SIDE = 64
HARD_CUT_RESET = 0.5
REGION_FPS = 4
"""Moving regions are cheap (connected components of a 160 px mask), so they come at least this often, whatever
the detectors' rate: reframe and activity tubes follow a subject that crosses the frame in seconds."""
MIN_REGION_AREA = 0.002
"""Moving regions smaller than this share of the frame are noise."""
CONSUMER_BACKLOG = 4
"""Sampled frames that may wait for the consumers' thread before the decode waits for it: enough to ride out a slow
detection, few enough that memory stays bounded at any sample rate."""


@dataclass(frozen=True)
class Detection:
    """One detector hit at one sampled frame."""

    time: Fraction
    kind: Literal["person", "face"]
    box: Box
    score: float


@dataclass(frozen=True)
class MovingRegion:
    """A connected region that background subtraction marks as moving, at one sampled frame."""

    time: Fraction
    box: Box
    area: float
    """Share of the frame covered by moving pixels inside the region."""
    changing: float | None = None
    """Share of the region's moving pixels that changed from frame to frame since the previous region sample
    (`REGION_FPS`; `StaticBackground.stirring`). 0 for a ghost: where someone stood long enough for the background
    to half learn them, and left. None where it is not known (regions made by hand): taken as changing."""


@dataclass
class VideoFeatures:
    """Per-frame signals over the analysed range; index i is the i-th decoded frame."""

    times: tuple[Fraction, ...]
    seconds: np.ndarray
    rate: Fraction
    end: Fraction
    """End of the last frame: where the analysed video stops."""
    size: tuple[int, int]
    """Upright (width, height) of the source picture."""
    histograms: np.ndarray
    """[frames, 32] normalised luma histograms, so detectors can compare any two frames (fade: before vs after)."""
    pictures: np.ndarray
    """[frames, 9, 16, 3] uint8 Y'CbCr thumbnails, for any-pair picture comparisons (flash: before vs after)."""
    colour_change: np.ndarray
    aligned_change: np.ndarray
    cut_score: np.ndarray
    luma_mean: np.ndarray
    luma_std: np.ndarray
    motion: np.ndarray
    foreground_fraction: np.ndarray
    stirring_fraction: np.ndarray
    """Share of the picture that is moving and changed within the last few seconds (`StaticBackground.stirring`):
    the foreground without ghosts and people standing still."""
    sampled_times: tuple[Fraction, ...]
    moving_regions: tuple[MovingRegion, ...]
    pixel_aspect: Fraction = Fraction(1)
    """Width over height of one upright pixel as shown (`VideoStreamInfo.pixel_aspect`)."""

    @property
    def frame_count(self) -> int:
        return len(self.times)

    def index_at(self, time: Fraction) -> int:
        """The frame on screen at `time` (clamped to the range)."""
        index = int(np.searchsorted(self.seconds, float(time), side="right")) - 1
        while index + 1 < len(self.times) and self.times[index + 1] <= time:
            index += 1
        while index > 0 and self.times[index] > time:
            index -= 1
        return max(0, index)


def feature_side(width: int, height: int, detect_side: int) -> int:
    """The longest side to decimate a source to for the per-frame features (`FrameSampler` picks the smallest
    whole step that brings it to at most this): the largest step that keeps it at least `FEATURE_SIDE`, and never
    a finer picture than the detectors get."""
    longest = max(width, height)
    step = max(math.ceil(longest / detect_side), longest // FEATURE_SIDE, 1)
    return math.ceil(longest / step)


def _area_thumbnail(image: np.ndarray, side: int) -> np.ndarray:
    """Area-averaged thumbnail with the longest side `side`: sensor grain averages out, motion and cuts do not."""
    height, width = image.shape
    scale = side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


_ALIGNMENT_WINDOW = cv2.createHanningWindow(COLOUR_THUMB_SIZE, cv2.CV_32F)


def shift_compensated_change(previous: np.ndarray, current: np.ndarray) -> float:
    """Mean absolute difference of two Y'CbCr thumbnails once the global shift between their lumas (phase
    correlation) is undone, rolling the previous one round its edges: what a move cannot explain stays."""
    (shift_x, shift_y), _ = cv2.phaseCorrelate(
        previous[..., 0].astype(np.float32), current[..., 0].astype(np.float32), _ALIGNMENT_WINDOW
    )
    shifted = np.roll(previous, (round(shift_y), round(shift_x)), axis=(0, 1))
    return float(cv2.absdiff(shifted, current).mean())


class _Clock:
    """Says which frames fall due at a fixed interval: the first frame, then the first one at or after each tick."""

    def __init__(self, interval: Fraction):
        self.interval = interval
        self.next: Fraction | None = None

    def due(self, time: Fraction) -> bool:
        if self.next is not None and time < self.next:
            return False
        self.next = time if self.next is None else self.next
        while self.next <= time:
            self.next += self.interval
        return True


class _Accumulator:
    """Running per-frame state of the single pass."""

    def __init__(self, detect_interval: Fraction):
        self.detection_due = _Clock(detect_interval)
        self.regions_due = _Clock(min(detect_interval, 1 / REGION_FPS))
        self.previous_histogram: np.ndarray | None = None
        self.previous_motion = np.empty(0, np.uint8)
        self.background = StaticBackground()
        names = ("colour_change", "aligned_change", "cut_score", "luma_mean", "luma_std", "motion", "foreground", "stirring")
        self.columns: dict[str, list[float]] = {name: [] for name in names}
        self.previous_colour = np.empty(0, np.uint8)
        self.histograms: list[np.ndarray] = []
        self.pictures: list[np.ndarray] = []
        self.times: list[Fraction] = []
        self.sampled_times: list[Fraction] = []
        self.regions: list[MovingRegion] = []

    def add(
        self, time: Fraction, luma: np.ndarray, chroma: tuple[np.ndarray, np.ndarray]
    ) -> tuple[MovingRegion, ...] | None:
        """Fold one frame in (its luma, and its Cb and Cr planes on their own grid); for a sampled (detection)
        frame, its moving regions, else None."""
        colour = cv2.merge([cv2.resize(plane, COLOUR_THUMB_SIZE, interpolation=cv2.INTER_AREA) for plane in (luma, *chroma)])
        self.pictures.append(cv2.resize(colour, PICTURE_SIZE, interpolation=cv2.INTER_AREA))
        thumb = _area_thumbnail(luma, THUMB_SIDE)
        histogram = cv2.calcHist([thumb], [0], None, [HISTOGRAM_BINS], [0, 256]).ravel() / thumb.size
        motion_thumb = _area_thumbnail(thumb, MOTION_SIDE)  # from the thumbnail: a quarter of the work
        if self.previous_histogram is None:
            change, aligned, cut, motion = 0.0, 0.0, 0.0, 0.0
        else:
            change = float(cv2.absdiff(colour, self.previous_colour).mean())
            aligned = shift_compensated_change(self.previous_colour, colour) if change >= ALIGN_FROM else change
            cut = 0.5 * float(np.abs(histogram - self.previous_histogram).sum())
            motion = float(cv2.absdiff(motion_thumb, self.previous_motion).mean()) / 255
        if cut > HARD_CUT_RESET:
            self.background.reset()  # a new shot: the old background means nothing
        moving = self.background.apply(thumb, float(time))
        self.previous_histogram, self.previous_motion, self.previous_colour = histogram, motion_thumb, colour
        mean, deviation = cv2.meanStdDev(thumb)
        for name, value in (
            ("colour_change", change),
            ("aligned_change", aligned),
            ("cut_score", cut),
            ("luma_mean", float(mean[0, 0])),
            ("luma_std", float(deviation[0, 0])),
            ("motion", motion),
            ("foreground", float(moving.mean())),
            ("stirring", float(self.background.stirring(moving).mean())),
        ):
            self.columns[name].append(value)
        self.histograms.append(histogram)
        self.times.append(time)
        sampled = self.detection_due.due(time)
        regions = self._collect_regions(time, moving) if self.regions_due.due(time) or sampled else ()
        if not sampled:
            return None
        self.sampled_times.append(time)
        return regions

    def _collect_regions(self, time: Fraction, moving: np.ndarray) -> tuple[MovingRegion, ...]:
        cleaned = cv2.morphologyEx(moving.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        cleaned = cv2.dilate(cleaned, np.ones((5, 5), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(cleaned, connectivity=8)
        changed = self.background.stirring(moving, within_s=1 / REGION_FPS)
        height, width = moving.shape
        found = []
        for label in range(1, count):
            x, y, w, h, area = (int(value) for value in stats[label])
            share = area / moving.size
            if share >= MIN_REGION_AREA:
                box = Box(x / width, y / height, min(1.0, (x + w) / width), min(1.0, (y + h) / height))
                inside = labels[y : y + h, x : x + w] == label
                # A region grows from the opened mask, a part of `moving`: it holds at least one moving pixel.
                pixels = np.count_nonzero(moving[y : y + h, x : x + w] & inside)
                changing = np.count_nonzero(changed[y : y + h, x : x + w] & inside) / pixels
                found.append(MovingRegion(time, box, share, float(changing)))
        self.regions += found
        return tuple(found)


def extract_video_features(
    info: MediaInfo,
    *,
    start: Fraction | None = None,
    end: Fraction | None = None,
    detect_fps: Fraction = Fraction(1),
    detect_side: int = 640,
    consumers: Sequence[FrameConsumer] = (),
    progress: FeatureProgress | None = None,
    cancelled: CancelCheck | None = None,
) -> VideoFeatures:
    """Decode the video once and compute every per-frame feature; `consumers` see the sampled frames."""
    assert info.video is not None, "extract_video_features needs a video stream"
    sampler = FrameSampler(
        info.path, start=start, end=end, max_side=feature_side(info.video.width, info.video.height, detect_side),
        detail_side=detect_side, color="ycbcr", fast_decode=True, info=info,
    )  # fmt: skip  (the features are statistics: skipping the deblocking filter costs them nothing and saves a fifth)
    accumulator = _Accumulator(1 / detect_fps)
    expected = sampler.plan.estimated_samples or 1
    with _ConsumerThread(consumers) as handing:
        for index, sample in enumerate(sampler):
            assert sample.chroma is not None, "color='ycbcr' hands over the chroma planes"
            regions = accumulator.add(sample.time, sample.image, sample.chroma)
            if regions is not None and consumers:
                assert sample.detail is not None, "detail_side was given"
                handing.send(sample.time, sample.detail(), regions)
            if index % 32 == 0:
                if cancelled is not None and cancelled():
                    raise AnalysisCancelled("analysis cancelled")
                if progress is not None:
                    progress(min(1.0, index / expected))
    if progress is not None:
        progress(1.0)
    times = tuple(accumulator.times)
    frame_duration = 1 / info.video.rate
    columns = {name: np.asarray(values, dtype=np.float32) for name, values in accumulator.columns.items()}
    return VideoFeatures(
        times=times,
        seconds=np.asarray([float(time) for time in times], dtype=np.float64),
        rate=info.video.rate,
        end=(times[-1] + frame_duration) if times else (start or info.video.start),
        size=info.video.display_size,
        pixel_aspect=info.video.pixel_aspect,
        histograms=np.asarray(accumulator.histograms, dtype=np.float32).reshape(-1, HISTOGRAM_BINS),
        pictures=np.asarray(accumulator.pictures, dtype=np.uint8).reshape(-1, PICTURE_SIZE[1], PICTURE_SIZE[0], 3),
        colour_change=columns["colour_change"],
        aligned_change=columns["aligned_change"],
        cut_score=columns["cut_score"],
        luma_mean=columns["luma_mean"],
        luma_std=columns["luma_std"],
        motion=columns["motion"],
        foreground_fraction=columns["foreground"],
        stirring_fraction=columns["stirring"],
        sampled_times=tuple(accumulator.sampled_times),
        moving_regions=tuple(accumulator.regions),
    )


class _ConsumerThread:
    """Runs the consumers on one worker thread, frame after frame in order, so that their work (the people
    detectors, which release the GIL) overlaps the decode and the per-frame features instead of stalling them.
    One thread keeps each consumer's calls in order; an error in a consumer is raised in the decoding thread at
    the next frame handed over, or on leaving."""

    def __init__(self, consumers: Sequence[FrameConsumer]):
        self.consumers = tuple(consumers)
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="frame-consumers") if self.consumers else None
        self.pending: deque[Future[None]] = deque()

    def __enter__(self) -> _ConsumerThread:
        return self

    def send(self, time: Fraction, image: np.ndarray, regions: Sequence[MovingRegion]) -> None:
        if self.pool is None:
            return
        while len(self.pending) >= CONSUMER_BACKLOG:
            self.pending.popleft().result()
        self.pending.append(self.pool.submit(self._consume, time, image, regions))

    def _consume(self, time: Fraction, image: np.ndarray, regions: Sequence[MovingRegion]) -> None:
        for consumer in self.consumers:
            consumer(time, image, regions)

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if self.pool is None:
            return
        if error_type is not None:  # cancelled or failed: the frames still waiting are not wanted
            self.pool.shutdown(wait=True, cancel_futures=True)
            return
        try:
            while self.pending:
                self.pending.popleft().result()
        finally:
            self.pool.shutdown(wait=True)
