"""Writing result files so that a reader never sees half of one."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from reelmark.core.errors import ReelmarkError


class OutputNotWritableError(ReelmarkError):
    """The output's folder cannot take a new file: missing rights, read-only, or not a folder."""

    status = "FAILED_PRECONDITION"


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write to a temporary file beside `path`, then rename it over `path`.

    An interrupted or failed run leaves the previous file (or none) in place, never a partial one: the rename is
    atomic on one file system, and the temporary file is removed when writing fails. The file gets the mode a
    plain `open` would give it: a replaced file keeps its mode, a new one gets 0666 less the umask (`mkstemp`
    alone would make every result 0600).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o666 & ~current_umask()
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as error:
        raise _not_writable(path, error) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise _not_writable(path, error) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _not_writable(path: Path, error: OSError) -> OutputNotWritableError:
    return OutputNotWritableError(f"cannot write {path}: {error.strerror or error}; choose a folder you can write to")


def check_writable(path: Path) -> None:
    """Fail now, before any long work, if `path` could not be written (its folder made, a file created in it)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(prefix=f".{path.name}.", suffix=".check", dir=path.parent):
            pass
    except OSError as error:
        raise _not_writable(path, error) from None
    if path.is_dir():
        raise OutputNotWritableError(f"cannot write {path}: it is a folder; give a file name")


def current_umask() -> int:
    """The process umask, read without changing it where Linux shows it (setting it is not thread-safe)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
