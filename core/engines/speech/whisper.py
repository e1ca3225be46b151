"""Streamed, VAD-gated transcription with faster-whisper, in bounded memory.

Audio is decoded once as mono 16 kHz (`reelmark.core.media.audio.read_audio`) into windows of at most
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
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from reelmark.core.engines.speech import vad
from reelmark.core.engines.speech.options import TranscribeOptions

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

    from reelmark.core.media.types import MediaInfo

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


def transcribe_stream(
    info: MediaInfo, start: Fraction, end: Fraction, options: TranscribeOptions, model: WhisperModel,
    cancelled: Callable[[], bool] | None = None,
) -> Transcript:  # fmt: skip
    """Every word spoken between `start` and `end` of `info`'s first audio stream, in media seconds."""
    from reelmark.core.media.audio import read_audio

    transcript = Transcript(language=options.language)
    window: list[np.ndarray] = []
    window_start: float | None = None
    held = 0
    limit = (WINDOW_S if options.speech_vad == "silero" else UNGATED_WINDOW_S) * RATE
    for block in read_audio(info.path, rate=RATE, block_seconds=BLOCK_S, start=start, end=end, info=info):
        if cancelled is not None and cancelled():
            from reelmark.core.engines.base import AnalysisCancelled

            raise AnalysisCancelled("analysis cancelled")
        if window_start is None:
            window_start = float(block.start)
        window.append(block.samples)
        held += len(block.samples)
        if held >= limit:
            samples = np.concatenate(window)
            carry = _transcribe_window(samples, window_start, options, model, transcript, final=False)
            window, held = [samples[carry:]], len(samples) - carry
            window_start += carry / RATE
    if window_start is not None and held:
        _transcribe_window(np.concatenate(window), window_start, options, model, transcript, final=True)
    return transcript


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
