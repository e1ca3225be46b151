"""What identifies a result: the analysis key, and a memo of content fingerprints.

An analysis is keyed by the media's content fingerprint, the engine's name and version, and every part of the
request that changes the result (tasks, queries, range, options), so a moved or copied file still hits the
cache while a new engine version or another option misses it. Fingerprints read up to 4 MiB; the memo skips
that for a file whose identity (inode, size, modification time) has not changed, which keeps cached look-ups
cheap under load.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from pathlib import Path

from reelmark.core.api.convert import time_from_wire
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.engines.base import Engine

MEMO_SIZE = 1024


def analysis_key(spec: api.AnalysisSpec, fingerprint: str, engine: Engine) -> str:
    """The store key of the analysis `spec` asks for, on media with this fingerprint."""
    tasks = sorted(set(spec.tasks)) or sorted(task.value for task in engine.capabilities().default_tasks)
    material = {
        "fingerprint": fingerprint,
        "engine": engine.name,
        "engine_version": engine.version,
        "tasks": tasks,
        "queries": list(spec.queries),
        "start": str(time_from_wire(spec.start, "start")) if spec.HasField("start") else None,
        "end": str(time_from_wire(spec.end, "end")) if spec.HasField("end") else None,
        "params": dict(sorted(spec.params.items())),
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()
    return f"a-{digest[:32]}"


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
