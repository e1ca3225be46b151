"""The part of the media a timeline clip uses, in media time, whatever the clip's and the timeline's rates.

What the documentation and the live-tested notes give us (davinci-resolve-mcp `docs/reference/`):
- `GetDuration()` counts timeline frames (scripting README: the item's duration on the timeline);
- `GetSourceStartFrame()` / `GetSourceEndFrame()` count in the media's own frame rate (api-limitations,
  "GetSourceStartFrame on an AUDIO item"), are the true source even on a retimed clip (its "witness
  calibration"), may read one frame off (api-limitations, "TimelineItem.GetSourceStartFrame"), and the end is
  exclusive at matching rates but inclusive when the rates differ;
- `GetLeftOffset()` is exact, but counts record-side ("warped") frames: the same edit point as the source start
  at 100 % speed, divided by the speed on a retimed clip, advancing at the timeline rate when the rates differ
  (measured on audio items; assumed for video items, where no mismatched-rate measurement exists).
So: at 100 % speed the range starts at `GetLeftOffset() / timeline rate` and lasts `GetDuration() / timeline
rate`. Because the timeline-rate reading of `GetLeftOffset` is measured on audio only, it is checked against
`GetSourceStartFrame() / media rate`; when the two disagree by more than a frame of each, the documented
media-rate source frame is used. When the source frames span a different length than the record (beyond the
same slack) the clip is retimed and the true source frames are used. A reversed clip reports its end before its
start. A 0/0 source read (timelines imported from FCP7 XML) says nothing about speed or start: 100 % and
`GetLeftOffset` are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True)
class UsedRange:
    start: Fraction
    """Seconds from the media's first frame."""
    end: Fraction
    speed: Fraction
    """Source seconds per record second (1 unless retimed)."""
    reversed: bool
    record_start: int
    """The clip's first frame on the timeline, counted from the timeline's start (where timeline markers count)."""
    record_frames: int
    timeline_rate: Fraction


def used_range(item: Any, media_rate: Fraction, timeline_rate: Fraction, timeline_start: int) -> UsedRange:
    record_frames = int(item.GetDuration())
    record_seconds = Fraction(record_frames) / timeline_rate
    record_start = int(item.GetStart()) - int(timeline_start)
    first, last = int(item.GetSourceStartFrame()), int(item.GetSourceEndFrame())
    source_seconds = Fraction(abs(last - first)) / media_rate
    slack = 1 / media_rate + 1 / timeline_rate
    unknown = first == 0 and last == 0
    if unknown or record_seconds == 0 or abs(source_seconds - record_seconds) <= slack:
        start = Fraction(int(item.GetLeftOffset())) / timeline_rate
        if not unknown and abs(start - Fraction(first) / media_rate) > slack:
            start = Fraction(first) / media_rate
        return UsedRange(start, start + record_seconds, Fraction(1), False, record_start, record_frames, timeline_rate)
    low, high = sorted((first, last))
    return UsedRange(Fraction(low) / media_rate, Fraction(high) / media_rate, source_seconds / record_seconds,
                     last < first, record_start, record_frames, timeline_rate)  # fmt: skip
