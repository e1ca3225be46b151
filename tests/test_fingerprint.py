"""fingerprint(): stable across copies, sensitive to content, and bounded in what it reads."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from reelmark.core.media import fingerprint
from reelmark.core.media.fingerprinting import CHUNK_BYTES, SAMPLE_CHUNKS, chunk_offsets, fingerprint_stream
from reelmark.core.media.synthetic import ClipTruth


class CountingReader(io.RawIOBase):
    """A seekable stream of zeros of any size that counts the bytes read from it."""

    def __init__(self, size: int):
        self.size, self.position, self.bytes_read = size, 0, 0

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.position = offset
        return offset

    def read(self, count: int = -1) -> bytes:
        count = min(count, self.size - self.position)
        self.position += count
        self.bytes_read += count
        return bytes(count)


def test_same_content_same_fingerprint(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    original = clips["cfr25"].path
    copy = tmp_path / "renamed-copy.mp4"
    shutil.copy(original, copy)
    assert fingerprint(original) == fingerprint(copy)
    assert fingerprint(original).startswith("rm1-")
    assert fingerprint(original) != fingerprint(clips["longgop"].path)


def test_a_changed_byte_changes_it(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    data = bytearray(clips["cfr25"].path.read_bytes())
    changed = tmp_path / "changed.mp4"
    data[len(data) // 2] ^= 0xFF
    changed.write_bytes(bytes(data))
    assert fingerprint(changed) != fingerprint(clips["cfr25"].path)


def test_an_hour_long_file_costs_the_same_as_a_short_one() -> None:
    """A 50 GB file is fingerprinted from 16 chunks of 256 KiB: 4 MiB read, whatever the size."""
    for size in (50 * 1024**3, 10 * 1024**2):
        reader = CountingReader(size)
        fingerprint_stream(reader, size)  # type: ignore[arg-type]
        assert reader.bytes_read == SAMPLE_CHUNKS * CHUNK_BYTES
    offsets = chunk_offsets(50 * 1024**3)
    assert offsets[0] == 0 and offsets[-1] == 50 * 1024**3 - CHUNK_BYTES


def test_small_files_are_hashed_whole() -> None:
    reader = CountingReader(1000)
    fingerprint_stream(reader, 1000)  # type: ignore[arg-type]
    assert reader.bytes_read == 1000
    assert fingerprint_stream(CountingReader(1000), 1000) != fingerprint_stream(CountingReader(1001), 1001)  # type: ignore[arg-type]
