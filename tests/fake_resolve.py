"""A stand-in for DaVinci Resolve's scripting object, for the signatures the "Analyze clip" script uses.

Follows the DaVinci Resolve scripting README (Developer/Scripting/README.txt shipped with Resolve 21; the same
text as the "Basic Resolve API" section mirrored at https://deric.github.io/DaVinciResolve-API-Docs) and the
observed behaviours in DESIGN §10:
- `GetMarkers()` returns {float frame: {"color", "duration", "note", "name", "customData"}};
- `AddMarker(frameId, color, name, note, duration, customData)` returns False on a frame that already has a
  marker or for a colour outside the 16 marker colours;
- timeline markers are counted from the timeline's start, while `GetStart()` / `GetStartFrame()` are absolute;
- `Timeline.GetSelectedClips()` exists only from 21.x;
- `MediaPool.ImportTimelineFromFile(path, options)` returns None when the timeline name exists, and (silently)
  when the OTIO is not Resolve-shaped (DESIGN §9);
- on the free edition a Studio-only call opens a modal and returns False/None, and every later call fails.
"""

from __future__ import annotations

import json
from typing import Any

MARKER_COLOURS = {"Blue", "Cyan", "Green", "Yellow", "Red", "Pink", "Purple", "Fuchsia", "Rose", "Lavender", "Sky",
                  "Mint", "Lemon", "Sand", "Cocoa", "Cream"}  # fmt: skip
STUDIO_ONLY = {"AddMarker", "DeleteMarkerByCustomData", "ImportTimelineFromFile"}


class ModalOpen(RuntimeError):
    """What a script sees after a gated call on the free edition: Resolve no longer answers."""


class Host:
    """Shared state: the edition, every call made, and the modal a gated call opens on the free edition."""

    def __init__(self, studio: bool):
        self.studio = studio
        self.calls: list[str] = []
        self.gated_calls: list[str] = []
        self.modal_open = False

    def enter(self, name: str) -> bool:
        """Record a call; False when it is gated on this edition (which opens the modal)."""
        if self.modal_open:
            raise ModalOpen(f"{name} called while Resolve shows a modal dialog")
        self.calls.append(name)
        if name in STUDIO_ONLY and not self.studio:
            self.gated_calls.append(name)
            self.modal_open = True
            return False
        return True


class MarkerOwner:
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
        frames = [frame for frame, marker in self.markers.items() if marker["customData"] == customData]
        for frame in frames:
            del self.markers[frame]
        return bool(frames)


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


class TimelineItem:
    def __init__(self, host: Host, item: MediaPoolItem, start: int, source_start: int, duration: int):
        self.host, self.item, self.start, self.source_start, self.duration = host, item, start, source_start, duration

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
        return self.source_start

    def GetSourceEndFrame(self) -> int:
        return self.source_start + self.duration


class Timeline(MarkerOwner):
    """Resolve 20.x: no GetSelectedClips."""

    def __init__(self, host: Host, name: str, start_frame: int, items: list[TimelineItem] | None = None):
        super().__init__(host)
        self.name, self.start_frame, self.items = name, start_frame, items or []
        self.current: TimelineItem | None = self.items[0] if self.items else None
        self.selected: list[TimelineItem] = []

    def GetName(self) -> str:
        return self.name

    def GetStartFrame(self) -> int:
        return self.start_frame

    def GetCurrentVideoItem(self) -> TimelineItem | None:
        self.host.enter("GetCurrentVideoItem")
        return self.current


class Timeline21(Timeline):
    def GetSelectedClips(self) -> list[TimelineItem]:
        self.host.enter("GetSelectedClips")
        return list(self.selected)


class MediaPool:
    def __init__(self, host: Host, project: Project):
        self.host, self.project = host, project
        self.selected: list[MediaPoolItem] = []
        self.imports: list[tuple[str, dict[str, Any]]] = []

    def GetSelectedClips(self) -> list[MediaPoolItem]:
        self.host.enter("GetSelectedClips")
        return list(self.selected)

    def ImportTimelineFromFile(self, filePath: str, importOptions: dict[str, Any]) -> Timeline | None:
        if not self.host.enter("ImportTimelineFromFile"):
            return None
        name = importOptions.get("timelineName", "")
        if any(timeline.name == name for timeline in self.project.timelines) or not _resolve_shaped(filePath):
            return None
        self.imports.append((filePath, dict(importOptions)))
        timeline = Timeline21(self.host, name, 86400)
        self.project.timelines.append(timeline)
        return timeline


def _resolve_shaped(path: str) -> bool:
    """DESIGN §9: Clip.2 with DEFAULT_MEDIA, bare paths, available ranges, a global start time."""
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


class Project:
    def __init__(self, host: Host):
        self.host = host
        self.timelines: list[Timeline] = []
        self.current: Timeline | None = None
        self.pool = MediaPool(host, self)

    def GetCurrentTimeline(self) -> Timeline | None:
        return self.current

    def GetMediaPool(self) -> MediaPool:
        return self.pool

    def GetTimelineCount(self) -> int:
        return len(self.timelines)

    def GetTimelineByIndex(self, idx: int) -> Timeline:
        return self.timelines[idx - 1]  # 1-based, as the README says


class ProjectManager:
    def __init__(self, project: Project):
        self.project = project

    def GetCurrentProject(self) -> Project:
        return self.project


class Resolve:
    def __init__(self, studio: bool = True, version: tuple[int, ...] = (21, 1, 0, 5)):
        self.host = Host(studio)
        self.version = version
        self.project = Project(self.host)

    def GetProductName(self) -> str:
        self.host.enter("GetProductName")
        return "DaVinci Resolve Studio" if self.host.studio else "DaVinci Resolve"

    def GetVersion(self) -> list[Any]:
        self.host.enter("GetVersion")
        return [*self.version, ""]

    def GetProjectManager(self) -> ProjectManager:
        return ProjectManager(self.project)
