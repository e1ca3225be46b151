"""CMX 3600 EDL locators (`* LOC:` lines) in record time, read and written by reelmark, and EDL documents patched.

A `LOC` timecode is record (timeline) time: the sample EDLs of the CMX adapter place it inside its event's record
range, not its source range (OTIO issues #169, #345). The adapter reads it as if it were the clip's source time
and writes source times, so reelmark handles locators itself: on reading, each `LOC` becomes a marker in its
clip's source time; on writing, each clip marker becomes a `LOC` in record time after its event's line. The
adapter still reads and writes the cut list. Its writer starts record time at zero unless a track is trimmed
(as its reader leaves them), so `writers.write_edl` starts it at the timeline's `global_start_time`.

A round trip from EDL to EDL does not regenerate the document (the adapter drops `FCM:`, `M2` speed lines,
`FREEZE FRAME`, audio channels of `AA/V` events and rewrites `* FROM FILE:`): `patch_locators` removes reelmark's
old `LOC` lines from the original text and inserts the new ones; every other byte stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

import opentimelineio as otio

from reelmark.bridge.markers import reelmark_id
from reelmark.core.times import DROP_FRAME_RATES, frames_to_timecode, from_rational_time, round_fraction, timecode_to_frames

_TC = r"\d{1,2}:\d{2}:\d{2}[:;.,]\d{2}"
_EVENT = re.compile(rf"^\s*\d+\s+(\S+)\s+(\S+)\s+.*?({_TC})\s+({_TC})\s+({_TC})\s+({_TC})\s*$")
_LOC = re.compile(rf"^\s*\*\s*LOC:\s*({_TC})(?:\s+(\w*))?(?:\s+(.*?))?\s*$", re.IGNORECASE)
_TITLE = re.compile(r"^\s*TITLE:", re.IGNORECASE)
_FCM = re.compile(r"^\s*FCM:", re.IGNORECASE)


@dataclass(frozen=True)
class Event:
    """One event line of an EDL and the comment lines under it."""

    line: int
    """Index of the event line."""
    end: int
    """Index after its last comment line (where a new locator goes)."""
    channel: str
    record_in: int
    record_out: int

    @property
    def has_video(self) -> bool:
        return "V" in self.channel.upper() or self.channel.upper() == "B"


@dataclass(frozen=True)
class Locator:
    """A `LOC` line: a record frame, the colour word and the name, under the event it follows."""

    event: Event
    frame: int
    colour: str
    name: str


def is_drop_frame(text: str, rate: Fraction) -> bool:
    """Drop-frame counting, as the document says it (`FCM: DROP FRAME` or `;` separators) at a rate that has it."""
    said = re.search(r"^\s*FCM:\s*DROP\s+FRAME", text, re.MULTILINE | re.IGNORECASE) or re.search(r"\d{2};\d{2}\b", text)
    return bool(said) and rate in DROP_FRAME_RATES


def events_of(lines: list[str], rate: Fraction) -> list[Event]:
    starts = [(index, match) for index, line in enumerate(lines) if (match := _EVENT.match(line))]
    found = []
    for position, (index, match) in enumerate(starts):
        end = starts[position + 1][0] if position + 1 < len(starts) else len(lines)
        while end > index + 1 and not lines[end - 1].strip():
            end -= 1
        found.append(Event(index, end, match.group(2), timecode_to_frames(match.group(5), rate), timecode_to_frames(match.group(6), rate)))
    return found


def split_locators(text: str, rate: Fraction) -> tuple[str, list[Locator]]:
    """The EDL without its `LOC` lines (for the adapter), and the locators with the event each follows."""
    lines = text.splitlines()
    events = events_of(lines, rate)
    owner = {line: event for event in events for line in range(event.line, event.end)}
    kept, locators = [], []
    for index, line in enumerate(lines):
        match = _LOC.match(line)
        if match and index in owner:
            frame = timecode_to_frames(match.group(1), rate)
            locators.append(Locator(owner[index], frame, match.group(2) or "", match.group(3) or ""))
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", locators


def attach_locators(timeline: otio.schema.Timeline, locators: list[Locator], rate: Fraction) -> None:
    """After the adapter read the cut list: each locator to its clip, in the clip's source time."""
    placed = _clips_by_record_in(timeline, rate)
    for locator in locators:
        clip, record_in = _clip_for(placed, locator.event, locator.frame)
        if clip is None:
            continue
        source = from_rational_time(clip.trimmed_range().start_time) * rate + (locator.frame - record_in)
        colour = locator.colour.upper()
        clip.markers.append(otio.schema.Marker(
            name=locator.name,
            marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(round_fraction(source), float(rate)),
                                                 otio.opentime.RationalTime(0, float(rate))),
            color=colour if hasattr(otio.schema.MarkerColor, colour) else otio.schema.MarkerColor.RED,
            metadata={"cmx_3600": {"color": locator.colour}},
        ))  # fmt: skip


def _clips_by_record_in(timeline: otio.schema.Timeline, rate: Fraction) -> list[tuple[bool, int, int, otio.schema.Clip]]:
    """(on a video track, record in, record out, clip) for every clip, in record frames at `rate`.

    Record time starts where the CMX adapter puts it: its reader trims each track to start at minus the first
    record timecode (so a track with a source range starts there); otherwise at the timeline's `global_start_time`.
    """
    placed = []
    for track in timeline.tracks:
        if track.source_range is not None:
            start = -from_rational_time(track.source_range.start_time)
        else:
            start = from_rational_time(timeline.global_start_time) if timeline.global_start_time is not None else Fraction(0)
        for clip in track.find_clips(shallow_search=True):
            span = clip.range_in_parent()
            first = round_fraction((start + from_rational_time(span.start_time)) * rate)
            placed.append((track.kind == otio.schema.TrackKind.Video, first, first + round_fraction(from_rational_time(span.duration) * rate), clip))
    return placed


def _clip_for(placed: list[tuple[bool, int, int, otio.schema.Clip]], event: Event, frame: int) -> tuple[otio.schema.Clip | None, int]:
    """The clip an event made: same record in, video first for a video event; else the clip showing at `frame`."""
    ordered = sorted(placed, key=lambda item: item[0] != event.has_video)
    for _video, first, _last, clip in ordered:
        if first == event.record_in:
            return clip, first
    for _video, first, last, clip in ordered:
        if first <= frame < last:
            return clip, first
    return None, 0


def locator_lines(timeline: otio.schema.Timeline, rate: Fraction, drop_frame: bool, only_reelmark: bool) -> dict[tuple[bool, int], list[str]]:
    """`LOC` lines in record time for the clip markers of `timeline`, keyed by (video, record in) of their clip."""
    lines: dict[tuple[bool, int], list[str]] = {}
    for video, first, _last, clip in _clips_by_record_in(timeline, rate):
        source_in = from_rational_time(clip.trimmed_range().start_time) * rate
        for marker in clip.markers:
            if only_reelmark and reelmark_id(marker) is None:
                continue
            frame = first + round_fraction(from_rational_time(marker.marked_range.start_time) * rate - source_in)
            colour = str(marker.color or (marker.metadata.get("cmx_3600") or {}).get("color") or "").upper()
            lines.setdefault((video, first), []).append(
                f"* LOC: {frames_to_timecode(frame, rate, drop_frame)} {colour:7} {(marker.name or '').upper()}".rstrip()
            )
    return lines


def patch_locators(text: str, timeline: otio.schema.Timeline, rate: Fraction, *, only_reelmark: bool) -> str:
    """`text` with reelmark's old `LOC` lines removed and the timeline's markers inserted after their events.

    With `only_reelmark`, the user's locators stay where they are in the text and only reelmark's are written;
    otherwise (a document the adapter just wrote, without locators) every marker is written.
    """
    drop_frame = is_drop_frame(text, rate)
    lines = text.splitlines()
    wanted = locator_lines(timeline, rate, drop_frame, only_reelmark)
    events = events_of(lines, rate)
    inserts: dict[int, list[str]] = {}
    for (video, first), new in wanted.items():
        event = _event_for(events, video, first)
        if event is not None:
            inserts.setdefault(event.end, []).extend(new)
    out = []
    for index, line in enumerate(lines):
        out.extend(inserts.get(index, ()))
        match = _LOC.match(line)
        if match and reelmark_id(otio.schema.Marker(name=match.group(3) or "")) is not None:
            continue
        out.append(line)
    out.extend(inserts.get(len(lines), ()))
    newline = "\r\n" if "\r\n" in text else "\n"
    return newline.join(out) + (newline if text.endswith(("\n", "\r")) else "")


def _event_for(events: Iterable[Event], video: bool, record_in: int) -> Event | None:
    candidates = [event for event in events if event.record_in == record_in]
    return next((event for event in candidates if event.has_video == video), candidates[0] if candidates else None)


def with_frame_code_mode(text: str, rate: Fraction) -> str:
    """An adapter-written EDL with the `FCM:` line after its title, as EDLs state their timecode counting."""
    if any(_FCM.match(line) for line in text.splitlines()):
        return text
    mode = "FCM: DROP FRAME" if rate in DROP_FRAME_RATES else "FCM: NON-DROP FRAME"
    lines = text.splitlines()
    at = next((index + 1 for index, line in enumerate(lines) if _TITLE.match(line)), 0)
    return "\n".join([*lines[:at], mode, *lines[at:]]) + "\n"
