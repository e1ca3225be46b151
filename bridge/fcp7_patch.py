"""FCP7 XML round trips by patching the original document: only reelmark's `<marker>` elements change.

Each clip the FCP adapter read carries its `<clipitem>`'s id (`metadata["fcp_xml"]["@id"]`); reelmark's old
markers (a `[reelmark m-…]` tag in the comment or name) are cut out of every clipitem and the clip's new markers
are inserted before its `</clipitem>`, written as Premiere writes them (`comment, name, in, out[, pproColor]`,
frames counted from the start of the media file at the clipitem's rate, `<out>-1</out>` for a point). A clip whose
clipitem cannot be told apart (no id, or an id shared by different clipitems) makes the patch impossible, and the
caller falls back to the adapter's writer, saying so.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import opentimelineio as otio

from reelmark.bridge.colours import COLOURS
from reelmark.bridge.markers import reelmark_id
from reelmark.bridge.xml_patch import Element, child_indent, child_text, elements, indent_at, line_start, newline_of, splice, whole_lines
from reelmark.core.errors import TimelineFormatError
from reelmark.core.times import exact_rate, from_rational_time, round_fraction


class CannotPatch(TimelineFormatError):
    """The original document cannot take the markers in place (the reason names the clip)."""


def patch_fcp7(data: bytes, root: otio.core.SerializableObject) -> bytes:
    """`data` (the FCP7 XML `root` was read from) with reelmark's markers replaced by those on `root`'s clips."""
    document = elements(data)
    clipitems = _clipitems_by_id(document)
    removals = [whole_lines(data, element) for element in document if _is_reelmark_marker(document, element)]
    newline = newline_of(data)
    blocks: dict[int, list[bytes]] = {}
    for clip in root.find_clips():
        ours = [marker for marker in clip.markers if reelmark_id(marker) is not None]
        if not ours:
            continue
        clip_id = (clip.metadata.get("fcp_xml") or {}).get("@id")
        element = clipitems.get(clip_id) if isinstance(clip_id, str) else None
        if element is None:
            raise CannotPatch(f"clip {clip.name!r} has no clipitem id of its own in the document")
        indent = child_indent(data, document, element)
        step = indent[len(indent_at(data, element.close)) :] or b"\t"
        at = line_start(data, element.close) if indent_at(data, element.close) else element.close
        block = blocks.setdefault(at, [])
        for marker in ours:
            text = _marker_xml(marker, clip, indent, step, newline)
            if text not in block:  # a nested sequence used twice is one clipitem: mark it once
                block.append(text)
    return splice(data, removals, [(at, b"".join(texts)) for at, texts in blocks.items()])


def _clipitems_by_id(document: list[Element]) -> dict[str, Element]:
    """The clipitem with content for each id that names exactly one (references `<clipitem id="x"/>` aside)."""
    found: dict[str, list[Element]] = {}
    for element in document:
        if element.tag == "clipitem" and element.children and "id" in element.attributes:
            found.setdefault(element.attributes["id"], []).append(element)
    return {clip_id: items[0] for clip_id, items in found.items() if len(items) == 1}


def _is_reelmark_marker(document: list[Element], element: Element) -> bool:
    if element.tag != "marker" or element.parent is None or document[element.parent].tag != "clipitem":
        return False
    probe = otio.schema.Marker(name=child_text(document, element, "name") or "", comment=child_text(document, element, "comment") or "")
    return reelmark_id(probe) is not None


def _marker_xml(marker: otio.schema.Marker, clip: otio.schema.Clip, indent: bytes, step: bytes, newline: bytes) -> bytes:
    rate = clip.trimmed_range().start_time.rate
    reference = clip.media_reference
    origin = from_rational_time(reference.available_range.start_time) if reference is not None and reference.available_range else 0
    start = round_fraction((from_rational_time(marker.marked_range.start_time) - origin) * exact_rate(rate))
    length = round_fraction(from_rational_time(marker.marked_range.duration) * exact_rate(rate))
    colour = COLOURS.get(str(marker.color), COLOURS["GREEN"])
    fields = [("comment", marker.comment or ""), ("name", marker.name), ("in", str(start)), ("out", str(start + length) if length else "-1")]
    if colour.ppro_color is not None:
        fields.append(("pproColor", str(colour.ppro_color)))
    inner = indent + step
    lines = [indent + b"<marker>"]
    lines.extend(inner + f"<{tag}>{escape(value)}</{tag}>".encode() for tag, value in fields)
    lines.append(indent + b"</marker>")
    return newline.join(lines) + newline
