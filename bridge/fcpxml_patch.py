"""FCPXML round trips on the document itself: every clip found, markers inserted, every other byte kept.

The FCPX adapter regenerates FCPXML losing transitions, filters, asset metadata and gap markers, rounds marker
times to frames, truncates NTSC rates, keeps no link from its clips back to their elements, and reads only
projects, never the clips of an event or collection outside a project. So an FCPXML round trip reads the document
with expat (`xml_patch`) instead:

- a markable clip is an `asset-clip`, or a `clip` whose own `video` child names an asset, wherever it is: in a
  project's spine, in a compound clip's media, or in an event outside any project;
- a clip's markers are in its local timeline, which for an `asset-clip` is the asset's own time (from the
  asset's `start`, usually its timecode) and for a `clip` maps to the asset through its `video` child
  (`asset time = video.start + local time - video.offset`);
- each clip becomes an OTIO clip in asset time (the media's timecode-absolute frames at the clip's format rate), so
  the round trip analyses and marks it like any other, and its new markers go back into the element as
  `<marker start=… duration=… value="name [reelmark m-…]"/>` with exact rational times, before any
  `filter-*` or `metadata` child (the DTD's order); reelmark's old markers are cut out.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from xml.sax.saxutils import quoteattr

import opentimelineio as otio

from reelmark.bridge.markers import id_tag, reelmark_id
from reelmark.bridge.xml_patch import Element, child_indent, elements, indent_at, line_start, newline_of, splice, whole_lines
from reelmark.core.times import exact_rate, from_rational_time, round_fraction

_AFTER_MARKERS = ("filter-video", "filter-audio", "filter-video-mask", "metadata")
_NOT_MARKED = {
    "ref-clip": "a compound clip: the clips inside it are marked in its media",
    "mc-clip": "a multicam clip: its angles are marked in its media",
    "sync-clip": "a synchronized clip: the clips inside it are marked themselves",
}
_CONTAINERS = {"project": "project", "event": "event", "media": "compound clip", "collection-folder": "collection"}


@dataclass
class DocumentClip:
    """One markable clip element, as an OTIO clip in asset time, and how its local time maps to it."""

    element: int
    clip: otio.schema.Clip
    where: str
    """The project, event or compound clip that holds it (for the report)."""
    local_offset: Fraction
    """Asset time minus local time, in seconds."""
    video: bool
    skip: str | None = None
    """Why this clip element is not analysed (a compound or multicam clip, no media of its own)."""


def _seconds(value: str | None, default: Fraction = Fraction(0)) -> Fraction:
    if not value:
        return default
    return Fraction(value.strip().removesuffix("s"))


def document_clips(data: bytes) -> tuple[list[Element], list[DocumentClip]]:
    """Every markable clip of an FCPXML document, in document order."""
    document = elements(data)
    assets = {element.attributes["id"]: element for element in document if element.tag == "asset" and "id" in element.attributes}
    formats = {element.attributes["id"]: element for element in document if element.tag == "format" and "id" in element.attributes}
    found = []
    for index, element in enumerate(document):
        if element.tag in _NOT_MARKED:
            name = element.attributes.get("name") or element.tag
            found.append(DocumentClip(index, otio.schema.Clip(name=name), _container(document, element), Fraction(0), True, _NOT_MARKED[element.tag]))
            continue
        if element.tag == "asset-clip":
            asset, video_offset, video_start = assets.get(element.attributes.get("ref", "")), Fraction(0), None
        elif element.tag == "clip":
            video = next((document[child] for child in element.children if document[child].tag == "video"), None)
            if video is None:
                name = element.attributes.get("name") or "clip"
                reason = "no video of its own (audio, or clips inside it, which are listed themselves)"
                found.append(DocumentClip(index, otio.schema.Clip(name=name), _container(document, element), Fraction(0), False, reason))
                continue
            asset = assets.get(video.attributes.get("ref", ""))
            video_offset, video_start = _seconds(video.attributes.get("offset")), video.attributes.get("start")
        else:
            continue
        if asset is None:
            continue
        asset_start = _seconds(asset.attributes.get("start"))
        local_start = _seconds(element.attributes.get("start"), asset_start if element.tag == "asset-clip" else Fraction(0))
        offset = Fraction(0) if element.tag == "asset-clip" else _seconds(video_start, asset_start) - video_offset
        rate = _rate(document, element, asset, formats)
        duration = _seconds(element.attributes.get("duration"), _seconds(asset.attributes.get("duration")))
        clip = otio.schema.Clip(
            name=element.attributes.get("name") or asset.attributes.get("name") or "clip",
            media_reference=otio.schema.ExternalReference(
                target_url=_asset_url(document, asset),
                available_range=_range(asset_start, _seconds(asset.attributes.get("duration")), rate),
            ),
            source_range=_range(local_start + offset, duration, rate),
        )
        for child in element.children:
            if document[child].tag == "marker":
                marker = document[child]
                clip.markers.append(otio.schema.Marker(
                    name=marker.attributes.get("value", ""),
                    marked_range=_range(_seconds(marker.attributes.get("start")) + offset, _seconds(marker.attributes.get("duration")), rate),
                ))  # fmt: skip
        video = asset.attributes.get("hasVideo", "1") != "0"
        found.append(DocumentClip(index, clip, _container(document, element), offset, video))
    return document, found


def _rate(document: list[Element], element: Element, asset: Element, formats: dict[str, Element]) -> Fraction:
    """The frame rate of the clip's format: its own, its sequence's, or its asset's; 25 when none says."""
    candidates = [element.attributes.get("format")]
    parent = element.parent
    while parent is not None:
        candidates.append(document[parent].attributes.get("format") if document[parent].tag == "sequence" else None)
        parent = document[parent].parent
    candidates.append(asset.attributes.get("format"))
    for format_id in candidates:
        duration = formats.get(format_id or "", None)
        if duration is not None and duration.attributes.get("frameDuration"):
            return exact_rate(1 / _seconds(duration.attributes["frameDuration"]))
    return Fraction(25)


def _range(start: Fraction, duration: Fraction, rate: Fraction) -> otio.opentime.TimeRange:
    first = round_fraction(start * rate)
    return otio.opentime.TimeRange(otio.opentime.RationalTime(first, float(rate)),
                                   otio.opentime.RationalTime(round_fraction((start + duration) * rate) - first, float(rate)))  # fmt: skip


def _asset_url(document: list[Element], asset: Element) -> str:
    """The asset's file: its `src`, or (FCPXML 1.9+) its first `media-rep`'s."""
    if asset.attributes.get("src"):
        return asset.attributes["src"]
    return next((document[child].attributes.get("src", "") for child in asset.children if document[child].tag == "media-rep"), "")


def _container(document: list[Element], element: Element) -> str:
    parent = element.parent
    while parent is not None:
        holder = document[parent]
        if holder.tag in _CONTAINERS:
            return f"{_CONTAINERS[holder.tag]} {holder.attributes.get('name', '')}".strip()
        parent = holder.parent
    return "document"


def patch_fcpxml(data: bytes, document: list[Element], clips: list[DocumentClip]) -> bytes:
    """`data` with reelmark's old markers cut out and each clip's reelmark markers inserted into its element."""
    removals = [whole_lines(data, element) for element in document if element.tag == "marker" and _is_ours(element)]
    newline = newline_of(data)
    insertions = []
    for item in clips:
        ours = [marker for marker in item.clip.markers if reelmark_id(marker) is not None]
        if not ours:
            continue
        element = document[item.element]
        rate = exact_rate(item.clip.trimmed_range().start_time.rate)
        markers = [_marker_xml(marker, item.local_offset, rate) for marker in ours]
        if element.close == element.end - 2:  # <asset-clip .../>: open it, add the markers, close it
            indent = indent_at(data, element.start)
            inner = indent + (indent[: len(indent) // max(1, _depth(document, element))] or b"    ")
            body = b"".join(newline + inner + marker for marker in markers)
            removals.append((element.close, element.end))
            insertions.append((element.close, b">" + body + newline + indent + f"</{element.tag}>".encode()))
            continue
        before = next((document[child] for child in element.children if document[child].tag in _AFTER_MARKERS), None)
        anchor = before.start if before is not None else element.close
        indent = child_indent(data, document, element)
        at = line_start(data, anchor) if indent_at(data, anchor) else anchor
        insertions.append((at, b"".join(indent + marker + newline for marker in markers)))
    return splice(data, removals, insertions)


def _depth(document: list[Element], element: Element) -> int:
    depth, parent = 0, element.parent
    while parent is not None:
        depth, parent = depth + 1, document[parent].parent
    return depth


def _is_ours(element: Element) -> bool:
    return reelmark_id(otio.schema.Marker(name=element.attributes.get("value", ""))) is not None


def _marker_xml(marker: otio.schema.Marker, local_offset: Fraction, rate: Fraction) -> bytes:
    start = from_rational_time(marker.marked_range.start_time) - local_offset
    duration = from_rational_time(marker.marked_range.duration) or 1 / rate
    name = marker.name
    moment_id = reelmark_id(marker)
    if moment_id and moment_id not in name.lower():
        name = f"{name} {id_tag(moment_id)}"
    return f"<marker start=\"{_time(start)}\" duration=\"{_time(duration)}\" value={quoteattr(name)}/>".encode()


def _time(seconds: Fraction) -> str:
    return f"{seconds.numerator}s" if seconds.denominator == 1 else f"{seconds.numerator}/{seconds.denominator}s"
