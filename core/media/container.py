"""Opening media files: the one place that turns every way a path can be wrong into a typed error.

Checks run before FFmpeg sees the path, so a directory, a FIFO (which would block forever) or an empty file
gets a clear message instead of an FFmpeg error code or a hang.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import av

from reelmark.core.errors import (
    EmptyMediaError,
    MediaNotFoundError,
    MediaPermissionError,
    NotAMediaFileError,
    UnreadableMediaError,
)

if TYPE_CHECKING:
    from av.container import InputContainer

PathLike = str | os.PathLike[str]
TIMELINE_SUFFIXES = (".otio", ".xml", ".edl", ".fcpxml", ".fcpxmld", ".aaf")
"""What NLE timelines are saved as (`reelmark roundtrip` reads them): such a path given as media gets that hint."""


def _timeline_hint(path: Path) -> str | None:
    """The one line for a timeline given where media is expected."""
    if path.suffix.lower() not in TIMELINE_SUFFIXES:
        return None
    return f"{path} is a timeline, not media; to analyse the clips it uses, run `reelmark roundtrip {path} -o OUTPUT`"


def check_media_path(path: PathLike) -> Path:
    """The path as an absolute `Path`, after checking it names a non-empty, readable regular file."""
    media_path = Path(path).expanduser()
    try:
        status = media_path.stat()
    except FileNotFoundError:
        raise MediaNotFoundError(f"{media_path}: no such file; check the path and that the drive is mounted") from None
    except PermissionError:
        raise MediaPermissionError(f"{media_path}: permission denied; give this user read access") from None
    if stat.S_ISDIR(status.st_mode):
        raise NotAMediaFileError(_timeline_hint(media_path) or f"{media_path} is a directory; give the path of a media file inside it")
    if not stat.S_ISREG(status.st_mode):
        raise NotAMediaFileError(f"{media_path} is not a regular file (a pipe, socket or device); copy it to a file")
    if status.st_size == 0:
        raise EmptyMediaError(f"{media_path} is empty (0 bytes); the copy or export probably failed, so make it again")
    if not os.access(media_path, os.R_OK):
        raise MediaPermissionError(f"{media_path}: permission denied; give this user read access")
    return media_path.absolute()


def unreadable(path: Path, error: Exception) -> UnreadableMediaError:
    """The error for a file FFmpeg rejects, quoting FFmpeg's reason."""
    hint = _timeline_hint(path)
    if hint is not None:
        return UnreadableMediaError(hint)
    reason = getattr(error, "strerror", None) or str(error)
    return UnreadableMediaError(
        f"{path}: FFmpeg cannot read this file ({reason}); it is corrupt, truncated or not audio/video. "
        "If it is an incomplete copy or download, copy it again; otherwise re-export it from its source"
    )


@contextmanager
def open_media(path: PathLike) -> Iterator[InputContainer]:
    """An open PyAV input container, closed on exit, with typed errors for every bad path."""
    media_path = check_media_path(path)
    try:
        container = av.open(str(media_path), mode="r", metadata_errors="replace")
    except PermissionError:
        raise MediaPermissionError(f"{media_path}: permission denied; give this user read access") from None
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise unreadable(media_path, error) from None
    try:
        yield container
    finally:
        container.close()
