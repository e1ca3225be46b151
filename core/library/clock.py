"""When each moment happened by the wall clock: the recording's start plus the moment's media time.

The start comes from, in order:
1. the creation time tag (the video stream's, else the container's). MP4/QuickTime store it in UTC (ISO/IEC
   14496-12 `creation_time`, seconds since 1904 UTC), and FFmpeg shows it with a `Z`, so its zone is known (UTC);
   a tag written without a zone is kept as the camera's local time, zone unknown.
2. time-of-day source timecode, where the file has no creation date: many cameras run timecode as the time of
   day ("free run"), so it gives the clock time but not the date. Assumed: we cannot tell free-run from
   record-run timecode in the file, so a timecode-only file is dated by it and the source says "timecode".
3. neither: unknown. An epoch-zero tag (1970-01-01 00:00:00, what muxers write when they do not know) is already
   read as missing by `probing`, so nothing is ever dated 1970.

`--between` and `--on` compare the clock in the recording's own zone: the zone the tag carries, else as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from reelmark.core.media.types import MediaInfo

SECONDS_PER_DAY = 86_400
_TIMECODE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})[:;.](\d{2,3})$")


@dataclass(frozen=True)
class RecordingStart:
    at: datetime | None
    """The start with its date (aware when the zone is known); None when only the time of day, or nothing, is."""
    time_of_day: float | None
    """Seconds after midnight, when known (from `at`, or from timecode alone)."""
    source: str
    """"creation_time", "timecode" or "unknown"."""

    @property
    def zone(self) -> str:
        if self.at is None or self.at.tzinfo is None:
            return "unknown"
        return self.at.tzname() or str(self.at.tzinfo)


@dataclass(frozen=True)
class MomentClock:
    date: str | None
    """YYYY-MM-DD in the recording's zone; None when the date is unknown."""
    time_of_day: float | None
    """Seconds after midnight; None when the clock is unknown."""
    iso: str | None
    """The full clock time (ISO 8601, with the offset when known), or just HH:MM:SS when only that is known."""


UNKNOWN = RecordingStart(None, None, "unknown")


def recording_start(info: MediaInfo) -> RecordingStart:
    created = (info.video.creation_time if info.video is not None else None) or info.creation_time
    if created is not None:
        seconds = created.hour * 3600 + created.minute * 60 + created.second + created.microsecond / 1e6
        return RecordingStart(created, seconds, "creation_time")
    timecode = info.video.timecode if info.video is not None else None
    seconds_of_timecode = _timecode_seconds(timecode, info.video.rate if info.video is not None else None)
    if seconds_of_timecode is not None:
        return RecordingStart(None, seconds_of_timecode, "timecode")
    return UNKNOWN


def moment_clock(start: RecordingStart, media_seconds: float) -> MomentClock:
    if start.at is not None:
        at = start.at + timedelta(seconds=media_seconds)
        seconds = at.hour * 3600 + at.minute * 60 + at.second + at.microsecond / 1e6
        return MomentClock(at.date().isoformat(), seconds, at.isoformat(timespec="milliseconds"))
    if start.time_of_day is not None:
        seconds = (start.time_of_day + media_seconds) % SECONDS_PER_DAY
        return MomentClock(None, seconds, format_time_of_day(seconds))
    return MomentClock(None, None, None)


def format_time_of_day(seconds: float) -> str:
    """HH:MM:SS (hours past 23 keep counting: it formats durations too)."""
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def parse_time_of_day(text: str) -> float:
    """`HH:MM` or `HH:MM:SS` → seconds after midnight; anything else is a ValueError saying the form."""
    parts = text.strip().split(":")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        numbers = []
    if len(numbers) not in (2, 3) or not (0 <= numbers[0] <= 23 and all(0 <= n <= 59 for n in numbers[1:])):
        raise ValueError(f"{text!r} is not a time of day; write HH:MM or HH:MM:SS (24-hour), e.g. 18:00")
    hours, minutes, seconds = (*numbers, 0)[:3]
    return hours * 3600 + minutes * 60 + seconds


def parse_date(text: str) -> str:
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise ValueError(f"{text!r} is not a date; write YYYY-MM-DD, e.g. 2024-06-01") from None


def _timecode_seconds(timecode: str | None, rate: Fraction | None) -> float | None:
    match = _TIMECODE.match(timecode or "")
    if match is None:
        return None
    hours, minutes, seconds, frames = (int(group) for group in match.groups())
    nominal = round(rate) if rate else 0
    return hours * 3600 + minutes * 60 + seconds + (frames / nominal if nominal else 0.0)
