"""An analysis as OTIO timelines: the source clip with its markers, the highlight reel, the split segments.

Each timeline holds clips of the analysed file as `ExternalReference`s whose `available_range` is the whole file
counted from its source timecode, so every clip range and marker is in timecode-absolute source frames
(`reelmark.bridge.clock`). The timeline starts at the source's timecode (`global_start_time`).

Reframe crop paths are not markers: each clip carries them in `metadata["reelmark"]["reframe"]`, one entry per
shot and aspect with keyframes (source frame, time, crop box in [0, 1], centre). No NLE reads them from an
interchange file: Premiere's Motion effect and Resolve's Transform take position keyframes only through their
own APIs or by hand, so the plugins and scripts read this metadata (README, "Reframe").
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import opentimelineio as otio

from reelmark.bridge.clock import MediaClock
from reelmark.bridge.formats import TIMELINE_KINDS
from reelmark.bridge.markers import NAMESPACE, marker_for_moment
from reelmark.core.errors import InvalidRequestError
from reelmark.core.results import Analysis, Moment, MomentKind
from reelmark.core.times import time_to_json

MARKER_KINDS = frozenset(MomentKind) - {MomentKind.REFRAME}
"""Kinds that become markers; reframe crop paths go into clip metadata instead."""


def media_reference(analysis: Analysis, clock: MediaClock) -> otio.schema.ExternalReference:
    """The analysed file as a file:// URL (OTIO's convention; the Resolve writer turns it into a bare path)."""
    return otio.schema.ExternalReference(
        target_url=Path(analysis.media.path).resolve().as_uri(),
        available_range=clock.available_range(),
        metadata={NAMESPACE: {"fingerprint": analysis.media.fingerprint}},
    )


def add_markers(
    clip: otio.schema.Clip, analysis: Analysis, clock: MediaClock, moments: Iterable[Moment] | None = None
) -> int:
    """Marker every moment that overlaps the clip's source range, clipped to it; returns how many were added."""
    visible = clip.source_range or clip.available_range()
    added = 0
    for moment in analysis.moments if moments is None else moments:
        if moment.kind not in MARKER_KINDS:
            continue
        marker = marker_for_moment(moment, analysis, clock)
        clipped = _clip_range(marker.marked_range, visible)
        if clipped is None:
            continue
        marker.marked_range = clipped
        clip.markers.append(marker)
        added += 1
    return added


def _clip_range(marked: otio.opentime.TimeRange, visible: otio.opentime.TimeRange) -> otio.opentime.TimeRange | None:
    start = max(marked.start_time, visible.start_time)
    if marked.duration.value == 0:
        return marked if visible.start_time <= start < visible.end_time_exclusive() else None
    end = min(marked.end_time_exclusive(), visible.end_time_exclusive())
    if end <= start:
        return None
    return otio.opentime.TimeRange.range_from_start_end_time(start, end)


def reframe_metadata(analysis: Analysis, clock: MediaClock, within: otio.opentime.TimeRange) -> list[dict[str, Any]]:
    """The crop paths of the shots that overlap `within`, as JSON-native data for clip metadata."""
    paths = []
    for moment in analysis.of_kind(MomentKind.REFRAME):
        shot = clock.range_of(moment.span.start, moment.span.end)
        if _clip_range(shot, within) is None:
            continue
        words = moment.label.split()
        paths.append({
            "id": moment.id,
            "aspect": words[1] if len(words) > 1 and words[0] == "reframe" else moment.label,
            "description": moment.text,
            "start_frame": shot.start_time.to_frames(),
            "end_frame": shot.end_time_exclusive().to_frames(),
            "keyframes": [
                {
                    "frame": clock.frame_at(point.time),
                    "time": time_to_json(point.time),
                    "box": point.box.to_list(),
                    "centre": [(point.box.x0 + point.box.x1) / 2, (point.box.y0 + point.box.y1) / 2],
                }
                for point in moment.tube
            ],
        })  # fmt: skip
    return paths


def clip_of(analysis: Analysis, clock: MediaClock, name: str, span: tuple[Any, Any] | None = None) -> otio.schema.Clip:
    """A clip of the analysed file over `span` (media seconds; None: what was analysed), with its markers."""
    if span is None:
        whole = analysis.source_range
        source_range = clock.available_range() if whole is None else clock.range_of(whole.start, whole.end)
    else:
        source_range = clock.range_of(*span)
    clip = otio.schema.Clip(name=name, media_reference=media_reference(analysis, clock), source_range=source_range)
    reframe = reframe_metadata(analysis, clock, source_range)
    if reframe:
        clip.metadata[NAMESPACE] = {"reframe": reframe}
    return clip


def _timeline(analysis: Analysis, clock: MediaClock, name: str, clips: list[otio.schema.Clip]) -> otio.schema.Timeline:
    timeline = otio.schema.Timeline(name=name, global_start_time=clock.available_range().start_time)
    timeline.metadata[NAMESPACE] = {
        "media": analysis.media.path,
        "fingerprint": analysis.media.fingerprint,
        "engine": analysis.engine.name,
        "engine_version": analysis.engine.version,
        "model": analysis.engine.model_id,
        "params": dict(analysis.engine.params),
        "created_at": analysis.created_at.isoformat(),
    }
    video = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    video.extend(clips)
    timeline.tracks.append(video)
    if analysis.media.probe.audio:
        # The same cuts on an audio track, so the NLE brings in the clip's sound linked to its picture.
        audio = otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio)
        audio.extend(
            otio.schema.Clip(name=clip.name, media_reference=media_reference(analysis, clock), source_range=clip.source_range)
            for clip in clips
        )
        timeline.tracks.append(audio)
    return timeline


def analysis_timeline(analysis: Analysis, clock: MediaClock | None = None) -> otio.schema.Timeline:
    """The analysed clip on a timeline, one marker per moment (reframe paths in the clip's metadata)."""
    clock = clock or MediaClock.from_probe(analysis.media.probe)
    stem = Path(analysis.media.path).stem
    clip = clip_of(analysis, clock, stem)
    add_markers(clip, analysis, clock)
    return _timeline(analysis, clock, f"{stem} · reelmark", [clip])


def highlight_reel(analysis: Analysis, clock: MediaClock | None = None) -> otio.schema.Timeline:
    """The highlights as a reel, in source order, each clip carrying the markers of the moments inside it."""
    return _derived(analysis, clock, MomentKind.HIGHLIGHT, "highlights", "--task highlights")


def segment_timeline(analysis: Analysis, clock: MediaClock | None = None) -> otio.schema.Timeline:
    """The smart-split segments back to back, each clip carrying the markers of the moments inside it."""
    return _derived(analysis, clock, MomentKind.SEGMENT, "segments", "--task split")


def _derived(
    analysis: Analysis, clock: MediaClock | None, kind: MomentKind, title: str, task_flag: str
) -> otio.schema.Timeline:
    clock = clock or MediaClock.from_probe(analysis.media.probe)
    chosen = analysis.of_kind(kind)
    if not chosen:
        raise InvalidRequestError(f"the analysis of {analysis.media.path} has no {kind.value} moments; analyse it with {task_flag}")
    clips = []
    for moment in chosen:
        clip = clip_of(analysis, clock, moment.label or kind.value, (moment.span.start, moment.span.end))
        add_markers(clip, analysis, clock)
        clips.append(clip)
    return _timeline(analysis, clock, f"{Path(analysis.media.path).stem} · {title}", clips)


TIMELINES = dict(zip(TIMELINE_KINDS, (analysis_timeline, highlight_reel, segment_timeline), strict=True))
"""Which timeline to build from an analysis, by the names `formats.TIMELINE_KINDS` gives the CLI and the daemon."""
