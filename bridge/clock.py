"""Media time ⇄ OTIO frames for one media file, exact, timecode-aware.

reelmark's moments are in media seconds: presentation times as the container counts them (a Matroska file may
start at 0.033 s). NLEs count a clip's source frames from its timecode: 01:00:00:00 at 24 fps is frame 86400,
and Resolve's OTIO import wants exactly those timecode-absolute frames (DESIGN §3, §9). `MediaClock` converts
between the two for one file, so every writer places a marker on the same frame.

A frame index is the frame on screen at a time: frame n shows from `first + n / rate`. Times between two frames
round to the nearest frame boundary, so a moment that starts on a frame (as engine moments do) lands on it.
VFR media is placed on its average rate's grid, the grid every NLE puts such a file on.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

from reelmark.core.errors import InvalidRequestError
from reelmark.core.media.types import MediaInfo
from reelmark.core.times import exact_rate, from_rational_time, round_fraction

AUDIO_ONLY_RATE = Fraction(25)
"""The frame grid for media without video: NLEs place audio clips on a video frame grid too."""


@dataclass(frozen=True)
class MediaClock:
    rate: Fraction
    """Frames per second of the source (exact)."""
    first_frame_time: Fraction
    """Media time of frame 0 (the video stream's start)."""
    timecode_frame: int
    """The source timecode of frame 0 as a frame count at `rate`; 0 without timecode."""
    frame_count: int

    @classmethod
    def from_probe(cls, info: MediaInfo, rate: Fraction | None = None) -> MediaClock:
        video = info.video
        if video is None:
            chosen = rate or AUDIO_ONLY_RATE
            frames = round_fraction((info.duration or Fraction(0)) * chosen, "ceil")
            return cls(chosen, Fraction(0), 0, frames)
        return cls(video.rate, video.start, video.timecode_frame or 0, video.frame_count)

    @classmethod
    def for_clip(cls, clip: otio.schema.Clip, info: MediaInfo) -> MediaClock:
        """The clock of a timeline clip's own source time: its rate, with frame 0 of the file at its reference's start.

        Where the reference has an `available_range`, the timeline says where the file starts (usually its source
        timecode); otherwise the clip's ranges are read against the file's own timecode, as EDLs count them.
        """
        rate = exact_rate(clip.trimmed_range().start_time.rate)
        probed = cls.from_probe(info)
        reference = clip.media_reference
        if reference.available_range is not None:
            origin = from_rational_time(reference.available_range.start_time) * rate
        else:
            origin = Fraction(probed.timecode_frame) / probed.rate * rate
        if origin.denominator != 1:
            raise InvalidRequestError(
                f"clip {clip.name!r}: its media starts between two frames at {float(rate):g} fps; conform the timeline "
                "to the media's frame rate"
            )
        return cls(rate, probed.first_frame_time, int(origin), probed.frame_count)

    @property
    def float_rate(self) -> float:
        return float(self.rate)

    def frame_at(self, seconds: Fraction) -> int:
        """Timecode-absolute frame number of the frame boundary nearest to `seconds` of media time."""
        return self.timecode_frame + round_fraction((seconds - self.first_frame_time) * self.rate)

    def time_at(self, seconds: Fraction) -> otio.opentime.RationalTime:
        return otio.opentime.RationalTime(self.frame_at(seconds), self.float_rate)

    def range_of(self, start: Fraction, end: Fraction) -> otio.opentime.TimeRange:
        first = self.frame_at(start)
        return otio.opentime.TimeRange(
            otio.opentime.RationalTime(first, self.float_rate),
            otio.opentime.RationalTime(self.frame_at(end) - first, self.float_rate),
        )

    def seconds_of(self, time: otio.opentime.RationalTime) -> Fraction:
        """Media seconds of a timecode-absolute OTIO time (any rate: it is rescaled exactly)."""
        frames = from_rational_time(time) * self.rate
        return self.first_frame_time + (frames - self.timecode_frame) / self.rate

    def available_range(self) -> otio.opentime.TimeRange:
        """The whole file, from its timecode: what Resolve and the FCP adapters expect on a reference."""
        return otio.opentime.TimeRange(
            otio.opentime.RationalTime(self.timecode_frame, self.float_rate),
            otio.opentime.RationalTime(self.frame_count, self.float_rate),
        )
