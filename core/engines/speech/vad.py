"""Silero voice activity on streamed 16 kHz audio.

Silero VAD's model ships inside its MIT wheel (`silero-vad`); we run its "sequence" ONNX export, which scores a
block of 32 ms frames in one ONNX Runtime call instead of one Python call per frame, so a 6-hour file costs
seconds. The recurrent state restarts at each call (the audio pass scores `BLOCK_FRAMES` frames, 32 s, at a
time): the model settles within a few frames, which the bench's frame precision/recall includes. Probabilities
become spans by Silero's hysteresis (`get_speech_timestamps_from_probs` with our settings: no padding, no length
cap).

The model is run here with ONNX Runtime directly, and the hysteresis is written here, rather than through the
package's `SileroVADSequence` and `get_speech_timestamps_from_probs`: importing anything from `silero_vad` runs its
`__init__`, which imports torch (1.7 s per process on our machine, more than the whole audio pass), although
neither piece needs it. `tests/test_speech.py` checks both against the package's own, frame for frame and span
for span.

Why Silero rather than the signals engine's WebRTC VAD plus syllable check: measured by `tests/bench/speech.py`
on speech, music, applause and noise (figures in the README).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from reelmark.core.errors import EngineUnavailableError

RATE = 16000
FRAME_SAMPLES = 512
FRAME = Fraction(FRAME_SAMPLES, RATE)
BLOCK_FRAMES = 1000
THRESHOLD = 0.5
MIN_SPEECH_MS = 200
MIN_SILENCE_MS = 300
"""Pauses shorter than this stay inside a span: a phrase's own pauses, never a gap between phrases of more."""
SEQUENCE_MODEL = "silero_vad_16k_sequence.onnx"
CONTEXT_SAMPLES = 64
"""Each frame is fed with the last 64 samples of the one before (zeros before the first), as the model expects."""
STATE_SHAPE = (1, 1, 128)
NEGATIVE_THRESHOLD = THRESHOLD - 0.15
"""Speech ends only when the probability falls below this (Silero's default hysteresis)."""


@dataclass(frozen=True)
class SpeechSpan:
    """Speech between `start` and `end` seconds from the start of the scored audio (padding excluded)."""

    start: float
    end: float


_MODEL_LOCK = threading.Lock()


def load_model() -> Any:
    """Silero's sequence model in an ONNX Runtime session, loaded once per process; the lock lets a prefetch thread
    and the audio pass ask at the same time."""
    with _MODEL_LOCK:
        return _loaded_model()


@functools.lru_cache(maxsize=1)
def _loaded_model() -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.inter_op_num_threads = options.intra_op_num_threads = 1
    return onnxruntime.InferenceSession(str(model_path()), sess_options=options, providers=["CPUExecutionProvider"])


def model_path() -> Path:
    """The sequence model inside the installed `silero-vad` wheel, found without importing the package."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError("the silero-vad package is not installed; reinstall reelmark (pip install reelmark)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / SEQUENCE_MODEL


def frame_probabilities(samples: np.ndarray) -> np.ndarray:
    """Speech probability of each 32 ms frame of mono float32 16 kHz `samples` (the last frame zero-padded), the
    recurrent state carried from block to block within this call."""
    if not len(samples):
        return np.zeros(0, dtype=np.float32)
    audio = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
    session = load_model()
    frames = np.zeros(((len(audio) + FRAME_SAMPLES - 1) // FRAME_SAMPLES, FRAME_SAMPLES), dtype=np.float32)
    frames.reshape(-1)[: len(audio)] = audio
    contexts = np.zeros((len(frames), CONTEXT_SAMPLES), dtype=np.float32)
    contexts[1:] = frames[:-1, -CONTEXT_SAMPLES:]
    rows = np.concatenate((contexts, frames), axis=1)
    hidden = cell = np.zeros(STATE_SHAPE, dtype=np.float32)
    found = []
    for first in range(0, len(rows), BLOCK_FRAMES):
        values, hidden, cell = session.run(
            ["speech_probs", "hn", "cn"], {"input": rows[first : first + BLOCK_FRAMES], "h": hidden, "c": cell}
        )
        found.append(values)
    return np.concatenate(found).reshape(-1)


def speech_spans(probabilities: np.ndarray, sample_count: int) -> list[SpeechSpan]:
    """Spans of speech from per-frame probabilities: a span starts at a frame at or above `THRESHOLD` and ends
    where the probability fell below `NEGATIVE_THRESHOLD` for at least `MIN_SILENCE_MS`; spans of
    `MIN_SPEECH_MS` or less are dropped (Silero's state machine with no padding and no length cap)."""
    min_silence = RATE * MIN_SILENCE_MS / 1000
    min_speech = RATE * MIN_SPEECH_MS / 1000
    spans: list[SpeechSpan] = []
    start: int | None = None
    quiet_from = 0
    for index, probability in enumerate(probabilities):
        sample = index * FRAME_SAMPLES
        if probability >= THRESHOLD:
            quiet_from = 0
            if start is None:
                start = sample
                continue
        if start is not None and probability < NEGATIVE_THRESHOLD:
            quiet_from = quiet_from or sample
            if sample - quiet_from >= min_silence:
                if quiet_from - start > min_speech:
                    spans.append(SpeechSpan(start / RATE, quiet_from / RATE))
                start, quiet_from = None, 0
    if start is not None and sample_count - start > min_speech:
        spans.append(SpeechSpan(start / RATE, sample_count / RATE))
    return spans
