"""Reading any timeline file OTIO can read, safely, with errors that name the file and the line.

The adapters are lenient in ways that lose data silently or hang: ElementTree expands XML entities (a
"billion laughs" file takes all memory), the CMX 3600 reader files unknown lines as comments of the event before,
and a JSON file that is not OTIO fails deep inside the deserialiser. So each file is checked before its adapter
sees it: XML through defusedxml (no entity declarations, no external entities, malformed XML reported with its
line), JSON for an OTIO schema, EDL line by line. What passes is read by the adapter made for the format.

EDL files do not say their frame rate. Unless one is given, it is read from the file: `FCM: DROP FRAME` or a
`;` before the frames means drop-frame (30000/1001, or 60000/1001 when a frame field reaches 30); otherwise the smallest common rate above every frame field in the timecodes (a 24 when no frame
field reaches 24, as the adapter assumes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import opentimelineio as otio

from reelmark.bridge.colours import colour_from_ppro
from reelmark.bridge.edl import attach_locators, split_locators
from reelmark.bridge.formats import document_path
from reelmark.core.errors import TimecodeError, TimelineFormatError, TimelineNotFoundError

MAX_TIMELINE_BYTES = 256 * 1024 * 1024
"""Larger files are refused before parsing: no real timeline comes near it, and parsers hold it all in memory."""

READABLE = {".otio": "otio", ".xml": "xml", ".fcpxml": "fcpxml", ".edl": "edl", ".aaf": "aaf"}
"""Extension → format family; `.xml` is FCP7 XML or FCPXML, told apart by the root element."""
ADAPTERS = {"otio": "otio_json", "fcp7xml": "fcp_xml", "fcpxml": "fcpx_xml", "edl": "cmx_3600", "aaf": "AAF"}
EDL_RATES = (Fraction(24), Fraction(25), Fraction(30), Fraction(50), Fraction(60))
_TIMECODE = r"\d{2}[:;.]\d{2}[:;.]\d{2}[:;.]\d{2}"
_EDL_EVENT = re.compile(rf"^\d+\s+.*?({_TIMECODE})\s+({_TIMECODE})\s+({_TIMECODE})\s+({_TIMECODE})\s*$")
_DROP_FRAME_TIMECODE = re.compile(r"\b\d{2}:\d{2}:\d{2};\d{2}\b")
_EDL_FRAMES = re.compile(r"\b\d{2}[:;.]\d{2}[:;.]\d{2}[:;.](\d{2})\b")
_EDL_OTHER_LINES = ("TITLE:", "FCM:", "SPLIT:", "M2 ", "*", ">>>", "AUD", "EFFECTS NAME IS", "FROM CLIP NAME", "SWM")


@dataclass(frozen=True)
class LoadedTimeline:
    """What a timeline file held, as read."""

    path: Path
    format: str
    """One of `ADAPTERS`' keys."""
    root: otio.core.SerializableObject
    """A Timeline, or a SerializableCollection (FCPXML libraries hold several)."""
    edl_rate: Fraction | None = None

    @property
    def timelines(self) -> list[otio.schema.Timeline]:
        if isinstance(self.root, otio.schema.Timeline):
            return [self.root]
        return list(self.root.find_children(descended_from_type=otio.schema.Timeline))


def read_timeline(path: Path, edl_rate: Fraction | None = None, ignore_timecode_mismatch: bool = False) -> LoadedTimeline:
    """Read `path` with the adapter for its format; `edl_rate` overrides the rate read from an EDL.

    `ignore_timecode_mismatch` lets the CMX adapter read EDL events whose source and record durations differ
    (it trusts the record duration), which it otherwise refuses.
    """
    path = document_path(Path(path))
    raw = _checked_bytes(path)
    family = READABLE.get(path.suffix.lower())
    if family is None:
        known = ", ".join(sorted(READABLE))
        raise TimelineFormatError(f"{path}: reelmark reads timelines ending in {known}; rename the file or export one of those")
    if family == "aaf":
        return LoadedTimeline(path, "aaf", _adapter_read(path, "aaf", lambda: otio.adapters.read_from_file(str(path), "AAF")))
    text = _text(path, raw)
    if family == "otio":
        _check_otio_json(path, text)
        return LoadedTimeline(path, "otio", _adapter_read(path, "otio", lambda: otio.adapters.read_from_string(text, "otio_json")))
    if family == "edl":
        _check_edl(path, text)
        return _read_edl(path, text, edl_rate or edl_rate_of(text), ignore_timecode_mismatch)
    kind, root = _parsed_xml(path, text, "fcpxml" if family == "fcpxml" else None)
    if kind == "fcpxml" and _name_asset_files(root):
        text = ElementTree.tostring(root, encoding="unicode")
    loaded = LoadedTimeline(path, kind, _adapter_read(path, kind, lambda: otio.adapters.read_from_string(text, ADAPTERS[kind])))
    if kind == "fcp7xml":
        for timeline in loaded.timelines:
            _fcp7_markers_to_source_time(timeline)
    return loaded


def _read_edl(path: Path, text: str, rate: Fraction, ignore_timecode_mismatch: bool) -> LoadedTimeline:
    """The cut list through the CMX adapter; locators (record time) and the record start by `reelmark.bridge.edl`."""
    try:
        cut_list, locators = split_locators(text, rate)
    except TimecodeError as error:
        raise TimelineFormatError(f"{path}: {error}; give the EDL's rate with --edl-rate") from None

    def read() -> otio.core.SerializableObject:
        try:
            return otio.adapters.read_from_string(cut_list, "cmx_3600", rate=float(rate), ignore_timecode_mismatch=ignore_timecode_mismatch)
        except otio.exceptions.OTIOError as error:
            if "don't match" in str(error) or "Overlapping record" in str(error):
                raise TimelineFormatError(
                    f"{path}: {error}; if the record timecodes are right, run again with --ignore-timecode-mismatch "
                    "(the adapter then trusts the record side)"
                ) from None
            raise

    root = _adapter_read(path, "edl", read)
    attach_locators(root, locators, rate)
    return LoadedTimeline(path, "edl", root, rate)


def _fcp7_markers_to_source_time(timeline: otio.schema.Timeline) -> None:
    """FCP7 clip markers count frames from the start of the media file; OTIO's clip markers are timecode-absolute
    like the clip's range (the FCP adapter reads the frames as written). Their `pproColor` becomes their colour."""
    for clip in timeline.find_clips():
        reference = clip.media_reference
        origin = reference.available_range.start_time if reference is not None and reference.available_range else None
        for marker in clip.markers:
            fcp = marker.metadata.get("fcp_xml") or {}
            marker.color = colour_from_ppro(fcp.get("pproColor")).otio
            if origin is not None:
                start = marker.marked_range.start_time
                marker.marked_range = otio.opentime.TimeRange(start + origin.rescaled_to(start), marker.marked_range.duration)


def _checked_bytes(path: Path) -> bytes:
    if not path.exists():
        raise TimelineNotFoundError(f"{path}: no such timeline file; check the path")
    if not path.is_file():
        raise TimelineFormatError(f"{path}: is not a file; give the timeline file itself")
    size = path.stat().st_size
    if size == 0:
        raise TimelineFormatError(f"{path}: the file is empty; export the timeline again")
    if size > MAX_TIMELINE_BYTES:
        raise TimelineFormatError(
            f"{path}: {size / 2**20:.0f} MiB is larger than any timeline reelmark reads ({MAX_TIMELINE_BYTES // 2**20} MiB); "
            "export the sequence without embedded media"
        )
    return path.read_bytes()


def _text(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TimelineFormatError(f"{path}: not UTF-8 text (byte {error.start}); is it the right file?") from None


def _adapter_read(path: Path, kind: str, read: Callable[[], Any]) -> otio.core.SerializableObject:
    try:
        root = read()
    except TimelineFormatError:
        raise
    except Exception as error:  # noqa: BLE001 - adapters raise anything from KeyError to OTIOError; all mean "unreadable"
        raise TimelineFormatError(f"{path}: the {kind} reader could not read it: {error or type(error).__name__}") from None
    if not isinstance(root, (otio.schema.Timeline, otio.schema.SerializableCollection)):
        raise TimelineFormatError(f"{path}: holds a {type(root).__name__}, not a timeline; export a sequence or timeline")
    return root


def _check_otio_json(path: Path, text: str) -> None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise TimelineFormatError(f"{path}, line {error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or "OTIO_SCHEMA" not in data:
        if isinstance(data, dict) and str(data.get("schema", "")).startswith("reelmark.analysis"):
            raise TimelineFormatError(
                f"{path}: is a reelmark analysis, not a timeline; turn it into one with `reelmark export {path.name} -o out.otio`"
            )
        raise TimelineFormatError(f"{path}: is JSON but not an OpenTimelineIO file (no OTIO_SCHEMA at the top)")
    schema = str(data["OTIO_SCHEMA"]).split(".")[0]
    if schema not in ("Timeline", "SerializableCollection"):
        raise TimelineFormatError(f"{path}: holds an OTIO {schema}, not a timeline; export a timeline")


def _name_asset_files(root: ElementTree.Element) -> bool:
    """Copy each FCPXML asset's file onto its `src` attribute, where the FCPX adapter (1.0) reads it; whether any
    changed. FCPXML 1.9 and later name it in a `media-rep` child instead (`src` on the asset is gone), and the
    adapter made every clip of such a document (Final Cut Pro's and Resolve's current exports) a missing reference,
    so a round trip to another format found no media at all. The first `media-rep` is the original media."""
    changed = False
    for asset in root.iter("asset"):
        file = next((rep.get("src") for rep in asset.iter("media-rep") if rep.get("src")), None)
        if not asset.get("src") and file:
            asset.set("src", file)
            changed = True
    return changed


def _parsed_xml(path: Path, text: str, expected: str | None) -> tuple[str, ElementTree.Element]:
    """Parse once with defusedxml to refuse entity tricks and report malformed XML; the root tells the format."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(text)
    except DefusedXmlException as error:
        raise TimelineFormatError(
            f"{path}: refused: the XML declares entities ({type(error).__name__}), which timeline exports never do "
            "and which can expand without bound; export the timeline again from the NLE"
        ) from None
    except ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0]
        raise TimelineFormatError(f"{path}, line {line}, column {column}: malformed XML ({reason})") from None
    tag = root.tag.split("}")[-1]
    kinds = {"xmeml": "fcp7xml", "fcpxml": "fcpxml"}
    if tag not in kinds or (expected and kinds[tag] != expected):
        raise TimelineFormatError(f"{path}: the XML's root element is <{tag}>, not <xmeml> (FCP7 XML) or <fcpxml> (FCPXML)")
    return kinds[tag], root


def _check_edl(path: Path, text: str) -> None:
    """Every non-blank line must be a header, an event with four timecodes, or a comment the format allows."""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(_EDL_OTHER_LINES):
            continue
        if stripped[0].isdigit() and _EDL_EVENT.match(stripped):
            continue
        what = "an event line without its four timecodes" if stripped[0].isdigit() else "not an EDL header, event or comment"
        raise TimelineFormatError(f"{path}, line {number}: {stripped[:60]!r} is {what}")


def edl_rate_of(text: str) -> Fraction:
    """The frame rate an EDL's timecodes imply (see the module docstring)."""
    highest = max((int(frames) for frames in _EDL_FRAMES.findall(text)), default=0)
    if re.search(r"^\s*FCM:\s*DROP\s+FRAME", text, re.MULTILINE | re.IGNORECASE) or _DROP_FRAME_TIMECODE.search(text):
        return Fraction(60000, 1001) if highest >= 30 else Fraction(30000, 1001)
    return next((rate for rate in EDL_RATES if rate > highest), EDL_RATES[-1])
