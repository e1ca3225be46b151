"""Streamed, VAD-gated transcription with faster-whisper, in bounded memory.

Audio arrives as mono 16 kHz blocks from the signals engine's one audio pass and is gathered into windows of at most
`WINDOW_S`. Each window is scored by Silero VAD; the speech spans that end inside it are cut out with a little
padding, joined into one array with a time map (as faster-whisper's own `vad_filter` does), and transcribed
with word timestamps; the audio from the start of a span still open at the window's end is carried into the next
window. So memory holds one window (about 20 MB) whatever the file's length, silence and music are never sent to
Whisper, and every word is mapped back to exact media time through the span it came from.

Word times are then clamped to their span, and the first word of each span starts where the VAD heard the sound
start when Whisper puts it within `SNAP_S` of it: Whisper's own first-word starts drift by a few hundred ms
(measured on espeak speech, see the README), the VAD onset does not.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from reelmark.core.engines.speech import vad
from reelmark.core.engines.speech.options import TranscribeOptions

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from reelmark.core.media.audio import AudioBlock

RATE = vad.RATE
WINDOW_S = 300
BLOCK_S = 32
PAD_S = 0.4
SNAP_S = 0.35
UNGATED_WINDOW_S = 30
CONDITION_ON_PREVIOUS_TEXT = True
"""Measured on the espeak set (tests/bench/speech.py): with the 0.4 s padding, conditioning on the previous text
scores a lower WER than without, and silence inserted between the joined spans scores worse."""


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str
    probability: float
    span: int
    """Which speech span it came from: phrases never cross from one span to the next."""


@dataclass
class Transcript:
    words: list[TimedWord] = field(default_factory=list)
    speech: list[tuple[float, float]] = field(default_factory=list)
    """The VAD's speech spans, in media seconds (all of the audio when gating is off)."""
    language: str | None = None


@dataclass(frozen=True)
class _Chunk:
    joined_start: float
    joined_end: float
    media_start: float
    """Media time of the chunk's first sample (padding included)."""
    speech_start: float
    speech_end: float
    """The unpadded speech span, in media seconds."""
    span: int


class StreamingTranscription:
    """Transcribes mono 16 kHz audio blocks as they arrive, in windows of at most `WINDOW_S`: a consumer of the
    signals engine's one audio pass (`extract_audio_features(consumers=...)`), so the file is decoded once for
    loudness, voice activity and words alike."""

    def __init__(self, options: TranscribeOptions, model: WhisperModel, cancelled: Callable[[], bool] | None = None):
        self.options = options
        self.model = model
        self.cancelled = cancelled
        self.transcript = Transcript(language=options.language)
        self.limit = (WINDOW_S if options.speech_vad == "silero" else UNGATED_WINDOW_S) * RATE
        self.window: list[np.ndarray] = []
        self.window_start: float | None = None
        self.held = 0

    def __call__(self, block: AudioBlock) -> None:
        if self.cancelled is not None and self.cancelled():
            from reelmark.core.engines.base import AnalysisCancelled

            raise AnalysisCancelled("analysis cancelled")
        if block.rate != RATE:
            raise ValueError(f"transcription reads {RATE} Hz audio, not {block.rate} Hz")
        if self.window_start is None:
            self.window_start = float(block.start)
        self.window.append(block.samples)
        self.held += len(block.samples)
        if self.held >= self.limit:
            samples = np.concatenate(self.window)
            carry = _transcribe_window(samples, self.window_start, self.options, self.model, self.transcript, final=False)
            self.window, self.held = [samples[carry:]], len(samples) - carry
            self.window_start += carry / RATE

    def finish(self) -> Transcript:
        """Every word heard, once the last block is in."""
        if self.window_start is not None and self.held:
            _transcribe_window(np.concatenate(self.window), self.window_start, self.options, self.model, self.transcript,
                               final=True)  # fmt: skip
            self.window, self.held = [], 0
        return self.transcript


def _transcribe_window(
    samples: np.ndarray, origin: float, options: TranscribeOptions, model: WhisperModel, transcript: Transcript,
    final: bool,
) -> int:  # fmt: skip
    """Transcribe the finished speech of one window into `transcript`; the sample index the next window starts at."""
    length = len(samples)
    if options.speech_vad == "none":
        spans = [vad.SpeechSpan(0.0, length / RATE)]
        carry = length
    else:
        spans = vad.speech_spans(vad.frame_probabilities(samples), length)
        carry = length
        if not final and spans and spans[-1].end * RATE >= length - vad.MIN_SILENCE_MS * RATE / 1000:
            open_span = spans.pop()  # still speaking at the window's end: hear it whole in the next window
            carry = max(0, int(open_span.start * RATE) - int(PAD_S * RATE))
            if carry < length // 2:  # a span longer than half a window: cut it here rather than grow the window
                spans.append(open_span)
                carry = length
    chunks, pieces = _gate(samples, origin, spans, len(transcript.speech))
    transcript.speech += [(chunk.speech_start, chunk.speech_end) for chunk in chunks]
    if chunks:
        _recognise(np.concatenate(pieces), chunks, options, model, transcript)
    return carry


def _gate(samples: np.ndarray, origin: float, spans: list[vad.SpeechSpan], first_index: int) -> tuple[list[_Chunk], list[np.ndarray]]:
    """Each span with up to `PAD_S` either side (never into a neighbour), as pieces to join and their time map."""
    chunks: list[_Chunk] = []
    pieces: list[np.ndarray] = []
    joined = 0.0
    for index, span in enumerate(spans):
        before = spans[index - 1].end if index else 0.0
        after = spans[index + 1].start if index + 1 < len(spans) else len(samples) / RATE
        first = int(max(before, span.start - PAD_S) * RATE)
        last = int(min(after, span.end + PAD_S) * RATE)
        if last <= first:
            continue
        pieces.append(samples[first:last])
        length = (last - first) / RATE
        chunks.append(_Chunk(joined, joined + length, origin + first / RATE, origin + span.start, origin + span.end,
                             first_index + len(chunks)))  # fmt: skip
        joined += length
    return chunks, pieces


def _recognise(audio: np.ndarray, chunks: list[_Chunk], options: TranscribeOptions, model: WhisperModel, transcript: Transcript) -> None:
    segments, info = model.transcribe(
        audio, language=transcript.language, beam_size=options.beam_size, word_timestamps=True, vad_filter=False,
        condition_on_previous_text=CONDITION_ON_PREVIOUS_TEXT,
    )  # fmt: skip
    if transcript.language is None:
        transcript.language = info.language  # detected once, then kept: one language per analysis
    starts = [chunk.joined_start for chunk in chunks]
    for word in _words(segments):
        chunk = chunks[max(0, bisect.bisect_right(starts, word.start) - 1)]
        begin = chunk.media_start + (word.start - chunk.joined_start)
        finish = chunk.media_start + (min(word.end, chunk.joined_end) - chunk.joined_start)
        begin = min(max(begin, chunk.speech_start), chunk.speech_end)
        finish = min(max(finish, begin), chunk.speech_end)
        previous = transcript.words[-1] if transcript.words else None
        if (previous is None or previous.span != chunk.span) and begin - chunk.speech_start <= SNAP_S:
            begin = chunk.speech_start
        text = word.word.strip()
        if text:
            transcript.words.append(TimedWord(begin, max(finish, begin), text, float(word.probability), chunk.span))


def _words(segments: Iterator) -> Iterator:
    for segment in segments:
        yield from segment.words or ()
