"""Moments as DaVinci Resolve markers: which frame, which colour, and replacing reelmark's own markers only.

Resolve keeps one marker per frame per owner and refuses a second (`AddMarker` returns False), so moments that
start on the same frame share one marker (names joined, notes one per line, the first moment's colour), and a
marker that would land on a frame the user already marked moves to the next free frame inside the moment.
Every reelmark marker carries `customData` = `reelmark:<id>[,<id>…]`, so a re-run finds exactly those and never
a user's marker. It deletes them by frame (`DeleteMarkerAtFrame`): `DeleteMarkerByCustomData` deletes only the
FIRST marker with that data (scripting README), and one clip used twice on a timeline gives both uses' markers the
same data, so deleting by data would take the other use's marker. Frames (Resolve scripting README):
- clip markers (`MediaPoolItem.AddMarker`) count source frames from the media's first frame;
- timeline markers (`Timeline.AddMarker`) count from the timeline's start, while `TimelineItem.GetStart()` and
  `Timeline.GetStartFrame()` are absolute record frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .daemon_link import exact_time

CUSTOM_DATA_PREFIX = "reelmark:"


class MarkerWriteRefused(Exception):
    """Resolve will not take markers: `AddMarker` raised, or answered False on free frames with valid colours."""


@dataclass
class PlannedMarker:
    frame: int
    duration: int
    colour: str
    name: str
    note: str
    ids: list[str]

    @property
    def custom_data(self) -> str:
        return CUSTOM_DATA_PREFIX + ",".join(self.ids)


def frame_of(seconds: Fraction, first_frame_time: Fraction, rate: Fraction) -> int:
    """Index of the frame boundary nearest to `seconds` of media time (frame 0 shows at `first_frame_time`);
    negative before it."""
    return math.floor((seconds - first_frame_time) * rate + Fraction(1, 2))


def plan_markers(
    moments: list[dict[str, Any]],
    colours: dict[str, str],
    first_frame_time: Fraction,
    rate: Fraction,
    window: tuple[int, int] | None = None,
) -> list[PlannedMarker]:
    """One planned marker per start frame for moments (wire JSON): frames at `rate` from `first_frame_time`,
    kept and clipped to `window` [start, end) when given, else from frame 0 on."""
    by_frame: dict[int, PlannedMarker] = {}
    for moment in moments:
        if moment.get("kind") == "reframe":
            continue  # crop paths are not markers
        span = moment.get("span", {})
        start = frame_of(exact_time(span.get("start")), first_frame_time, rate)
        end = max(start, frame_of(exact_time(span.get("end")), first_frame_time, rate))
        low, high = window if window is not None else (0, None)
        if end < low or (high is not None and start >= high):
            continue
        start, end = max(start, low), end if high is None else min(end, high)
        name = moment.get("label") or moment.get("kind", "")
        note = _note(moment)
        planned = by_frame.get(start)
        if planned is None:
            by_frame[start] = PlannedMarker(start, max(1, end - start), colours.get(moment.get("kind", ""), "Blue"), name, note, [moment["id"]])
        else:
            planned.name = f"{planned.name} · {name}"
            planned.note = f"{planned.note}\n{note}"
            planned.duration = max(planned.duration, end - start, 1)
            planned.ids.append(moment["id"])
    return [by_frame[frame] for frame in sorted(by_frame)]


def _note(moment: dict[str, Any]) -> str:
    parts = [moment["text"]] if moment.get("text") else []
    if moment.get("score") is not None:
        parts.append(f"score {float(moment['score']):.2f}")
    if moment.get("query"):
        parts.append(f"query: {moment['query']}")
    parts.append(f"[reelmark {moment['id']}]")
    return " · ".join(parts)


def remove_reelmark_markers(owner: Any, frames: tuple[int, int] | None = None) -> int:
    """Delete the markers reelmark put on `owner` (a Timeline or MediaPoolItem), optionally only within `frames`."""
    removed = 0
    for frame, marker in dict(owner.GetMarkers() or {}).items():
        custom = marker.get("customData") or ""
        if not custom.startswith(CUSTOM_DATA_PREFIX):
            continue
        if frames is not None and not frames[0] <= int(frame) < frames[1]:
            continue
        if owner.DeleteMarkerAtFrame(frame):
            removed += 1
    return removed


def add_markers(owner: Any, planned: list[PlannedMarker], offset: int = 0) -> tuple[int, int]:
    """Add the planned markers at `frame + offset`, moving past frames the user has marked; (added, moved).
    Raises MarkerWriteRefused when `AddMarker` raises, or refuses every marker it was offered on a free frame."""
    taken = {int(frame) for frame in (owner.GetMarkers() or {})}
    added = moved = refused = 0
    for marker in planned:
        frame = marker.frame + offset
        last = frame + max(0, marker.duration - 1)
        while frame in taken and frame < last:
            frame += 1
        if frame in taken:
            continue
        duration = max(1, marker.frame + offset + marker.duration - frame)
        try:
            accepted = owner.AddMarker(frame, marker.colour, marker.name, marker.note, duration, marker.custom_data)
        except Exception as error:  # noqa: BLE001 - Resolve's bridge raises anything; the caller writes files instead
            raise MarkerWriteRefused(f"AddMarker failed: {error}") from None
        if accepted:
            taken.add(frame)
            added += 1
            moved += frame != marker.frame + offset
        else:
            refused += 1
    if refused and not added:
        raise MarkerWriteRefused("AddMarker returned False")
    return added, moved
