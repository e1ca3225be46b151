"""Silero voice activity on streamed 16 kHz audio.

Silero VAD's model ships inside its MIT wheel (`silero-vad`); we run its "sequence" ONNX export, which scores a
block of 32 ms frames in one ONNX Runtime call instead of one Python call per frame, so a 6-hour file costs
seconds. The recurrent state restarts at each block (`BLOCK_FRAMES` frames, 32 s): the model settles within a
few frames, which the bench's frame precision/recall includes. Probabilities become spans with the library's own
hysteresis state machine (`get_speech_timestamps_from_probs`).

Why Silero rather than the signals engine's WebRTC VAD plus syllable check: measured by `tests/bench/speech.py`
on speech, music, applause and noise (figures in the README).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

RATE = 16000
FRAME_SAMPLES = 512
FRAME = Fraction(FRAME_SAMPLES, RATE)
BLOCK_FRAMES = 1000
THRESHOLD = 0.5
MIN_SPEECH_MS = 200
MIN_SILENCE_MS = 300
"""Pauses shorter than this stay inside a span: a phrase's own pauses, never a gap between phrases of more."""
SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"


@dataclass(frozen=True)
class SpeechSpan:
    """Speech between `start` and `end` seconds from the start of the scored audio (padding excluded)."""

    start: float
    end: float


_MODEL_LOCK = threading.Lock()


def load_model() -> Any:
    """Silero's sequence model, loaded once per process (its package imports torch on the way); the lock lets a
    prefetch thread and the audio pass ask at the same time."""
    with _MODEL_LOCK:
        return _loaded_model()


@functools.lru_cache(maxsize=1)
def _loaded_model() -> Any:
    from importlib.resources import files

    from silero_vad.sequence_vad import SileroVADSequence

    return SileroVADSequence(str(files("silero_vad.data") / SEQUENCE_MODEL), max_frames=BLOCK_FRAMES)


def frame_probabilities(samples: np.ndarray) -> np.ndarray:
    """Speech probability of each 32 ms frame of mono float32 16 kHz `samples` (the last frame zero-padded)."""
    if not len(samples):
        return np.zeros(0, dtype=np.float32)
    return load_model().audio_forward(np.ascontiguousarray(samples, dtype=np.float32), RATE)


def speech_spans(probabilities: np.ndarray, sample_count: int) -> list[SpeechSpan]:
    """Spans of speech from per-frame probabilities, by Silero's own state machine; no padding added."""
    from silero_vad import get_speech_timestamps_from_probs

    found = get_speech_timestamps_from_probs(
        probabilities.tolist(), sampling_rate=RATE, threshold=THRESHOLD, min_speech_duration_ms=MIN_SPEECH_MS,
        min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=0, audio_length_samples=sample_count,
    )  # fmt: skip
    return [SpeechSpan(item["start"] / RATE, item["end"] / RATE) for item in found]


def frame_speech(samples: np.ndarray) -> Iterator[bool]:
    """Speech yes/no per 32 ms frame, for benchmarks comparing VADs frame by frame."""
    return (bool(value >= THRESHOLD) for value in frame_probabilities(samples))
