"""The output formats by name, with no heavy imports, so the CLI can offer them without loading OTIO."""

from __future__ import annotations

from pathlib import Path

FORMATS = {
    "json": ".json",
    "otio": ".otio",
    "resolve-otio": ".otio",
    "fcp7xml": ".xml",
    "edl": ".edl",
    "fcpxml": ".fcpxml",
    "srt": ".srt",
    "vtt": ".vtt",
}
"""Every output format by name, with its file extension; `json` is the analysis itself (the results model); `srt`
and `vtt` are subtitles of its speech (`reelmark.bridge.subtitles`)."""
TIMELINE_KINDS = ("analysis", "highlights", "segments")
"""What timeline an analysis becomes: the source clip with markers, the highlight reel, the split segments."""


def format_for_path(path: Path | None, default: str = "json") -> str:
    """The format a file name asks for (`.otio` means plain otio; ask for resolve-otio by name)."""
    if path is None:
        return default
    suffix = Path(path).suffix.lower()
    return next((name for name, extension in FORMATS.items() if extension == suffix), default)
