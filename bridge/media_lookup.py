"""Finding the media file behind a timeline clip on this machine.

A timeline names its media as a file:// URL (OTIO, FCP7 XML, FCPXML), a bare path (Resolve), a path relative to
the timeline, or only a clip name (EDL, AAF without a locator), usually from another machine: `D:/media/a.mov`,
`/Volumes/RAID/a.mov`. `MediaLookup` tries, in order: the path as written; relative paths against the timeline's
folder and each media root; then the file's name anywhere under the media roots (case-insensitive; the candidate
sharing the most trailing folder names with the original path wins). Every clip gets an answer: a path, or the
reason there is none, which the round trip reports per clip.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlparse

import opentimelineio as otio

MAX_INDEXED_FILES = 500_000
"""A media root with more files than this is indexed only this far (and the report says so)."""
_WINDOWS_DRIVE = re.compile(r"^/?[A-Za-z]:[/\\]")


def path_from_url(target: str) -> str | None:
    """A local path for a file URL or a bare path; None for another scheme (http, s3), which is not local."""
    parsed = urlparse(target)
    if parsed.scheme == "file":
        path = unquote(parsed.path)
        if parsed.netloc not in ("", "localhost"):
            return f"//{parsed.netloc}{path}"
        return path[1:] if _WINDOWS_DRIVE.match(path) else path
    if len(parsed.scheme) > 1:
        return None
    return target


def _name_parts(path: str) -> tuple[str, ...]:
    """Folder and file names of a path written on any OS (drive and root left out)."""
    pure = PureWindowsPath(path) if "\\" in path or _WINDOWS_DRIVE.match(path) else PurePosixPath(path)
    return tuple(part for part in pure.parts if part not in ("/", "\\") and not part.endswith(":\\"))


@dataclass(frozen=True)
class Found:
    path: Path | None
    reason: str
    """How it was found, or why it was not."""


@dataclass
class MediaLookup:
    timeline_dir: Path
    roots: tuple[Path, ...] = ()
    _index: dict[str, list[Path]] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    def find(self, clip: otio.schema.Clip) -> Found:
        """The media file of a clip whose reference is an `ExternalReference` or a `MissingReference`."""
        reference = clip.media_reference
        if isinstance(reference, otio.schema.ExternalReference) and reference.target_url:
            written = path_from_url(reference.target_url)
            if written is None:
                return Found(None, f"{reference.target_url} is not a local file; copy it here and pass --media-root")
            return self._find_path(written)
        if Path(clip.name).suffix:
            return self._by_name((clip.name,), "the timeline names no file, only the clip")
        return Found(None, "the timeline names no media file for this clip; relink it in the NLE and export again")

    def _find_path(self, written: str) -> Found:
        candidate = Path(written)
        if candidate.is_absolute() and candidate.is_file():
            return Found(candidate, "as written in the timeline")
        if not candidate.is_absolute() and not _WINDOWS_DRIVE.match(written):
            for base in (self.timeline_dir, *self.roots):
                if (base / candidate).is_file():
                    return Found((base / candidate).resolve(), f"relative to {base}")
        return self._by_name(_name_parts(written) or (written,), f"{written} does not exist here")

    def _by_name(self, parts: tuple[str, ...], missing: str) -> Found:
        """Search the media roots for the file name `parts[-1]`, preferring paths that end like `parts`."""
        name = parts[-1]
        if not self.roots:
            return Found(None, f"{missing}; pass --media-root DIR where the media lives")
        matches = self._indexed().get(name.lower(), [])
        if not matches:
            roots = ", ".join(str(root) for root in self.roots)
            return Found(None, f"{missing}, and no file named {name} is under {roots}")
        best = max(matches, key=lambda path: (_shared_tail(parts, _name_parts(str(path))), -len(str(path))))
        return Found(best, f"found by name under the media roots ({len(matches)} candidate{'s' if len(matches) > 1 else ''})")

    def _indexed(self) -> dict[str, list[Path]]:
        if self._index is None:
            index: dict[str, list[Path]] = defaultdict(list)
            for count, path in enumerate(_files_under(self.roots)):
                if count == MAX_INDEXED_FILES:
                    self.notes.append(f"stopped indexing media roots at {MAX_INDEXED_FILES} files; give narrower roots")
                    break
                index[path.name.lower()].append(path.resolve())
            self._index = dict(index)
        return self._index


def _files_under(roots: tuple[Path, ...]) -> Iterator[Path]:
    for root in roots:
        for folder, folders, files in os.walk(root):
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in sorted(files):
                yield Path(folder, name)


def _shared_tail(left: tuple[str, ...], right: tuple[str, ...]) -> int:
    shared = 0
    for a, b in zip(reversed(left), reversed(right)):
        if a.lower() != b.lower():
            break
        shared += 1
    return shared
