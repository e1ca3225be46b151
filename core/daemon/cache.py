"""A memo of content fingerprints, the costly half of an analysis key (`engines.base.request_key`).

An analysis is keyed by the media's content fingerprint, the engine's name and version, and every part of the
request that changes the result (tasks, queries, range, options), so a moved or copied file still hits the
cache while a new engine version or another option misses it. Fingerprints read up to 4 MiB; the memo skips
that for a file whose identity (inode, size, modification time) has not changed, which keeps cached look-ups
cheap under load.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path


MEMO_SIZE = 1024


class Fingerprints:
    """`reelmark.core.media.fingerprint`, remembered per file identity (a bounded LRU, safe across threads)."""

    def __init__(self, size: int = MEMO_SIZE):
        self._size = size
        self._memo: OrderedDict[tuple[str, int, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, path: Path) -> str:
        from reelmark.core.media.fingerprinting import fingerprint
        from reelmark.core.media.container import check_media_path

        status = check_media_path(path).stat()
        identity = (str(path), status.st_ino, status.st_size, status.st_mtime_ns)
        with self._lock:
            if identity in self._memo:
                self._memo.move_to_end(identity)
                return self._memo[identity]
        value = fingerprint(path)
        with self._lock:
            self._memo[identity] = value
            while len(self._memo) > self._size:
                self._memo.popitem(last=False)
        return value
