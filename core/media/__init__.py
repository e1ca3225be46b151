"""Media ingest: the one layer through which every engine reads files (PyAV; exact rational times).

- `probe(path)`: container, streams, exact frame rate, start offset, CFR/VFR, timecode, rotation.
- `sample_frames(path, fps=1)`: frames at N fps, at given times, keyframes only, or all; luma or RGB; reduced.
- `read_audio(path, rate=16000)`: mono float32 blocks with exact start times.
- `read_subtitles(path)`: embedded and sidecar cues with exact times.
- `fingerprint(path)`: a fast content key for caching that reads a few MiB at most.

Names load on first use (PEP 562), so code that only needs the data types (the results model, the CLI's
start-up) does not import PyAV.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "AudioBlock": "audio",
    "read_audio": "audio",
    "fingerprint": "fingerprinting",
    "FrameSampler": "frames",
    "SamplingPlan": "frames",
    "VideoSample": "frames",
    "sample_frames": "frames",
    "probe": "probing",
    "Cue": "subtitles",
    "find_sidecar_subtitles": "subtitles",
    "read_subtitles": "subtitles",
    "AudioStreamInfo": "types",
    "MediaInfo": "types",
    "SubtitleStreamInfo": "types",
    "VideoStreamInfo": "types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
