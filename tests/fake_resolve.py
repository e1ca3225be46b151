"""A stand-in for DaVinci Resolve's scripting object, for the signatures the "Analyze clip" script uses.

Every behaviour cites its source; "assumed" marks what no document supports. Sources:
- README: the Resolve scripting README (Developer/Scripting/README.txt, Resolve 21; kept with its history in
  samuelgursky/davinci-resolve-mcp `docs/reference/resolve_scripting_api.txt`);
- NOTES: that project's live-tested `docs/reference/api-limitations.md`;
- DESIGN §10, which summarises both.

Modelled:
- `GetVersion()` → [major, minor, patch, build, suffix] (README; `[19, 1, 3, 7, '']` live, NOTES' sibling
  `api-coverage.md`).
- `hasattr()` is True for every name and an unknown method comes back as a fabricated callable that returns
  None (NOTES, "hasattr() / getattr() on Resolve API objects"; "Calling a fabricated method typically returns
  None/False with no error"). `Host.missing_calls = "raise"` models the other reading of the same entry (the
  21.0.0 bridge record: the name resolves, the call fails), so the script is tested against both.
- Version gates: `Timeline.GetSelectedClips()` from 21.0.4 (`api-coverage.md`: "Requires a Resolve 21.0.4
  build"), `MediaPool.GetSelectedClips()` from 19.0.2 (DESIGN §10, from the README's history); on an older build
  the name behaves as a missing method (above).
- `GetMarkers()` → {float frame: {"color", "duration", "note", "name", "customData"}} (README).
- `AddMarker(frameId, color, name, note, duration, customData)` → Bool (README); False on a frame that already
  has a marker (assumed: the README says nothing; one marker per frame is what Resolve's UI allows) and for a
  colour outside the 16 marker colours (assumed, by analogy with SetClipColor's bare False for an unknown name,
  NOTES "SetClipColor").
- `DeleteMarkerByCustomData(customData)` deletes the FIRST matching marker only (README: "Delete first
  matching marker"); which one is "first" is assumed to be the lowest frame. `DeleteMarkerAtFrame(frameNum)`
  deletes the marker at that frame (README).
- Timeline markers count from the timeline's start while `GetStart()` / `GetStartFrame()` are absolute
  (README examples: "timeline offset 96"; DESIGN §10).
- Timeline items: `GetDuration()` in timeline frames (README); `GetSourceStartFrame()` in the media's frames and
  the true source even when retimed, optionally one frame off (NOTES, "TimelineItem.GetSourceStartFrame" and the
  retime entry's witness calibration); `GetSourceEndFrame()` exclusive at matching rates and inclusive (one less)
  when they differ (NOTES, "on an AUDIO item": measured over 12 items); `GetLeftOffset()` in record-side frames:
  source start / speed at the timeline's rate (NOTES, retime witness calibration; the timeline rate measured on
  audio items, assumed for video).
- `GetSetting("timelineFrameRate")` on Timeline and Project (README lists GetSetting on both; the key is named in
  NOTES); the string form ("29.97", "24") is assumed.
- `ImportTimelineFromFile(path, options)` returns None when the timeline name exists (README, NOTES) and
  (silently) when the OTIO is not Resolve-shaped (NOTES, ".otio document shape").
- `MediaPool.ImportMedia([{"FilePath": path}])` → the list of MediaPoolItems created (README; the clipInfo form,
  the list-of-paths one being deprecated in 21); a subtitle file imports as one item named after the file
  (assumed: the README says files of any kind; Resolve's manual imports SRT into the Media Pool through
  File › Import › Subtitle).
- Editions: the free edition's menu scripts get a live `resolve` object and its known Studio-gated calls are
  subtitle generation and transcription (NOTES, "Studio-gated calls on the free edition"), which the script never
  makes; so the fake gates nothing by edition. `Host.refuse` names calls that answer False/None, to test the
  script's fallback when Resolve refuses a call for any reason (the reason is not modelled).
"""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

MARKER_COLOURS = {"Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                  "Mint", "Lemon", "Sand", "Cocoa", "Cream"}  # fmt: skip


class FabricatedCallFailed(RuntimeError):
    """What calling a method this build does not have gives under `missing_calls = "raise"`."""


class Host:
    """Shared state: the build, every call made, how missing methods behave, and the calls that refuse."""

    def __init__(self, studio: bool, version: tuple[int, ...], missing_calls: str = "none"):
        self.studio, self.version, self.missing_calls = studio, tuple(version), missing_calls
        self.calls: list[str] = []
        self.refuse: set[str] = set()

    def enter(self, name: str) -> bool:
        """Record a call; False when the test made this call refuse."""
        self.calls.append(name)
        return name not in self.refuse

    def has(self, gate: tuple[int, int, int]) -> bool:
        return self.version[:3] >= gate

    def missing(self, name: str) -> Any:
        self.calls.append(name)
        if self.missing_calls == "raise":
            raise FabricatedCallFailed(f"{name} is not available on {'.'.join(map(str, self.version[:3]))}")
        return None


class ResolveObject:
    """Any name resolves (hasattr is always True); an unknown method returns None or raises, per `missing_calls`."""

    host: Host

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "host":
            raise AttributeError(name)
        return lambda *args: self.host.missing(name)


class MarkerOwner(ResolveObject):
    def __init__(self, host: Host):
        self.host = host
        self.markers: dict[float, dict[str, Any]] = {}

    def GetMarkers(self) -> dict[float, dict[str, Any]]:
        self.host.enter("GetMarkers")
        return {frame: dict(marker) for frame, marker in self.markers.items()}

    def AddMarker(self, frameId: float, color: str, name: str, note: str, duration: float, customData: str = "") -> bool:
        if not self.host.enter("AddMarker"):
            return False
        if float(frameId) in self.markers or color not in MARKER_COLOURS or duration < 1:
            return False
        self.markers[float(frameId)] = {"color": color, "duration": int(duration), "note": note, "name": name,
                                        "customData": customData}  # fmt: skip
        return True

    def DeleteMarkerByCustomData(self, customData: str) -> bool:
        if not self.host.enter("DeleteMarkerByCustomData"):
            return False
        matching = sorted(frame for frame, marker in self.markers.items() if marker["customData"] == customData)
        if not matching:
            return False
        del self.markers[matching[0]]  # the first match only
        return True

    def DeleteMarkerAtFrame(self, frameNum: float) -> bool:
        if not self.host.enter("DeleteMarkerAtFrame"):
            return False
        return self.markers.pop(float(frameNum), None) is not None


class MediaPoolItem(MarkerOwner):
    def __init__(self, host: Host, name: str, properties: dict[str, str]):
        super().__init__(host)
        self.name = name
        self.properties = properties

    def GetName(self) -> str:
        return self.name

    def GetClipProperty(self, propertyName: str) -> str:
        self.host.enter("GetClipProperty")
        return self.properties.get(propertyName, "")


class TimelineItem(ResolveObject):
    """A clip on a timeline. `source_start` is the true first source frame (media rate), `duration` the record
    length (timeline frames); `speed` retimes (negative: reversed); `source_start_error` is the one-frame misread."""

    def __init__(self, host: Host, item: MediaPoolItem, start: int, source_start: int, duration: int, *,
                 timeline_rate: Fraction, speed: Fraction = Fraction(1), source_start_error: int = 0,
                 left_offset_rate: str = "timeline"):  # fmt: skip
        self.host, self.item, self.start, self.duration = host, item, start, duration
        self.source_start, self.speed, self.source_start_error = source_start, Fraction(speed), source_start_error
        self.left_offset_rate = left_offset_rate
        self.media_rate, self.timeline_rate = exact_rate(item.properties["FPS"]), timeline_rate

    def GetName(self) -> str:
        return self.item.name

    def GetMediaPoolItem(self) -> MediaPoolItem:
        return self.item

    def GetStart(self) -> int:
        return self.start

    def GetEnd(self) -> int:
        return self.start + self.duration

    def GetDuration(self) -> int:
        return self.duration

    def GetSourceStartFrame(self) -> int:
        return self.source_start + self.source_start_error

    def GetSourceEndFrame(self) -> int:
        span = round(Fraction(self.duration) / self.timeline_rate * self.speed * self.media_rate)
        return self.source_start + span - (1 if span > 0 and self.media_rate != self.timeline_rate else 0)

    def GetLeftOffset(self) -> int:
        """Record-side frames at the timeline rate; `left_offset_rate="media"` models the unmeasured other reading
        for a video clip of another rate (media frames), so the script is tested against both."""
        rate = self.timeline_rate if self.left_offset_rate == "timeline" else self.media_rate
        return round(Fraction(self.source_start) / self.media_rate / abs(self.speed) * rate)


def exact_rate(text: str) -> Fraction:
    """The rate a printed FPS stands for (the fake's own table, independent of the plugin's parser)."""
    return {"23.976": Fraction(24000, 1001), "29.97": Fraction(30000, 1001), "59.94": Fraction(60000, 1001)}.get(text) or Fraction(text)


class Timeline(MarkerOwner):
    def __init__(self, host: Host, name: str, start_frame: int, items: list[TimelineItem] | None = None, rate: str = "24"):
        super().__init__(host)
        self.name, self.start_frame, self.items, self.rate = name, start_frame, items or [], rate
        self.current: TimelineItem | None = self.items[0] if self.items else None
        self.selected: list[TimelineItem] = []

    def GetName(self) -> str:
        return self.name

    def GetStartFrame(self) -> int:
        return self.start_frame

    def GetSetting(self, settingName: str) -> str:
        self.host.enter("GetSetting")
        return self.rate if settingName == "timelineFrameRate" else ""

    def GetCurrentVideoItem(self) -> TimelineItem | None:
        self.host.enter("GetCurrentVideoItem")
        return self.current

    def GetSelectedClips(self) -> Any:
        if not self.host.has((21, 0, 4)):
            return self.host.missing("GetSelectedClips")
        self.host.enter("GetSelectedClips")
        return list(self.selected)


class MediaPool(ResolveObject):
    def __init__(self, host: Host, project: Project):
        self.host, self.project = host, project
        self.selected: list[MediaPoolItem] = []
        self.imports: list[tuple[str, dict[str, Any]]] = []
        self.media: list[MediaPoolItem] = []

    def GetSelectedClips(self) -> Any:
        if not self.host.has((19, 0, 2)):
            return self.host.missing("MediaPool.GetSelectedClips")
        self.host.enter("MediaPool.GetSelectedClips")
        return list(self.selected)

    def ImportMedia(self, clipInfos: list[dict[str, Any]]) -> list[MediaPoolItem]:
        if not self.host.enter("ImportMedia"):
            return []
        items = [MediaPoolItem(self.host, info["FilePath"].rsplit("/", 1)[-1], {"File Path": info["FilePath"]}) for info in clipInfos]
        self.media.extend(items)
        return items

    def ImportTimelineFromFile(self, filePath: str, importOptions: dict[str, Any]) -> Timeline | None:
        if not self.host.enter("ImportTimelineFromFile"):
            return None
        name = importOptions.get("timelineName", "")
        if any(timeline.name == name for timeline in self.project.timelines) or not _resolve_shaped(filePath):
            return None
        self.imports.append((filePath, dict(importOptions)))
        timeline = Timeline(self.host, name, 86400)
        self.project.timelines.append(timeline)
        return timeline


def _resolve_shaped(path: str) -> bool:
    """NOTES ".otio document shape" / DESIGN §9: Clip.2 with DEFAULT_MEDIA, bare paths, available ranges, a
    global start time."""
    with open(path, encoding="utf-8") as stream:
        data = json.load(stream)
    if not data.get("global_start_time"):
        return False
    for track in data["tracks"]["children"]:
        for clip in track["children"]:
            if clip.get("OTIO_SCHEMA") != "Clip.2":
                continue
            reference = clip.get("media_references", {}).get("DEFAULT_MEDIA")
            if not reference or reference["target_url"].startswith("file:") or not reference.get("available_range"):
                return False
    return True


class Project(ResolveObject):
    def __init__(self, host: Host, rate: str = "24"):
        self.host, self.rate = host, rate
        self.timelines: list[Timeline] = []
        self.current: Timeline | None = None
        self.pool = MediaPool(host, self)

    def GetCurrentTimeline(self) -> Timeline | None:
        return self.current

    def GetMediaPool(self) -> MediaPool:
        return self.pool

    def GetSetting(self, settingName: str) -> str:
        return self.rate if settingName == "timelineFrameRate" else ""

    def GetTimelineCount(self) -> int:
        return len(self.timelines)

    def GetTimelineByIndex(self, idx: int) -> Timeline:
        return self.timelines[idx - 1]  # 1-based (README)


class ProjectManager(ResolveObject):
    def __init__(self, project: Project):
        self.host, self.project = project.host, project

    def GetCurrentProject(self) -> Project:
        return self.project


class Resolve(ResolveObject):
    def __init__(self, studio: bool = True, version: tuple[int, ...] = (21, 1, 0, 5), missing_calls: str = "none"):
        self.host = Host(studio, version, missing_calls)
        self.project = Project(self.host)

    def GetProductName(self) -> str:
        self.host.enter("GetProductName")
        return "DaVinci Resolve Studio" if self.host.studio else "DaVinci Resolve"

    def GetVersion(self) -> list[Any]:
        self.host.enter("GetVersion")
        return [*self.host.version, ""]

    def GetProjectManager(self) -> ProjectManager:
        return ProjectManager(self.project)
