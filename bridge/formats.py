"""Every output format, as one record each, with no heavy imports, so the CLI can offer them without loading OTIO.

Like OpenTimelineIO's adapter manifest, a record names where its writer lives ("module:function") and says what
the format holds and loses; `--format`'s choices, its help, the daemon's Export, the README's table and the tests
all read this list. Every writer has one signature, `write(analysis, fmt, timeline) -> bytes`: formats built from
an OTIO timeline share `writers.write_timeline_file`, which calls the record's `timeline_writer` (root → text), the
function the round trip also uses. A new format is its writer plus one record here; another package adds one
through the `reelmark.formats` entry-point group (`name = "package.module:RECORD"`, a `Format`), and a program
can call `FORMATS.register`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from reelmark.core.plugins import PluginTable

if TYPE_CHECKING:
    from reelmark.core.results import Analysis

ENTRY_POINT_GROUP = "reelmark.formats"
Content = Literal["analysis", "markers", "timelines", "subtitles"]
TIMELINE_KINDS = ("analysis", "highlights", "segments")
"""What timeline an analysis becomes: the source clip with markers, the highlight reel, the split segments."""


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    """File extensions, lower case with the dot; the first is the one reelmark writes."""
    summary: str
    """What it is for, in a few words (`--format` help)."""
    keeps: str
    """What it keeps of an analysis, in one line (the CLI says it after writing; the README's table)."""
    holds: frozenset[Content]
    writer: str = "reelmark.bridge.writers:write_timeline_file"
    """`write(analysis, fmt, timeline) -> bytes`, as "module:function"."""
    timeline_writer: str | None = None
    """For timeline formats: an OTIO timeline → the file's text, as "module:function" (round trip uses it too)."""
    readable: bool = False
    """Whether `reelmark roundtrip` reads it back (`bridge.reading`)."""

    @property
    def extension(self) -> str:
        return self.extensions[0]

    def write(self, analysis: Analysis, timeline: str = "analysis") -> bytes:
        return _load(self.writer)(analysis, self, timeline)

    def write_timeline(self) -> Callable[..., str]:
        if self.timeline_writer is None:
            raise ValueError(f"{self.name} is not a timeline format")
        return _load(self.timeline_writer)


FCPXML_BUNDLE = ".fcpxmld"
_WRITERS = "reelmark.bridge.writers"
_TIMELINE = frozenset({"markers", "timelines"})
FORMATS: PluginTable[Format] = PluginTable(ENTRY_POINT_GROUP, "format", (
    Format("json", (".json",), "the analysis itself (the results model)", "everything, exactly",
           frozenset({"analysis"}), writer=f"{_WRITERS}:write_json"),
    Format("otio", (".otio",), "OpenTimelineIO",
           "everything: markers with range, colour, comment and metadata; reframe paths in clip metadata",
           _TIMELINE, timeline_writer=f"{_WRITERS}:write_otio", readable=True),
    Format("resolve-otio", (".otio",), "OTIO shaped for DaVinci Resolve",
           "markers with range, colour (orange as Sand) and comment; Resolve reads no metadata",
           _TIMELINE, timeline_writer=f"{_WRITERS}:write_resolve_otio"),
    Format("fcp7xml", (".xml",), "FCP7 XML for Premiere Pro",
           "markers with range, name, comment and Premiere's eight colours; no reframe paths",
           _TIMELINE, timeline_writer=f"{_WRITERS}:write_fcp7xml", readable=True),
    Format("edl", (".edl",), "CMX 3600 EDL",
           "each marker's start frame, colour and upper-cased name only (no duration, comment or reframe paths)",
           _TIMELINE, timeline_writer=f"{_WRITERS}:write_edl", readable=True),
    Format("fcpxml", (".fcpxml", FCPXML_BUNDLE), "Final Cut Pro XML",
           "markers with range and name; three colours, no comment or reframe paths",
           _TIMELINE | {"subtitles"}, writer="reelmark.bridge.fcpxml_captions:write_fcpxml_file",
           timeline_writer=f"{_WRITERS}:write_fcpxml", readable=True),
    Format("srt", (".srt",), "SubRip subtitles of the speech", "transcribed words as subtitle cues only",
           frozenset({"subtitles"}), writer="reelmark.bridge.subtitles:write_subtitle_file"),
    Format("vtt", (".vtt",), "WebVTT subtitles of the speech", "transcribed words as subtitle cues only",
           frozenset({"subtitles"}), writer="reelmark.bridge.subtitles:write_subtitle_file"),
))  # fmt: skip
"""Every output format by name; `json` is the analysis itself. Read it through `all_formats()`, which adds the
formats installed packages declare; `FORMATS.register` adds one in this process."""


def all_formats() -> PluginTable[Format]:
    return FORMATS.with_installed()


def timeline_formats() -> list[str]:
    """The formats an NLE timeline can be written in (round trip's choices)."""
    return [name for name, record in all_formats().items() if record.timeline_writer is not None]


def document_path(path: Path) -> Path:
    """The file a timeline named `path` is read from or written to: `path`, or the `Info.fcpxml` at the root of a
    Final Cut Pro bundle. Final Cut Pro exports FCPXML 1.10 and later as a `.fcpxmld` bundle (a folder) and imports
    both forms; Apple asks apps that read `.fcpxml` to read bundles too ("FCPXML Bundle Reference", "Importing
    FCPXML Data"). Media a bundled document names by relative URL are found beside it, inside the bundle."""
    return path / "Info.fcpxml" if path.suffix.lower() == FCPXML_BUNDLE else path


def format_for_path(path: Path | None, default: str = "json") -> str:
    """The format a file name asks for: the first record with its extension (`.otio` means plain otio; ask for
    resolve-otio by name)."""
    if path is None:
        return default
    suffix = Path(path).suffix.lower()
    return next((name for name, record in all_formats().items() if suffix in record.extensions), default)


def _load(target: str) -> Callable[..., object]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)
