"""Search hits as a selects timeline: one clip per hit, in hit order, across files, in any NLE format.

Each clip is built the way every reelmark timeline builds its clips (`bridge.timelines.clip_of`: the file as an
external reference whose available range counts from its source timecode), over the hit's media range, with a
marker carrying the hit's text; the file is referenced at the path it was last seen at. The timeline's rate is
the first clip's; writers conform the others (`bridge.rates`). `json` writes the hits themselves.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction

from reelmark.core.errors import InvalidRequestError
from reelmark.core.library.catalog import Catalog
from reelmark.core.library.search import Hit
from reelmark.core.results import Moment, MomentKind, TimeSpan

MIN_CLIP_S = Fraction(1)
"""A point hit (a cut, an event) becomes a clip this long from its time, so the editor has something to see."""


def write_selects(hits: Sequence[Hit], catalog: Catalog, fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps([hit.to_dict() for hit in hits], indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    import opentimelineio as otio

    from reelmark.bridge.clock import MediaClock
    from reelmark.bridge.formats import all_formats
    from reelmark.bridge.timelines import add_markers, clip_of
    from reelmark.core.results import MediaRef

    record = all_formats()[fmt]
    if record.timeline_writer is None:
        raise InvalidRequestError(f"{fmt} is not a timeline format; write selects as json or one of the NLE formats")
    if not hits:
        raise InvalidRequestError("no hits to write: nothing matched, so no selects timeline was written")
    clips = []
    for number, hit in enumerate(hits, start=1):
        stored = catalog.analysis(hit.fingerprint)
        if stored is None:
            raise InvalidRequestError(f"{hit.path} is no longer in the library; run `reelmark index` again")
        analysis = replace(stored, media=MediaRef(hit.path, stored.media.fingerprint, stored.media.probe), moments=())
        clock = MediaClock.from_probe(analysis.media.probe)
        start, end = _hit_range(hit, analysis.media.probe.duration)
        clip = clip_of(analysis, clock, f"{number:03d} {hit.text[:60]}", (start, end))
        marker = Moment(MomentKind(hit.kind), TimeSpan(start, start), label=hit.text[:60], text=hit.text, id=hit.moment_id)
        add_markers(clip, analysis.with_moments([marker]), clock)
        clips.append(clip)
    timeline = otio.schema.Timeline(name="reelmark selects")
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    track.extend(clips)
    timeline.tracks.append(track)
    return record.write_timeline()(timeline).encode("utf-8")


def _hit_range(hit: Hit, duration: Fraction | None) -> tuple[Fraction, Fraction]:
    """The hit's exact media range; a point (or too short a) hit is stretched to `MIN_CLIP_S`, within the file."""
    span = hit.span
    if "start" in span:
        start = Fraction(span["start"]["value"], span["start"]["rate"])
        end = Fraction(span["end"]["value"], span["end"]["rate"])
    else:
        start, end = Fraction(hit.start_s).limit_denominator(1000), Fraction(hit.end_s).limit_denominator(1000)
    if end - start < MIN_CLIP_S:
        end = start + MIN_CLIP_S if duration is None else min(duration, start + MIN_CLIP_S)
        start = max(Fraction(0), min(start, end - MIN_CLIP_S))
    return start, end
