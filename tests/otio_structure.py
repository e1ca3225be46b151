"""Structural views of OTIO timelines for round-trip tests: what must survive, compared as plain data."""

from __future__ import annotations

import json
from typing import Any

import opentimelineio as otio

from reelmark.bridge.markers import reelmark_id


def as_data(root: Any) -> Any:
    """The whole object graph as JSON data: equal data means nothing was lost or changed."""
    return json.loads(otio.adapters.write_to_string(root, "otio_json"))


def _range(value: Any) -> tuple[float, float, float] | None:
    if value is None:
        return None
    return (value.start_time.value, value.duration.value, value.start_time.rate)


def clip_view(root: Any) -> list[tuple[Any, ...]]:
    """Each clip's name, range and the user's markers (name, range, colour): what an editor sees of it."""
    rows = []
    for clip in root.find_clips():
        markers = tuple(
            (marker.name, _range(marker.marked_range), str(marker.color))
            for marker in clip.markers
            if reelmark_id(marker) is None
        )
        rows.append((clip.name, _range(clip.source_range), markers))
    return rows
