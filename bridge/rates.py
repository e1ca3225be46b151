"""Frame rates each NLE format can hold, and timelines conformed to them.

Media comes at any rate (10, 12.5, 15, 179/6, 120 fps, VFR on its average grid); the interchange formats do not:

- CMX 3600 EDL writes SMPTE timecode, which exists at 24000/1001, 24, 25, 30000/1001 (drop frame), 30,
  48000/1001, 48, 50, 60000/1001 (drop frame) and 60 fps (the rates OTIO's `to_timecode` accepts).
- FCP7 XML writes an integer `<timebase>` and an `<ntsc>` flag (15 fps is `<timebase>15</timebase>`), but the
  FCP adapter writes each `<timecode>` (the sequence's and each file's start) through the same SMPTE conversion:
  a timeline whose timecodes are at another rate is conformed as a whole to the EDL rates; others are kept.
- FCPXML writes rational frame durations, but the FCPX adapter knows only 24000/1001, 24, 25, 30000/1001, 30,
  50, 60000/1001 and 60 fps (and reads NTSC durations back truncated to whole rates, 29 for 29.97).

A time at a rate the format holds is left exactly as it is. Any other rate is converted within its family (NTSC
rates to NTSC rates, every other rate to whole rates, so a 179/6 fps phone clip is not given drop-frame timecode):
the smallest rate of the format that is a whole multiple of the source rate (12.5 → 25, 10 and 15 → 30, 12 → 24,
16 → 48, 20 → 60, 15000/1001 → 30000/1001), so every source frame lands exactly on a frame and nothing rounds;
otherwise the nearest rate above (179/6 → 30), where a time rounds to the nearest frame, at most half a frame
(17 ms at 30 fps) off, never drifting; otherwise (above 60 fps) the highest rate that divides it (100 → 50,
120 → 60, 120000/1001 → 60000/1001), else the highest of the family, where two source frames can share a frame.
"""

from __future__ import annotations

from fractions import Fraction

import opentimelineio as otio

from reelmark.core.times import exact_rate, from_rational_time, round_fraction

_NTSC = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60))
SMPTE_RATES = (*_NTSC, Fraction(24), Fraction(25), Fraction(30), Fraction(48), Fraction(50), Fraction(60))
"""What EDL timecode and FCP7 XML (through the FCP adapter) can hold."""
FCPXML_RATES = tuple(rate for rate in SMPTE_RATES if rate not in (Fraction(48), Fraction(48000, 1001)))
"""What the FCPX adapter's frame-duration table holds."""
FORMAT_RATES = {"edl": SMPTE_RATES, "fcp7xml": SMPTE_RATES, "fcpxml": FCPXML_RATES}
"""Per format: the rates it holds."""


def conform_rate(rate: Fraction, fmt: str) -> Fraction:
    """The rate format `fmt` writes for a source `rate` (see the module docstring for the rule)."""
    supported = FORMAT_RATES[fmt]
    if rate in supported:
        return rate
    ntsc = exact_rate(rate).denominator == 1001
    ordered = sorted(candidate for candidate in supported if (candidate.denominator == 1001) == ntsc)
    multiples = [candidate for candidate in ordered if (candidate / rate).denominator == 1]
    if multiples:
        return multiples[0]
    above = [candidate for candidate in ordered if candidate > rate]
    if above:
        return above[0]
    divisors = [candidate for candidate in ordered if (rate / candidate).denominator == 1]
    return divisors[-1] if divisors else ordered[-1]


def conform_time(time: otio.opentime.RationalTime, fmt: str) -> otio.opentime.RationalTime:
    """`time` at the rate the format holds, on the nearest frame of that rate (unchanged if already supported)."""
    rate = exact_rate(time.rate)
    target = conform_rate(rate, fmt)
    if target == rate:
        return time
    return otio.opentime.RationalTime(round_fraction(from_rational_time(time) * target), float(target))


def conform_range(span: otio.opentime.TimeRange, fmt: str) -> otio.opentime.TimeRange:
    """Start and end each on the nearest frame of the format's rate, so neighbouring ranges stay back to back."""
    start = conform_time(span.start_time, fmt)
    end = conform_time(span.end_time_exclusive(), fmt)
    if start.rate == span.start_time.rate and end.rate == span.start_time.rate:
        return span
    return otio.opentime.TimeRange(start, otio.opentime.RationalTime(end.value - start.value, start.rate))


def conform_timeline(root: otio.core.SerializableObject, fmt: str) -> list[str]:
    """Move every time in `root` (changed in place: pass a copy) to a rate `fmt` holds; returns what changed."""
    if fmt not in FORMAT_RATES:
        return []
    supported = FORMAT_RATES[fmt]
    changed: dict[Fraction, Fraction] = {}

    def note(time: otio.opentime.RationalTime) -> None:
        rate = exact_rate(time.rate)
        target = conform_rate(rate, fmt)
        if target != rate:
            changed[rate] = target

    timelines = [root] if isinstance(root, otio.schema.Timeline) else list(root.find_children(descended_from_type=otio.schema.Timeline))
    for timeline in timelines:
        if fmt == "fcp7xml" and all(exact_rate(time.rate) in supported for time in _timecoded(timeline)):
            continue
        if timeline.global_start_time is not None:
            note(timeline.global_start_time)
            timeline.global_start_time = conform_time(timeline.global_start_time, fmt)
        for item in [timeline.tracks, *timeline.tracks.find_children()]:
            if getattr(item, "source_range", None) is not None:
                note(item.source_range.start_time)
                item.source_range = conform_range(item.source_range, fmt)
            if isinstance(item, otio.schema.Transition):
                note(item.in_offset)
                item.in_offset = conform_time(item.in_offset, fmt)
                item.out_offset = conform_time(item.out_offset, fmt)
            reference = getattr(item, "media_reference", None)
            if reference is not None and reference.available_range is not None:
                note(reference.available_range.start_time)
                reference.available_range = conform_range(reference.available_range, fmt)
            for marker in getattr(item, "markers", ()):
                marker.marked_range = conform_range(marker.marked_range, fmt)
    return [f"{float(source):g} fps written at {_rate_text(target)} fps" for source, target in sorted(changed.items())]


def _timecoded(timeline: otio.schema.Timeline) -> list[otio.opentime.RationalTime]:
    """The times FCP7 XML writes as SMPTE timecode: the sequence start and each file's start."""
    times = [timeline.global_start_time] if timeline.global_start_time is not None else []
    for clip in timeline.find_clips():
        reference = clip.media_reference
        if reference is not None and reference.available_range is not None:
            times.append(reference.available_range.start_time)
    return times


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"
