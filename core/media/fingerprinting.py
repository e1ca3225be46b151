"""A fast content fingerprint that keys cached analyses.

Hashing a whole hour of 4K footage would take longer than some analyses, so the fingerprint reads a fixed
number of evenly spaced chunks (head and tail included) plus the file size: at most `SAMPLE_CHUNKS ×
CHUNK_BYTES` bytes, whatever the file's size. It ignores the path and modification time, so a moved or copied
file keeps its cached results, while a re-export (different bytes, nearly always a different size or header)
does not. Files smaller than the sample budget are hashed whole.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from reelmark.core.media.container import PathLike, check_media_path

FINGERPRINT_VERSION = "rm1"
CHUNK_BYTES = 256 * 1024
SAMPLE_CHUNKS = 16


def chunk_offsets(size: int) -> list[int]:
    """Where the sampled chunks start: evenly spaced from the first byte to the last chunk."""
    if size <= CHUNK_BYTES * SAMPLE_CHUNKS:
        return list(range(0, size, CHUNK_BYTES))
    last = size - CHUNK_BYTES
    return [round(index * last / (SAMPLE_CHUNKS - 1)) for index in range(SAMPLE_CHUNKS)]


def fingerprint_stream(stream: BinaryIO, size: int) -> str:
    """The fingerprint of an open binary stream of `size` bytes (seekable)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(size.to_bytes(8, "little"))
    for offset in chunk_offsets(size):
        stream.seek(offset)
        digest.update(stream.read(CHUNK_BYTES))
    return f"{FINGERPRINT_VERSION}-{digest.hexdigest()}"


def fingerprint(path: PathLike) -> str:
    """`rm1-<32 hex digits>`: stable across paths, copies and machines."""
    media_path = check_media_path(path)
    with media_path.open("rb") as stream:
        return fingerprint_stream(stream, media_path.stat().st_size)
