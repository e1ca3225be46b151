"""The options of `--task transcribe`, as one dataclass.

The signals engine's `SignalsParams` inherits these fields, so they are read, checked, listed in `--help` and
keyed into the cache like every other `--param`; the transcriber itself takes any `TranscribeOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reelmark.core.errors import InvalidRequestError

ComputeType = Literal["auto", "int8", "int8_float16", "int8_float32", "float16", "float32"]
SpeechVad = Literal["silero", "none"]


@dataclass(frozen=True)
class TranscribeOptions:
    model: str | None = None
    """Speech model for --task transcribe: a CTranslate2 Whisper folder, or a Hugging Face id fetched with
    `reelmark models pull`; none uses Systran/faster-whisper-small when it has been fetched (--model sets it)."""
    language: str | None = None
    """Spoken language as a Whisper code (en, de, fr...); none detects it from the first speech."""
    beam_size: int = 5
    """Beam search width for transcription; 1 is greedy and fastest."""
    speech_vad: SpeechVad = "silero"
    """Voice activity gating before transcription: silero sends only speech to Whisper (music and silence are
    not transcribed), none sends everything."""
    compute_type: ComputeType = "auto"
    """CTranslate2 compute type; auto is int8 on CPU and float16 on CUDA."""

    def __post_init__(self) -> None:
        if not 1 <= self.beam_size <= 20:
            raise InvalidRequestError("--param beam_size must lie between 1 and 20")
        if self.language is not None and not (2 <= len(self.language) <= 3 and self.language.isalpha()):
            raise InvalidRequestError(f"--param language={self.language!r} is not a Whisper language code such as en or de")

    def device_and_compute_type(self) -> tuple[str, str]:
        """Where CTranslate2 runs and in which precision: CUDA with float16 when a GPU is there, else CPU int8."""
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
        if self.compute_type != "auto":
            return device, self.compute_type
        return device, "float16" if device == "cuda" else "int8"
