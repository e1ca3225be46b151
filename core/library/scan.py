"""Find the media under folders: by content (magic numbers), never looping through symlinks, skipping hidden and
system folders.

Why content and not extension: cameras and recorders write `.MTS`, `.MXF`, `.LRV` or no extension at all, and a
renamed `.mp4.part` still plays. `filetype` reads the first 261 bytes and knows the containers footage comes in
(MP4/MOV, Matroska/WebM, AVI, MPEG, FLV, WAV, MP3, …); MPEG transport streams (`.ts`, `.m2ts`, AVCHD) carry no
magic number, so they are recognised by their sync byte every 188 (or 192) bytes, and raw DV (`.dv`, `.dif`: what
a tape capture writes) by its first DIF block, a header block, as FFmpeg's DV demuxer probes it.

Each file keeps its path relative to the root it was found under, so a library moved to another disk or mounted
at another path on a Ray worker still names its files the same way. A folder that cannot be read is reported
and skipped, not fatal; a root that does not exist or cannot be read is an error, before any work is done.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import filetype

from reelmark.core.errors import InvalidRequestError, MediaNotFoundError

SYSTEM_FOLDERS = frozenset({
    "$recycle.bin", "system volume information", "lost+found", "__pycache__", "node_modules", "@eadir",
    "#recycle", "#snapshot", "proc", "sys", "dev",
})  # fmt: skip
"""Folder names (case-folded) no footage lives in: OS trash and metadata folders, NAS thumbnails, package caches.
Hidden folders (a leading dot: `.Trashes`, `.Spotlight-V100`, `.git`) are skipped too."""
TS_PACKET_SIZES = (188, 192)
TS_SYNC = 0x47
TS_PACKETS_CHECKED = 4
DV_HEADER_ID = 0x1F07003F
"""A DV header DIF block's first four bytes, less bit 7 of the fourth (FFmpeg's `dv_probe`: 0x1f07003f under the
mask 0xffffff7f)."""


@dataclass(frozen=True)
class FoundFile:
    root: Path
    """The folder (or file) given on the command line, resolved."""
    relative: str
    """The path under `root`, with forward slashes ('' when the root is the file itself)."""

    @property
    def path(self) -> Path:
        return self.root / self.relative if self.relative else self.root


@dataclass
class ScanReport:
    files: list[FoundFile] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Folders that could not be read, symlink loops broken: said in the summary, never fatal."""
    skipped_not_media: int = 0


def check_roots(paths: Sequence[Path]) -> list[Path]:
    """The roots, resolved; one that does not exist or cannot be read is refused now, with what to do."""
    roots = []
    for path in paths:
        if not path.exists():
            raise MediaNotFoundError(f"{path} does not exist; give a folder or media file that does")
        try:
            if path.is_dir():
                os.scandir(path).close()
            else:
                path.open("rb").close()
        except OSError as error:
            raise InvalidRequestError(f"{path} cannot be read ({error.strerror or error}); fix its permissions or "
                                      "leave it out") from None  # fmt: skip
        roots.append(path.resolve())
    return roots


def scan(roots: Sequence[Path]) -> ScanReport:
    """Every media file under `roots` (already checked), in a stable order (sorted names, depth first)."""
    report = ScanReport()
    for root in roots:
        if root.is_file():
            if is_media(root):
                report.files.append(FoundFile(root, ""))
            else:
                report.skipped_not_media += 1
            continue
        visited: set[tuple[int, int]] = set()
        _walk(root, root, visited, report)
    return report


def _walk(root: Path, folder: Path, visited: set[tuple[int, int]], report: ScanReport) -> None:
    try:
        identity = folder.stat()
    except OSError as error:
        report.problems.append(f"{folder}: cannot read ({error.strerror or error})")
        return
    key = (identity.st_dev, identity.st_ino)
    if key in visited:
        report.problems.append(f"{folder}: a symlink back to a folder already scanned; not followed again")
        return
    visited.add(key)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as error:
        report.problems.append(f"{folder}: cannot read ({error.strerror or error}); skipped")
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        try:
            if entry.is_dir(follow_symlinks=True):
                if entry.name.casefold() not in SYSTEM_FOLDERS:
                    _walk(root, Path(entry.path), visited, report)
                continue
            if not entry.is_file(follow_symlinks=True):
                continue
        except OSError:
            continue  # a dangling symlink
        path = Path(entry.path)
        if is_media(path):
            report.files.append(FoundFile(root, path.relative_to(root).as_posix()))
        else:
            report.skipped_not_media += 1


def is_media(path: Path) -> bool:
    """Whether the file's first bytes are a video or audio container's (or an MPEG transport stream's)."""
    try:
        with path.open("rb") as stream:
            head = stream.read(max(261, TS_PACKET_SIZES[-1] * TS_PACKETS_CHECKED))
    except OSError:
        return False
    kind = filetype.guess(head)
    if kind is not None and kind.mime.split("/")[0] in ("video", "audio"):
        return True
    return _is_transport_stream(head) or _is_raw_dv(head)


def _is_raw_dv(head: bytes) -> bool:
    return len(head) >= 4 and int.from_bytes(head[:4], "big") & 0xFFFFFF7F == DV_HEADER_ID


def _is_transport_stream(head: bytes) -> bool:
    for size in TS_PACKET_SIZES:
        offset = size - 188  # 192-byte packets (M2TS) carry a 4-byte timestamp before the sync byte
        if len(head) >= size * TS_PACKETS_CHECKED and all(
            head[offset + index * size] == TS_SYNC for index in range(TS_PACKETS_CHECKED)
        ):
            return True
    return False
