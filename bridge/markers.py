"""Moments as OTIO markers, and finding reelmark's own markers again in any timeline.

A marker carries the moment in four places, because each NLE format keeps a different subset (see
`reelmark.bridge.writers`): its name (the label), its comment (text, score, query and an id tag), its colour
(from `reelmark.bridge.colours`), and `metadata["reelmark"]` (ids, engine, model, the semantic colour, tube boxes).

Re-import. reelmark recognises its markers by the moment id: in `metadata["reelmark"]["id"]` where the format
keeps metadata, else by the tag `[reelmark m-…]` that ends every comment, wherever a format carried the comment
(FCP7 XML `metadata["fcp_xml"]["comment"]`, Resolve's `Note`, Premiere comments) or the name (EDL and FCPXML,
which keep only names), or by `reelmark:m-…` in a marker data field (Resolve's `customData`). A second analysis removes exactly those markers and adds the new ones; a user's markers have no tag
and are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import opentimelineio as otio

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.colours import colour_for
from reelmark.core.report import format_score
from reelmark.core.results import Analysis, Moment
from reelmark.core.times import time_to_json

NAMESPACE = "reelmark"
"""The metadata key under which reelmark keeps its own data on markers, clips and timelines."""
_ID_TAG = re.compile(r"\[reelmark (m-[0-9a-f]{16})\]|^reelmark:(m-[0-9a-f]{16})$", re.IGNORECASE)


def id_tag(moment_id: str) -> str:
    """The tag that ends comments (and, where only names survive, names) of reelmark's markers."""
    return f"[reelmark {moment_id}]"


def custom_data(moment_id: str) -> str:
    """The value the plugins store in an NLE's per-marker data field (Resolve's `customData`)."""
    return f"reelmark:{moment_id}"


def marker_name(moment: Moment) -> str:
    return moment.label or moment.kind.value


def marker_comment(moment: Moment) -> str:
    """What an editor reads in the marker's note: the text, the score, the query, then the id tag."""
    parts = [moment.text] if moment.text else []
    if moment.score is not None:
        parts.append(f"score {format_score(moment.score)}")
    if moment.query:
        parts.append(f"query: {moment.query}")
    parts.append(id_tag(moment.id))
    return " · ".join(parts)


def marker_for_moment(moment: Moment, analysis: Analysis, clock: MediaClock) -> otio.schema.Marker:
    """A Marker.2 in the clip's media time (timecode-absolute frames of the source)."""
    colour = colour_for(moment.kind)
    metadata = {
        "id": moment.id,
        "kind": moment.kind.value,
        "label": moment.label,
        "score": moment.score,
        "query": moment.query,
        "text": moment.text,
        "colour": colour.otio,
        "engine": analysis.engine.name,
        "engine_version": analysis.engine.version,
        "model": analysis.engine.model_id,
        "fingerprint": analysis.media.fingerprint,
        "start": time_to_json(moment.span.start),
        "end": time_to_json(moment.span.end),
        "tube": [point.to_dict() for point in moment.tube],
    }
    return otio.schema.Marker(
        name=marker_name(moment),
        marked_range=clock.range_of(moment.span.start, moment.span.end),
        color=colour.otio,
        metadata={NAMESPACE: metadata},
        comment=marker_comment(moment),
    )


def reelmark_id(marker: otio.schema.Marker) -> str | None:
    """The moment id of a marker reelmark wrote, wherever the format kept it; None for anyone else's marker."""
    own = marker.metadata.get(NAMESPACE)
    if isinstance(own, Mapping) and isinstance(own.get("id"), str):
        return own["id"]
    for text in (marker.comment, marker.name, *_strings(marker.metadata)):
        found = _ID_TAG.search(text or "")
        if found:
            return (found.group(1) or found.group(2)).lower()
    return None


def _strings(value: Any) -> Iterator[str]:
    """Every string inside nested OTIO metadata (AnyDictionary and AnyVector act as mapping and sequence)."""
    if isinstance(value, str):
        yield value
    elif hasattr(value, "values"):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, Iterable) and not isinstance(value, bytes):
        for item in value:
            yield from _strings(item)


def remove_reelmark_markers(item: otio.core.Item) -> int:
    """Drop the markers reelmark wrote on `item`, keep every other marker in its order; returns how many went."""
    kept = [marker for marker in item.markers if reelmark_id(marker) is None]
    removed = len(item.markers) - len(kept)
    if removed:
        item.markers[:] = kept
    return removed
