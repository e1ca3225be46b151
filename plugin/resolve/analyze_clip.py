"""reelmark "Analyze clip" for DaVinci Resolve: the selected clips → the daemon → markers (and a highlight reel).

Runs inside Resolve's own Python (Workspace › Scripts › Utility › reelmark Analyze Clip), standard library only.
The launcher `reelmark install resolve` puts in Resolve's Scripts folder loads this package by path and calls
`main`, giving it the install record (where reelmark is, the daemon's address, the colour table, settings).

Order of work, following the traps in the Resolve scripting README (DESIGN §10):
1. `GetProductName()` / `GetVersion()` first: on the free edition no writing call (`AddMarker`,
   `DeleteMarkerByCustomData`, `ImportTimelineFromFile`) is ever made, since a gated call opens a modal that
   breaks every later call; the moments go to OTIO and FCP7 XML files beside the media instead, with the steps
   to import them.
2. The clips: `Timeline.GetSelectedClips()` exists from 21.x only, so it is guarded; then the current video
   item; then the Media Pool selection (whole clips, no timeline markers).
3. Each clip's media path and used source range go to the daemon; progress prints to Resolve's console.
4. Markers: on the Media Pool item in source frames, and on the timeline relative to its start
   (`resolve_markers`). A re-run replaces reelmark's markers and never touches the user's.
5. Optionally the highlight reel, imported from Resolve-shaped OTIO under a name no timeline has yet
   (`ImportTimelineFromFile` returns None for a name that exists).
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
from .resolve_markers import add_markers, plan_markers, remove_reelmark_markers

NTSC = {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "47.952": Fraction(48000, 1001),
        "59.94": Fraction(60000, 1001), "119.88": Fraction(120000, 1001)}  # fmt: skip


@dataclass
class Settings:
    """What the install record says (see `reelmark install resolve`)."""

    address: str = "127.0.0.1:7331"
    reelmark: str | None = None
    token: str | None = None
    tasks: list[str] = field(default_factory=lambda: ["shots", "people", "highlights"])
    import_highlights: bool = True
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
    """One clip to analyse: its media and the source frames the timeline uses (None: the whole clip)."""

    name: str
    media_pool_item: Any
    timeline_item: Any | None = None

    def media_path(self) -> str:
        return self.media_pool_item.GetClipProperty("File Path") or ""

    def source_frames(self) -> tuple[int, int] | None:
        if self.timeline_item is None:
            return None
        start = int(self.timeline_item.GetSourceStartFrame())
        return start, start + int(self.timeline_item.GetDuration())


def clip_rate(text: str) -> Fraction:
    """Resolve's "FPS" clip property ("29.97", "25", "23.976") as an exact rate."""
    return NTSC.get(text.strip(), None) or Fraction(text.strip())


def is_studio(resolve: Any) -> bool:
    return "studio" in str(resolve.GetProductName() or "").lower()


def major_version(resolve: Any) -> int:
    version = resolve.GetVersion() or [0]
    return int(version[0]) if isinstance(version, (list, tuple)) else int(str(version).split(".")[0])


def selected_targets(version: int, project: Any, timeline: Any | None) -> list[Target]:
    """The selected timeline clips (21.x), else the current video item, else the Media Pool selection."""
    items: list[Any] = []
    if timeline is not None and version >= 21 and hasattr(timeline, "GetSelectedClips"):
        selected = timeline.GetSelectedClips() or []
        items = list(selected.values()) if isinstance(selected, dict) else list(selected)
    if not items and timeline is not None:
        current = timeline.GetCurrentVideoItem()
        items = [current] if current else []
    targets = [Target(item.GetName(), item.GetMediaPoolItem(), item) for item in items if item.GetMediaPoolItem()]
    if targets:
        return targets
    pool_items = project.GetMediaPool().GetSelectedClips() or []
    pool_items = list(pool_items.values()) if isinstance(pool_items, dict) else list(pool_items)
    return [Target(item.GetName(), item) for item in pool_items]


def request_spec(target: Target, settings: Settings) -> dict[str, Any]:
    spec: dict[str, Any] = {"mediaPath": target.media_path(), "tasks": settings.tasks}
    frames = target.source_frames()
    if frames is not None:
        rate = clip_rate(target.media_pool_item.GetClipProperty("FPS") or "25")
        spec["start"] = wire_time(Fraction(frames[0]) / rate)
        spec["end"] = wire_time(Fraction(frames[1]) / rate)
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
    frames = target.source_frames()
    if timeline is not None and frames is not None:
        offset = int(target.timeline_item.GetStart()) - int(timeline.GetStartFrame()) - frames[0]
        record = (frames[0] + offset, frames[1] + offset)
        timeline_plan = plan_markers(moments, settings.colours, first_frame_time, rate, window=frames)
        removed_here = remove_reelmark_markers(timeline, record)
        placed, shifted = add_markers(timeline, timeline_plan, offset)
        moved += shifted
        summary += f", {placed} timeline markers ({removed_here} replaced)"
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
    timeline = project.GetMediaPool().ImportTimelineFromFile(path, options)
    say(f"imported the highlight reel as timeline {options['timelineName']!r}" if timeline else
        f"Resolve did not import {path}; import it with File > Import > Timeline")  # fmt: skip


def write_files_for_import(link: DaemonLink, analysis: dict[str, Any], say: Callable[[str], None]) -> list[str]:
    """The free edition's path: OTIO (Resolve) and FCP7 XML files beside the media, and how to import them."""
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
    say("DaVinci Resolve (free) lets scripts read but not write markers. To bring the moments in:")
    say("  File > Import > Timeline..., choose " + written[0] + " (check 'Automatically import source clips')")
    say("  or, in Premiere Pro: File > Import, choose " + written[1])
    return written


def main(resolve: Any = None, install: str | None = None, say: Callable[[str], None] = print) -> int:
    """Run the script; returns 0 when every clip was handled, 1 otherwise (the console says why)."""
    resolve = resolve or _find_resolve()
    if resolve is None:
        say("reelmark: run this from DaVinci Resolve (Workspace > Scripts), not from a terminal")
        return 1
    settings = Settings.load(install)
    studio, version = is_studio(resolve), major_version(resolve)
    project = resolve.GetProjectManager().GetCurrentProject()
    if project is None:
        say("reelmark: open a project first")
        return 1
    timeline = project.GetCurrentTimeline()
    targets = selected_targets(version, project, timeline)
    if not targets:
        say("reelmark: select clips on the timeline (or in the Media Pool) first")
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
            if studio:
                say(f"{target.name}: {mark_target(target, timeline, analysis, settings)}")
                if settings.import_highlights:
                    import_highlight_reel(project, link, analysis, tempfile.gettempdir(), say)
            else:
                write_files_for_import(link, analysis, say)
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
