"""Checking a requested source range against the media: one rule set for sampler, CLI and daemon."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from reelmark.core.errors import InvalidRangeError
from reelmark.core.media.types import MediaInfo
from reelmark.core.times import as_fraction

TimeInput = Fraction | int | float | str


def media_start(info: MediaInfo) -> Fraction:
    """The earliest presentation time: the first video frame, else the first audio sample."""
    if info.video is not None:
        return info.video.start
    return min((stream.start for stream in info.audio), default=Fraction(0))


def media_end(info: MediaInfo) -> Fraction | None:
    """Where the media stops, by its headers; None if no header says."""
    video = info.video
    if video is not None and video.duration is not None:
        return video.start + video.duration
    return info.duration


def checked_range(info: MediaInfo, start: TimeInput | None, end: TimeInput | None) -> tuple[Fraction, Fraction | None]:
    """(start, end) clamped to the media; absurd ranges raise `InvalidRangeError` saying what is wrong.

    An end past the media's end is read as "to the end" (NLE ranges often carry handles); a start past the end,
    a negative start or an empty range is an error.
    """
    name = Path(info.path).name
    first = media_start(info)
    last = media_end(info)
    range_start = first if start is None else as_fraction(start)
    range_end = None if end is None else as_fraction(end)
    if range_start < 0:
        raise InvalidRangeError(f"start {float(range_start):g} s is negative; media time starts at 0")
    if last is not None and range_start >= last:
        raise InvalidRangeError(
            f"start {float(range_start):g} s is at or past the end of {name} ({float(last):g} s); pick a start inside the clip"
        )
    if range_end is not None and range_end <= range_start:
        raise InvalidRangeError(f"end {float(range_end):g} s is not after start {float(range_start):g} s")
    if range_end is not None and last is not None:
        range_end = min(range_end, last)
    return max(range_start, first), range_end
