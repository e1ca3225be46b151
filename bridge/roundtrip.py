"""Round trip: a timeline in, the same timeline out with reelmark's markers on every clip it could analyse.

For each clip on a video track (nested stacks included): find its media (`media_lookup`), analyse the part of the
file the clip uses through the engine API, remove the markers reelmark put there before (`markers`), and add one
marker per moment in the clip's own source time. Nothing else is touched: clips, gaps, transitions, effects,
names, ranges, the user's markers and all metadata go back to the adapter as they were read, so the only
changes besides reelmark's markers are the losses the output adapter documents (`writers`). A clip on an audio
track that is the sound of a video clip is left alone (the video clip carries the markers); any other audio clip
is analysed for its audio moments (speech, silence, loud) and marked. Clips whose media is missing or unreadable
are reported and left untouched. An EDL written as an EDL is not regenerated but patched
(`edl.patch_locators`), so everything but reelmark's `LOC` lines stays byte for byte.

Analyses are cached by file, range, engine, tasks, queries and params: a clip used five times is analysed once.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import opentimelineio as otio

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.fcp7_patch import CannotPatch, patch_fcp7
from reelmark.bridge.fcpxml_patch import document_clips, patch_fcpxml
from reelmark.bridge.markers import remove_reelmark_markers
from reelmark.bridge.media_lookup import MediaLookup
from reelmark.bridge.reading import LoadedTimeline, read_timeline
from reelmark.bridge.timelines import add_markers
from reelmark.bridge.formats import FORMATS, document_path, format_for_path, timeline_formats
from reelmark.bridge.writers import patch_edl, render_timeline
from reelmark.core.engines.base import AnalysisRequest, ProgressCallback, request_key
from reelmark.core.errors import ReelmarkError, TimelineFormatError
from reelmark.core.files import check_writable, write_atomically
from reelmark.core.media.probing import probe
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task

log = logging.getLogger(__name__)

AUDIO_QUERIES = ("speech", "silence", "loud")
"""What a clip of sound alone is analysed for (grounding queries every engine with audio answers)."""

Analyser = Callable[[AnalysisRequest], Analysis]
"""Runs one analysis: the engine in-process, or a daemon client."""
ClipStatus = Literal["marked", "missing media", "skipped", "failed"]


@dataclass(frozen=True)
class ClipOutcome:
    timeline: str
    track: str
    clip: str
    status: ClipStatus
    detail: str
    media: Path | None = None
    added: int = 0
    replaced: int = 0


@dataclass
class RoundTripReport:
    source: Path
    output: Path
    input_format: str
    output_format: str
    clips: list[ClipOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: ClipStatus) -> int:
        return sum(1 for outcome in self.clips if outcome.status == status)

    def summary(self) -> str:
        """One line per clip, then the totals: what an editor needs to see which clips got no markers and why."""
        lines = [f"{'status':<14} {'markers':>12}  {'clip':<32} detail"]
        for item in self.clips:
            markers = f"{item.added}" + (f" ({item.replaced} old)" if item.replaced else "") if item.status == "marked" else "-"
            lines.append(f"{item.status:<14} {markers:>12}  {item.clip[:32]:<32} {item.detail}")
        if any(item.replaced for item in self.clips):
            lines.append("markers: added now (old: reelmark's markers from an earlier run, replaced; yours are untouched)")
        counts = ", ".join(f"{self.count(status)} {status}" for status in ("marked", "missing media", "failed", "skipped"))
        lines.append(f"{len(self.clips)} clips: {counts}")
        lines.extend(f"note: {note}" for note in self.notes)
        lines.append(f"wrote {self.output} ({self.output_format}, from {self.input_format})")
        return "\n".join(lines)


class CachedAnalyser:
    """Probes each file and analyses each (file, range, request) once per run, however many clips use them;
    `analyse` is the engine or a daemon client."""

    def __init__(self, analyse: Analyser):
        self.analyse = analyse
        self.results: dict[str, Analysis] = {}
        self.probes: dict[Path, MediaInfo] = {}
        self.calls = 0

    def probe(self, media: Path) -> MediaInfo:
        if media not in self.probes:
            self.probes[media] = probe(media)
        return self.probes[media]

    def __call__(self, request: AnalysisRequest) -> Analysis:
        stat = request.media.stat()
        key = request_key(request, None, f"{request.media}|{stat.st_size}|{stat.st_mtime_ns}")
        if key not in self.results:
            self.calls += 1
            self.results[key] = self.analyse(request)
        return self.results[key]


def output_format_for(loaded: LoadedTimeline, output: Path, requested: str | None) -> str:
    """The format asked for, else the one the output's extension names, else the input's own format."""
    suffix = Path(output).suffix.lower()
    if requested:
        chosen = requested
    elif suffix == ".aaf":
        chosen = "aaf"
    elif suffix == ".xml":
        chosen = "fcpxml" if loaded.format == "fcpxml" else "fcp7xml"
    else:
        chosen = format_for_path(output, default=loaded.format)
    if chosen == "aaf":
        raise TimelineFormatError(
            "the AAF adapter (otio-aaf-adapter 2.0) drops markers when it writes, so an AAF round trip would lose "
            "every marker; write -o timeline.otio or timeline.xml (FCP7 XML) and import that"
        )
    if chosen not in timeline_formats():
        raise TimelineFormatError(f"cannot write a timeline as {chosen!r}; choose one of {', '.join(timeline_formats())}")
    return chosen


def roundtrip(
    source: Path,
    output: Path,
    analyse: Analyser,
    *,
    tasks: tuple[str, ...] = (),
    queries: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
    media_roots: tuple[Path, ...] = (),
    output_format: str | None = None,
    edl_rate: Fraction | None = None,
    ignore_timecode_mismatch: bool = False,
    progress: ProgressCallback | None = None,
) -> RoundTripReport:
    """Read `source`, mark every clip it can, write `output` (atomically) and say what happened to each clip.

    Before any analysis, the output is checked: its folder must take a file, and the timeline as read must render
    in the output format, so a format limit or a read-only folder fails in seconds, not after hours of analysis.
    A clip that fails, for whatever reason, is reported as failed and the others go on.
    """
    loaded = read_timeline(source, edl_rate, ignore_timecode_mismatch)
    fmt = output_format_for(loaded, Path(output), output_format)
    fcpxml = document_clips(loaded.path.read_bytes()) if loaded.format == "fcpxml" else None
    patch_fcpxml_document = fcpxml is not None and fmt == "fcpxml"
    check_writable(document_path(Path(output)))
    if not patch_fcpxml_document:
        render_output(loaded, fmt, [])  # a format limit fails now, not after the analyses
        if loaded.format == fmt == "fcp7xml":
            render_timeline(loaded.root, fmt, loaded.edl_rate)  # the fallback, should the patch turn out impossible
    lookup = MediaLookup(loaded.path.resolve().parent, tuple(Path(root) for root in media_roots))
    report = RoundTripReport(Path(source), Path(output), loaded.format, fmt)
    cached = analyse if isinstance(analyse, CachedAnalyser) else CachedAnalyser(analyse)
    if patch_fcpxml_document:
        work = [Place(item.where, "video" if item.video else "audio", _kind(item.video), item.clip, item.skip) for item in fcpxml[1]]
    else:
        work = [
            Place(timeline.name, track.name or track.kind, track.kind, clip, _linked_reason(timeline, track, clip))
            for timeline in loaded.timelines for track in timeline.tracks for clip in track.find_clips()
        ]  # fmt: skip
    for done, place in enumerate(work):
        if progress:
            progress(place.clip.name or "clip", done / max(1, len(work)))
        report.clips.append(_mark_clip(place, lookup, cached, tasks, queries, params or {}))
    report.notes.extend(lookup.notes)
    if patch_fcpxml_document:
        data = patch_fcpxml(loaded.path.read_bytes(), *fcpxml)
    else:
        if fcpxml is not None:
            report.clips.extend(
                ClipOutcome(item.where, "-", item.clip.name, "skipped", "outside any project, so not in this output; write FCPXML to mark it")
                for item in fcpxml[1] if item.where.startswith(("event", "collection"))
            )  # fmt: skip
        data = render_output(loaded, fmt, report.notes)
        report.notes.extend(losses(loaded, data, fmt))
    write_atomically(document_path(Path(output)), data)
    if progress:
        progress("written", 1.0)
    return report


@dataclass(frozen=True)
class Place:
    """A clip to mark and where it is: the timeline (or FCPXML project, event, compound clip) and track."""

    timeline: str
    track: str
    kind: str
    """An `otio.schema.TrackKind`."""
    clip: otio.schema.Clip
    skip: str | None = None
    """Why the clip is not analysed, when the reader already knows."""


def _kind(video: bool) -> str:
    return otio.schema.TrackKind.Video if video else otio.schema.TrackKind.Audio


def _mark_clip(
    place: Place,
    lookup: MediaLookup,
    analyse: CachedAnalyser,
    tasks: tuple[str, ...],
    queries: tuple[str, ...],
    params: dict[str, Any],
) -> ClipOutcome:
    clip = place.clip

    def outcome(status: ClipStatus, detail: str, **extra: Any) -> ClipOutcome:
        return ClipOutcome(place.timeline, place.track, clip.name, status, detail, **extra)

    skip = place.skip or _skip_reason(place.kind, clip)
    if skip:
        return outcome("skipped", skip)
    found = lookup.find(clip)
    if found.path is None:
        return outcome("missing media", found.reason)
    try:
        used = clip.trimmed_range()
        clock = MediaClock.for_clip(clip, analyse.probe(found.path))
        start, end = clock.seconds_of(used.start_time), clock.seconds_of(used.end_time_exclusive())
        if place.kind == otio.schema.TrackKind.Audio:  # sound alone: its audio moments
            request = AnalysisRequest(found.path, (Task.GROUND,), AUDIO_QUERIES, max(start, Fraction(0)), end, params)
        else:
            request = AnalysisRequest(found.path, tasks, queries, max(start, Fraction(0)), end, params)
        analysis = analyse(request)
    except otio.exceptions.OTIOError as error:
        return outcome("failed", f"the clip has no usable range ({error})", media=found.path)
    except ReelmarkError as error:
        return outcome("failed", str(error), media=found.path)
    except Exception as error:  # noqa: BLE001 - one clip's bug must not lose every other clip's analysis
        log.exception("analysing clip %r of %s failed", clip.name, found.path)
        return outcome("failed", f"reelmark failed on this clip ({type(error).__name__}: {error}); please report it", media=found.path)
    replaced = remove_reelmark_markers(clip)
    added = add_markers(clip, analysis, clock)
    return outcome("marked", found.reason, media=found.path, added=added, replaced=replaced)


def losses(loaded: LoadedTimeline, data: bytes, fmt: str) -> list[str]:
    """What the written file no longer holds, found by reading it back: clips and markers, counted."""
    if fmt in ("otio", "resolve-otio") or (loaded.format == fmt and fmt in ("edl", "fcp7xml")):
        return []  # OTIO holds everything; patched documents keep everything
    with tempfile.TemporaryDirectory(prefix="reelmark-check-") as folder:
        written = Path(folder) / f"written{FORMATS[fmt].extension}"
        written.write_bytes(data)
        back = read_timeline(written, loaded.edl_rate)
    before, after = _census(loaded.timelines), _census(back.timelines)
    lost = [f"{b - a} of {b} {what}" for what, b, a in zip(("clips", "clip markers", "timeline markers"), before, after, strict=True) if a < b]
    if not lost:
        return []
    return [f"the {fmt} output lost {', '.join(lost)}: the format holds less than {loaded.format} "
            "(README, format table); write otio to keep everything"]


def _census(timelines: list[otio.schema.Timeline]) -> tuple[int, int, int]:
    clips = [clip for timeline in timelines for clip in timeline.find_clips()]
    items = [item for timeline in timelines for item in (timeline.tracks, *timeline.tracks.find_children())]
    timeline_markers = sum(len(getattr(item, "markers", ())) for item in items if not isinstance(item, otio.schema.Clip))
    return len(clips), sum(len(clip.markers) for clip in clips), timeline_markers


def render_output(loaded: LoadedTimeline, fmt: str, notes: list[str]) -> bytes:
    """The output file. A document written in its own format is patched, so only reelmark's markers change (EDL
    `LOC` lines, FCP7 `<marker>` elements); other outputs are written by the format's writer. A patch that is
    impossible falls back to the writer, and `notes` says so and what that writer loses."""
    if loaded.format == "edl" and fmt == "edl":
        return patch_edl(loaded.path.read_text(encoding="utf-8-sig"), loaded.root, loaded.edl_rate).encode("utf-8")
    if loaded.format == "fcp7xml" and fmt == "fcp7xml":
        try:
            return patch_fcp7(loaded.path.read_bytes(), loaded.root)
        except CannotPatch as error:
            notes.append(f"{error}, so the XML was regenerated by the FCP adapter, which drops what it does not model "
                         "(effects parameters, Premiere-only fields); see the README's format table")
    return render_timeline(loaded.root, fmt, loaded.edl_rate)


def _linked_reason(timeline: otio.schema.Timeline, track: otio.schema.Track, clip: otio.schema.Clip) -> str | None:
    """Why an audio clip is left alone: the same media and range is on a video track, whose clip gets the markers."""
    if track.kind != otio.schema.TrackKind.Audio:
        return None
    key = _usage(clip)
    if key is not None and any(_usage(other) == key for other in timeline.video_tracks() for other in other.find_clips()):
        return "the sound of a clip on a video track, which carries the markers"
    return None


def _usage(clip: otio.schema.Clip) -> tuple[str, float, float] | None:
    reference = clip.media_reference
    target = reference.target_url if isinstance(reference, otio.schema.ExternalReference) else clip.name
    try:
        used = clip.trimmed_range()
    except otio.exceptions.OTIOError:
        return None
    return target, used.start_time.to_seconds(), used.duration.to_seconds()


def _skip_reason(kind: str, clip: otio.schema.Clip) -> str | None:
    if kind not in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
        return f"on a {kind} track"
    if isinstance(clip.media_reference, otio.schema.GeneratorReference):
        return "a generator (colour, bars, titles), not media"
    if isinstance(clip.media_reference, otio.schema.ImageSequenceReference):
        return "an image sequence; reelmark analyses movie files"
    return None
