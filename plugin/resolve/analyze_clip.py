"""reelmark "Analyze clip" for DaVinci Resolve: the selected clips → the daemon → markers (and a highlight reel).

Runs inside Resolve's own Python (Workspace › Scripts › Utility › reelmark Analyze Clip), standard library only.
The launcher `reelmark install resolve` puts in Resolve's Scripts folder loads this package by path and calls
`main`, giving it the install record (where reelmark is, the daemon's address, the colour table, settings).

Order of work, following the Resolve scripting README and the live-tested notes (DESIGN §10):
1. `GetVersion()` parsed (never `hasattr`, which is True for every name on Resolve objects); the product name
   only to say which edition refused something.
2. The clips: `Timeline.GetSelectedClips()` on 21.0.4 and newer; the current video item; the Media Pool
   selection (19.0.2 and newer; whole clips, no timeline markers). Each call is made defensively.
3. Each clip's media path and used source range (`used_range`: media time, whatever the rates or retime) go to
   the daemon; progress prints to Resolve's console.
4. Markers, on every edition (the free edition's menu scripts get a live `resolve` object; its known
   Studio-gated calls are subtitle generation and transcription, which reelmark never makes): on the Media Pool
   item in source frames, and on the timeline where the clip sits (`resolve_markers`). A re-run replaces
   reelmark's markers and never touches the user's. Only when Resolve refuses (`AddMarker` returns False) does
   the script write OTIO / FCP7 XML files beside the media instead, saying which call refused.
5. Optionally the highlight reel, imported from Resolve-shaped OTIO under a name no timeline has yet
   (`ImportTimelineFromFile` returns None for a name that exists).
6. "Add subtitles": when the tasks include `transcribe`, the speech as an SRT beside the media, imported into the
   Media Pool (`resolve_subtitles`).
Whatever fails, the console gets one line saying what to do, never a traceback.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .daemon_link import DaemonError, DaemonLink, connect, wire_time
from .resolve_host import MEDIA_POOL_SELECTED_CLIPS, TIMELINE_SELECTED_CLIPS, as_list, parse_rate, parse_version, try_call, version_text
from .resolve_subtitles import add_subtitles
from .resolve_markers import MarkerWriteRefused, add_markers, plan_markers, remove_reelmark_markers
from .used_range import UsedRange, used_range


@dataclass
class Settings:
    """What the install record says (see `reelmark install resolve`)."""

    address: str = "127.0.0.1:7331"
    reelmark: str | None = None
    token: str | None = None
    tasks: list[str] = field(default_factory=lambda: ["shots", "people", "highlights"])
    import_highlights: bool = True
    add_subtitles: bool = True
    """With `transcribe` among the tasks: the speech as an SRT beside the media, imported into the Media Pool."""
    colours: dict[str, str] = field(default_factory=dict)
    log_dir: str = field(default_factory=tempfile.gettempdir)

    @classmethod
    def load(cls, path: str | None) -> Settings:
        if not path or not os.path.exists(path):
            return cls()
        with open(path, encoding="utf-8") as stream:
            record = json.load(stream)
        known = {name: record[name] for name in cls.__dataclass_fields__ if name in record}
        return cls(**known)


@dataclass
class Target:
    """One clip to analyse: its media and, for a timeline clip, the part of it the timeline uses."""

    name: str
    media_pool_item: Any
    placement: UsedRange | None = None

    def media_path(self) -> str:
        return self.media_pool_item.GetClipProperty("File Path") or ""


def timeline_rate(project: Any, timeline: Any) -> Fraction | None:
    """The timeline's frame rate: its own `timelineFrameRate` setting, else the project's (README: GetSetting)."""
    for owner in (timeline, project):
        rate = parse_rate(try_call(owner, "GetSetting", "timelineFrameRate"))
        if rate is not None:
            return rate
    return None


def timeline_target(item: Any, project: Any, timeline: Any) -> Target | None:
    media_pool_item = try_call(item, "GetMediaPoolItem")
    if not media_pool_item:
        return None
    media_rate = parse_rate(media_pool_item.GetClipProperty("FPS"))
    record_rate = timeline_rate(project, timeline) or media_rate
    if media_rate is None or record_rate is None:
        return Target(item.GetName(), media_pool_item)  # no rate to count frames with: the whole clip
    return Target(item.GetName(), media_pool_item, used_range(item, media_rate, record_rate, int(timeline.GetStartFrame())))


def selected_targets(version: tuple[int, int, int], project: Any, timeline: Any | None) -> list[Target]:
    """The selected timeline clips (21.0.4+), else the current video item, else the Media Pool selection (19.0.2+)."""
    items: list[Any] = []
    if timeline is not None and version >= TIMELINE_SELECTED_CLIPS:
        items = as_list(try_call(timeline, "GetSelectedClips"))
    if not items and timeline is not None:
        current = try_call(timeline, "GetCurrentVideoItem")
        items = [current] if current else []
    targets = [target for target in (timeline_target(item, project, timeline) for item in items) if target]
    if targets or version < MEDIA_POOL_SELECTED_CLIPS:
        return targets
    return [Target(item.GetName(), item) for item in as_list(try_call(project.GetMediaPool(), "GetSelectedClips"))]


def request_spec(target: Target, settings: Settings) -> dict[str, Any]:
    spec: dict[str, Any] = {"mediaPath": target.media_path(), "tasks": settings.tasks}
    if target.placement is not None:
        spec["start"] = wire_time(target.placement.start)
        spec["end"] = wire_time(target.placement.end)
    return spec


def video_clock(analysis: dict[str, Any]) -> tuple[Fraction, Fraction]:
    """(time of frame 0, exact rate) of the analysed media, from the probe the daemon sends along."""
    probe = json.loads(analysis.get("media", {}).get("probeJson") or "{}")
    video = probe.get("video") or {}
    numerator, _, denominator = str(video.get("rate", "25")).partition("/")
    rate = Fraction(int(numerator), int(denominator or 1))
    start = video.get("start") or {"value": 0, "rate": 1}
    return Fraction(int(start["value"]), int(start["rate"])), rate


def mark_target(target: Target, timeline: Any | None, analysis: dict[str, Any], settings: Settings) -> str:
    """Replace reelmark's markers on the clip and, for a timeline clip, on the timeline; say what was done."""
    first_frame_time, rate = video_clock(analysis)
    moments = analysis.get("moments", [])
    clip_plan = plan_markers(moments, settings.colours, first_frame_time, rate)
    removed = remove_reelmark_markers(target.media_pool_item)
    added, moved = add_markers(target.media_pool_item, clip_plan)
    summary = f"{added} clip markers ({removed} replaced)"
    placed_on = target.placement
    if timeline is not None and placed_on is not None and placed_on.reversed:
        summary += "; no timeline markers: the clip plays reversed"
    elif timeline is not None and placed_on is not None:
        # Record frame of a media time: (time - used start) / speed, at the timeline's rate, from the clip's start.
        timeline_plan = plan_markers(moments, settings.colours, first_frame_time + placed_on.start,
                                     placed_on.timeline_rate / placed_on.speed, window=(0, placed_on.record_frames))  # fmt: skip
        record = (placed_on.record_start, placed_on.record_start + placed_on.record_frames)
        removed_here = remove_reelmark_markers(timeline, record)
        placed, shifted = add_markers(timeline, timeline_plan, placed_on.record_start)
        moved += shifted
        summary += f", {placed} timeline markers ({removed_here} replaced)"
        if placed_on.speed != 1:
            summary += f" (retimed clip at {float(placed_on.speed):.0%})"
    if moved:
        summary += f"; {moved} moved a frame or more to keep your own markers"
    return summary


def unique_timeline_name(project: Any, wanted: str) -> str:
    existing = {project.GetTimelineByIndex(index).GetName() for index in range(1, int(project.GetTimelineCount() or 0) + 1)}
    name, number = wanted, 2
    while name in existing:
        name, number = f"{wanted} {number}", number + 1
    return name


def import_highlight_reel(project: Any, link: DaemonLink, analysis: dict[str, Any], folder: str, say: Callable[[str], None]) -> None:
    if not any(moment.get("kind") == "highlight" for moment in analysis.get("moments", [])):
        return
    suggested, content = link.export(analysis["id"], "resolve-otio", "highlights")
    path = os.path.join(folder, Path(suggested).stem + " highlights.otio")
    with open(path, "wb") as stream:
        stream.write(content)
    options = {"timelineName": unique_timeline_name(project, f"{Path(suggested).stem} highlights"),
               "importSourceClips": True, "sourceClipsPath": str(Path(analysis["media"]["path"]).parent)}  # fmt: skip
    timeline = try_call(project.GetMediaPool(), "ImportTimelineFromFile", path, options)
    say(f"imported the highlight reel as timeline {options['timelineName']!r}" if timeline else
        f"Resolve's ImportTimelineFromFile returned nothing for {path}; import it with File > Import > Timeline")  # fmt: skip


def write_files_for_import(link: DaemonLink, analysis: dict[str, Any], say: Callable[[str], None]) -> list[str]:
    """When Resolve refuses markers: OTIO (Resolve) and FCP7 XML files beside the media, and how to import them."""
    media_folder = str(Path(analysis["media"]["path"]).parent)
    folder = media_folder if os.access(media_folder, os.W_OK) else tempfile.gettempdir()
    written = []
    for fmt, timeline in (("resolve-otio", "analysis"), ("fcp7xml", "analysis"), ("resolve-otio", "highlights")):
        if timeline == "highlights" and not any(m.get("kind") == "highlight" for m in analysis.get("moments", [])):
            continue
        suggested, content = link.export(analysis["id"], fmt, timeline)
        path = os.path.join(folder, f"{Path(suggested).stem} reelmark {timeline}{Path(suggested).suffix}")
        with open(path, "wb") as stream:
            stream.write(content)
        written.append(path)
    say("  to bring the moments in: File > Import > Timeline..., choose " + written[0] + " (check 'Automatically import source clips')")
    say("  or, in Premiere Pro: File > Import, choose " + written[1])
    return written


def main(resolve: Any = None, install: str | None = None, say: Callable[[str], None] = print) -> int:
    """Run the script; returns 0 when every clip was handled, 1 otherwise. Every failure, expected or not, ends
    as one console line saying what to do."""
    try:
        return _run(resolve, install, say)
    except Exception as error:  # noqa: BLE001 - the last line of defence: Resolve's console must get no traceback
        say(f"reelmark stopped: {type(error).__name__}: {error}. Nothing more was changed; run the script again, "
            "or analyse in a terminal (reelmark analyze CLIP --format resolve-otio -o CLIP.otio) and use File > Import > Timeline")  # fmt: skip
        return 1


def _run(resolve: Any, install: str | None, say: Callable[[str], None]) -> int:
    resolve = resolve or _find_resolve()
    if resolve is None:
        say("reelmark: run this from DaVinci Resolve (Workspace > Scripts), not from a terminal")
        return 1
    settings = Settings.load(install)
    version = parse_version(resolve)
    edition = f"{try_call(resolve, 'GetProductName') or 'DaVinci Resolve'} {version_text(version)}"
    project = try_call(resolve.GetProjectManager(), "GetCurrentProject")
    if project is None:
        say("reelmark: open a project first")
        return 1
    timeline = try_call(project, "GetCurrentTimeline")
    targets = selected_targets(version, project, timeline)
    if not targets:
        where = "on the timeline" if version >= TIMELINE_SELECTED_CLIPS else "under the playhead on the timeline"
        say(f"reelmark: select clips {where} (or in the Media Pool) first")
        return 1
    try:
        link = connect(settings.address, settings.reelmark, os.path.join(settings.log_dir, "reelmark-daemon.log"), say, settings.token)
    except DaemonError as error:
        say(f"reelmark: {error}")
        return 1
    failures = 0
    for target in targets:
        try:
            analysis = link.analyse(request_spec(target, settings), _progress(target.name, say))
            try:
                say(f"{target.name}: {mark_target(target, timeline, analysis, settings)}")
            except MarkerWriteRefused as refusal:
                say(f"{target.name}: {edition} refused the markers ({refusal}); writing files to import instead")
                write_files_for_import(link, analysis, say)
                continue
            if settings.import_highlights:
                import_highlight_reel(project, link, analysis, tempfile.gettempdir(), say)
            if settings.add_subtitles:
                add_subtitles(project.GetMediaPool(), link, analysis, say)
        except (DaemonError, ConnectionError) as error:
            failures += 1
            say(f"{target.name}: {error}")
    return 1 if failures else 0


def _progress(name: str, say: Callable[[str], None]) -> Callable[[str, float], None]:
    """Console progress in steps of a tenth, so Resolve's console stays readable."""
    shown = {-1}

    def report(stage: str, fraction: float) -> None:
        step = int(fraction * 10)
        if step not in shown:
            shown.add(step)
            say(f"{name}: {stage} {fraction:.0%}")

    return report


def _find_resolve() -> Any:
    """Resolve's scripting object when run from its Scripts menu (`bmd`) or an external Python (Studio)."""
    try:
        import DaVinciResolveScript  # type: ignore[import-not-found]  # noqa: PLC0415 - only exists inside Resolve

        return DaVinciResolveScript.scriptapp("Resolve")
    except ImportError:
        return None
