"""One writer per NLE target, each a function from an OTIO timeline to the file's text.

Every writer works on a copy and changes only reelmark's own markers to suit its format; the user's clips,
markers and metadata go to the adapter untouched. What each format loses is in its writer's docstring and in the
README's table. `render` / `write_analysis` turn an analysis into any of these (or `json`, the results model);
files are written atomically, so a failed write leaves no partial file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from fractions import Fraction
from pathlib import Path
from typing import Any

import opentimelineio as otio

from reelmark.bridge.colours import COLOURS
from reelmark.bridge.formats import Format, all_formats, document_path, timeline_formats
from reelmark.bridge.markers import id_tag, reelmark_id
from reelmark.bridge.resolve_shape import to_resolve_shape
from reelmark.bridge.timelines import TIMELINES
from reelmark.bridge.edl import patch_locators, with_frame_code_mode
from reelmark.bridge.rates import conform_rate, conform_timeline
from reelmark.core.errors import InvalidRequestError, ReelmarkError, TimelineFormatError
from reelmark.core.files import write_atomically
from reelmark.core.results import Analysis
from reelmark.core.times import exact_rate, from_rational_time, round_fraction

Root = otio.schema.Timeline | otio.schema.SerializableCollection


def write_otio(root: Root) -> str:
    """OpenTimelineIO JSON (`otio_json`, Marker.2 under opentimelineio 0.18). Loses nothing."""
    return otio.adapters.write_to_string(root, "otio_json")


def write_resolve_otio(root: Root) -> str:
    """OTIO JSON in the shape DaVinci Resolve imports (`reelmark.bridge.resolve_shape`).

    Loses nothing OTIO holds, but Resolve's importer reads only part of it: marker colours outside its palette
    (orange shows as Sand), and no `metadata` (moment ids, tubes, reframe paths) reaches the Resolve project.
    """
    if isinstance(root, otio.schema.Timeline):
        return write_otio(to_resolve_shape(root))
    shaped = root.deepcopy()
    for index, child in enumerate(shaped):
        if isinstance(child, otio.schema.Timeline):
            shaped[index] = to_resolve_shape(child)
    return write_otio(shaped)


def write_fcp7xml(root: Root) -> str:
    """FCP7 XML (xmeml 4) for Premiere Pro, through the FCP adapter.

    Loses: marker colours beyond Premiere's eight (pink and magenta become purple, black becomes white), marker
    metadata (ids live on in the comment's `[reelmark m-…]` tag), clip and timeline metadata other than
    `fcp_xml`'s, so reframe paths; rates other than the SMPTE ones are conformed (`reelmark.bridge.rates`).
    Every clip marker, reelmark's and the user's alike, is written by one rule: in frames from the start of the
    media file, as Premiere counts them (OTIO holds them timecode-absolute; `reading` converts them back), with
    its comment and its colour as `pproColor`, elements in the order Premiere's own exports use (`comment, name,
    in, out, pproColor`), and point markers with `<out>-1</out>`.
    """
    copy = root.deepcopy()
    conform_timeline(copy, "fcp7xml")
    for clip in copy.find_clips():
        _ranges_for_adapters(clip)
        origin = clip.media_reference.available_range.start_time if clip.media_reference.available_range else None
        for marker in clip.markers:
            if origin is not None:
                start = marker.marked_range.start_time
                marker.marked_range = otio.opentime.TimeRange(start - origin.rescaled_to(start), marker.marked_range.duration)
            fcp = dict(marker.metadata.get("fcp_xml") or {})
            if marker.comment:
                fcp["comment"] = marker.comment
            colour = COLOURS.get(str(marker.color), COLOURS["GREEN"])
            fcp.pop("pproColor", None)
            if colour.ppro_color is not None:
                fcp["pproColor"] = str(colour.ppro_color)
            marker.metadata["fcp_xml"] = fcp
    return _premiere_markers(adapter_write(copy, "fcp_xml", "FCP7 XML"))


def _ranges_for_adapters(clip: otio.schema.Clip) -> None:
    """The FCP, FCPX and CMX adapters need each clip's and each file's range spelled out: a clip without a source
    range uses its whole file (OTIO's rule); a file without a range starts at frame 0 (no timecode known) and ends
    where the clip does (its true length is not known either)."""
    if clip.source_range is None:
        try:
            clip.source_range = clip.trimmed_range()
        except otio.exceptions.OTIOError:
            return
    reference = clip.media_reference
    if isinstance(reference, otio.schema.ExternalReference) and reference.available_range is None and clip.source_range:
        end = clip.source_range.end_time_exclusive()
        reference.available_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, end.rate), end)


_PREMIERE_MARKER_ORDER = ("comment", "name", "in", "out")


def _premiere_markers(xml: str) -> str:
    """Markers as Premiere writes them (element order, point markers `<out>-1</out>`), with the `xmeml` doctype."""
    tree = ElementTree.fromstring(xml)
    for marker in tree.iter("marker"):
        start, end = marker.find("in"), marker.find("out")
        if start is not None and end is not None and start.text == end.text:
            end.text = "-1"
        children = list(marker)
        rank = {tag: index for index, tag in enumerate(_PREMIERE_MARKER_ORDER)}
        marker[:] = sorted(children, key=lambda child: rank.get(child.tag, len(rank)))
    return _xml_document(tree, "xmeml")


def adapter_write(root: Root, adapter: str, label: str, **options: Any) -> str:
    """An adapter's output, or one line naming what it could not write and what to write instead."""
    try:
        return otio.adapters.write_to_string(root, adapter, **options)
    except ReelmarkError:
        raise
    except Exception as error:  # noqa: BLE001 - adapters raise anything (ValueError, AttributeError, KeyError...)
        suspects = _unusual_items(root)
        held = f"; it holds {suspects}, which the adapter handles least well" if suspects else ""
        raise TimelineFormatError(
            f"the {label} writer cannot write this timeline ({type(error).__name__}: {error or 'no detail'}){held}; "
            "write otio instead, which holds any timeline"
        ) from None


def _unusual_items(root: Root) -> str:
    """The items adapters most often fail on, by name: generators, nested sequences, transitions."""
    named = []
    for item in root.find_children():
        if isinstance(item, otio.schema.Clip) and isinstance(item.media_reference, otio.schema.GeneratorReference):
            named.append(f"the generator clip {item.name!r}")
        elif isinstance(item, otio.schema.Stack):
            named.append(f"the nested sequence {item.name!r}")
    return ", ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")


def _xml_document(tree: ElementTree.Element, doctype: str) -> str:
    """An adapter's XML after our edits, indented as the adapters write it, with the doctype the NLE's exports carry."""
    ElementTree.indent(tree, space="    ")
    body = ElementTree.tostring(tree, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {doctype}>\n{body}\n'


def write_edl(root: Root, rate: Fraction | None = None) -> str:
    """CMX 3600 EDL, one video track (and up to two audio tracks), through the CMX adapter.

    Loses: everything but the cut list and clip markers. Markers become `* LOC:` lines in record (timeline) time
    with the colour and the upper-cased name only (no duration, comment or metadata), so reelmark writes its id
    tag into the name (`reelmark.bridge.edl`). Timeline markers, transitions other than dissolves and wipes,
    effects, and every track past the first video and second audio track are dropped; a timeline with more
    video tracks is refused. Rates other than the SMPTE ones are conformed (`reelmark.bridge.rates`). The record
    timecode starts at the timeline's `global_start_time`, and an `FCM:` line says drop or non-drop frame.
    """
    if not isinstance(root, otio.schema.Timeline):
        raise TimelineFormatError("an EDL holds one sequence; write a collection as otio or fcpxml")
    marked = root.deepcopy()
    conform_timeline(marked, "edl")
    _tag_names(marked)
    first = _first_clip_rate(marked)
    rate = conform_rate(exact_rate(rate) if rate else first or Fraction(24), "edl")
    cut_list = marked.deepcopy()
    for clip in cut_list.find_clips():
        clip.markers[:] = []
        _ranges_for_adapters(clip)
    start = round_fraction(from_rational_time(marked.global_start_time) * rate) if marked.global_start_time else 0
    if start and all(track.source_range is None for track in cut_list.tracks):
        # The adapter starts record time at zero (or where its own reader trimmed a track) and writes a gap as
        # record time without an event.
        for track in cut_list.tracks:
            track.insert(0, otio.schema.Gap(duration=otio.opentime.RationalTime(start, float(rate))))
    text = adapter_write(cut_list, "cmx_3600", "EDL", rate=float(rate))
    return patch_locators(with_frame_code_mode(text, rate), marked, rate, only_reelmark=False)


def patch_edl(original: str, root: Root, rate: Fraction | None) -> str:
    """The original EDL text with reelmark's `LOC` lines replaced by those of `root` (read from that text)."""
    if not isinstance(root, otio.schema.Timeline):
        raise TimelineFormatError("an EDL holds one sequence; write a collection as otio or fcpxml")
    marked = root.deepcopy()
    _tag_names(marked)
    return patch_locators(original, marked, rate or Fraction(24), only_reelmark=True)


def write_fcpxml(root: Root) -> str:
    """FCPXML for Final Cut Pro (and Resolve's FCPXML import), through the FCPX adapter.

    Loses: marker colours (red becomes an unfinished to-do, green a finished one, every other colour a plain
    marker), comments and metadata, so reelmark writes its id tag into the marker name; clip metadata other than
    the adapter's own. Times are written as exact rational seconds; rates outside the adapter's table are conformed
    (`reelmark.bridge.rates`); the adapter's table of frame durations
    misses exact NTSC rates (30000/1001 …), so this writer fills in the format's frame duration from the first
    clip's rate (a timeline mixing several such rates gets that one). Reading NTSC FCPXML back, the adapter
    truncates the rate to an integer (29 for 29.97), an upstream bug: round trips of NTSC FCPXML are off.
    """
    copy = root.deepcopy()
    conform_timeline(copy, "fcpxml")
    _tag_names(copy)
    for clip in copy.find_clips():
        _ranges_for_adapters(clip)
    return _fill_frame_duration(adapter_write(copy, "fcpx_xml", "FCPXML"), _first_clip_rate(copy))


def _fill_frame_duration(xml: str, rate: Fraction | None) -> str:
    """Give the format the adapter left without a frame duration (a rate outside its table) the exact one."""
    if rate is None or 'frameDuration=""' not in xml:
        return xml
    tree = ElementTree.fromstring(xml)
    for element in tree.iter("format"):
        if not element.get("frameDuration"):
            element.set("frameDuration", f"{rate.denominator}/{rate.numerator}s")
    return _xml_document(tree, "fcpxml")


def _first_clip_rate(root: Root) -> Fraction | None:
    clips = root.find_clips()
    return exact_rate(clips[0].trimmed_range().start_time.rate) if clips else None


def _tag_names(root: Root) -> None:
    """For formats that keep only marker names: end reelmark's marker names with the id tag, for re-import."""
    for clip in root.find_clips():
        for marker in clip.markers:
            moment_id = reelmark_id(marker)
            if moment_id and moment_id not in marker.name.lower():
                marker.name = f"{marker.name} {id_tag(moment_id)}"


def write_json(analysis: Analysis, fmt: Format, timeline: str) -> bytes:
    """The analysis itself, in the results model's JSON (the timeline choice does not apply)."""
    return (analysis.to_json() + "\n").encode("utf-8")


def write_timeline_file(analysis: Analysis, fmt: Format, timeline: str) -> bytes:
    """A timeline format's file: the timeline `timeline` names, built from the analysis, in `fmt`."""
    if timeline not in TIMELINES:
        raise InvalidRequestError(f"unknown timeline {timeline!r}; choose one of {', '.join(TIMELINES)}")
    return render_timeline(TIMELINES[timeline](analysis), fmt.name)


def render_timeline(root: Root, fmt: str, edl_rate: Fraction | None = None) -> bytes:
    """An OTIO timeline in the timeline format `fmt` (an EDL at `edl_rate` when given)."""
    if fmt == "edl":
        return write_edl(root, edl_rate).encode("utf-8")
    record = all_formats().get(fmt)
    if record is None or record.timeline_writer is None:
        raise TimelineFormatError(_unknown_format(fmt, timeline_formats()))
    return record.write_timeline()(root).encode("utf-8")


def render(analysis: Analysis, fmt: str, timeline: str = "analysis") -> bytes:
    """The file contents of `analysis` in `fmt`; `timeline` picks the source clip, the highlight reel or segments."""
    if fmt not in all_formats():
        raise InvalidRequestError(_unknown_format(fmt, list(all_formats())))
    return all_formats()[fmt].write(analysis, timeline)


def write_analysis(analysis: Analysis, path: Path, fmt: str, timeline: str = "analysis") -> Path:
    return write_atomically(document_path(Path(path)), render(analysis, fmt, timeline))


def _unknown_format(fmt: str, known: list[str]) -> str:
    return f"unknown format {fmt!r}; choose one of {', '.join(known)}"


