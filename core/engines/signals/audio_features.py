"""One audio pass, every audio feature the signals tasks read: BS.1770 loudness curves, speech and silence.

The audio is read once by `read_audio` as mono float32 at 16 kHz. One rate serves both consumers: Silero VAD
takes 8 or 16 kHz and is trained for 16 kHz speech, and BS.1770 loudness of programme material is carried by
the band below 8 kHz (the K-weighting's high shelf is flat at +4 dB from about 2 kHz on, so what is lost above
8 kHz is a small share of the energy of speech and most programme), while decoding, resampling and filtering at
16 kHz cost a third of what 48 kHz would.

Loudness (ITU-R BS.1770-4):

- K-weighting is a high shelf (+4 dB above ~1.7 kHz, the head's acoustic effect) followed by a high-pass
  (~38 Hz, "RLB"), redesigned for 16 kHz from the standard's 48 kHz table (`k_weighting`: within 0.07 dB of the
  table's response from 20 Hz to 7.9 kHz). Its state is carried from block to block, so the curves do not depend
  on how the audio is cut into blocks.
- Mean squares of the K-weighted signal are summed per 100 ms hop; momentary loudness is the 400 ms window
  (4 hops) and short-term the 3 s window (30 hops) ending at each hop, LUFS = −0.691 + 10·log10(mean square).
- Integrated loudness gates the 400 ms blocks with 75 % overlap (exactly the full momentary windows): blocks at
  or below −70 LUFS go, then blocks more than 10 LU below the loudness of the remaining ones go; what is left is
  averaged in the power domain. None when nothing passes (digital silence, or less than 400 ms of audio).
- Mono: BS.1770 sums the mean squares of the channels with weights (1.0 for L, R, C; 1.41 for the surrounds;
  LFE left out). We measure the decoder's mono downmix, which is exactly BS.1770 for a mono source; for stereo
  with the same signal in both channels BS.1770 reads up to 3 LU more. The tasks only use loudness relative to
  the programme's own integrated loudness, where that offset cancels.

Silence: momentary loudness below max(−60 LUFS, integrated − 25 LU) for at least `min_silence_s`. Relative to the
programme because what sounds silent depends on the material: 25 LU under its integrated level lies below quiet
words and breaths yet above the room tone of a normal recording. The −60 LUFS floor keeps hiss from counting as
sound in very quiet material, and is the threshold when nothing passes the gates. A run of silent windows i..j is
the span from the start of window i to the end of window j: every 400 ms window in it was silent, so the span is.

Speech: Silero VAD (`reelmark.core.engines.speech.vad`, the model inside its MIT wheel) on the same 16 kHz
audio, scored in fixed runs of `vad.BLOCK_FRAMES` frames whatever the decode block size, so the spans do not
depend on how the audio is cut. It replaced WebRTC's VAD plus a syllable-modulation check, measured by
`tests/bench/speech.py` (README, "Speech"): on espeak speech both find the speech frames (precision/recall
0.990/0.995 against 0.942/1.000), but under a noise bed at 10 dB SNR WebRTC's spans were all lost while Silero kept
0.974/0.993, and WebRTC called generated applause speech throughout where Silero called none of it. Silence spans
are then taken out (the VAD's hangover reaches into them) and what is shorter than `MIN_SPEECH_S` is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import numpy as np

from reelmark.core.engines.base import AnalysisCancelled, CancelCheck
from reelmark.core.engines.signals.runs import true_runs
from reelmark.core.engines.signals.context import AudioFeatures
from reelmark.core.engines.signals.k_weighting import KWeightingFilter
from reelmark.core.engines.speech import vad
from reelmark.core.media.audio import AudioBlock, read_audio
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import TimeSpan
from reelmark.core.times import as_fraction

RATE = 16000
HOP = Fraction(1, 10)
MOMENTARY_HOPS = 4
SHORT_TERM_HOPS = 30
LUFS_OFFSET = -0.691
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = 10.0
SILENCE_FLOOR_LUFS = -60.0
SILENCE_BELOW_PROGRAMME_LU = 25.0
MIN_SPEECH_S = Fraction(1, 4)
BLOCK_SECONDS = Fraction(4)

def lufs(mean_square: np.ndarray | float) -> np.ndarray:
    """BS.1770 loudness of K-weighted mean squares; −inf for digital silence."""
    with np.errstate(divide="ignore"):
        return LUFS_OFFSET + 10 * np.log10(np.asarray(mean_square, dtype=np.float64))


def gated_loudness(block_mean_squares: np.ndarray) -> float | None:
    """Integrated loudness of 400 ms gating blocks: absolute gate −70 LUFS, then relative gate −10 LU."""
    blocks = block_mean_squares[lufs(block_mean_squares) > ABSOLUTE_GATE_LUFS]
    if not len(blocks):
        return None
    relative_gate = float(lufs(blocks.mean())) - RELATIVE_GATE_LU
    kept = blocks[lufs(blocks) > relative_gate]
    return float(lufs(kept.mean()))


def _window_means(hop_sums: np.ndarray, hops: int, hop_samples: int) -> np.ndarray:
    """Mean square of the window of `hops` hops ending at each hop (shorter at the start: what there is).

    No hops (under one hop of audio: a clip using a few frames of its media) means no windows, not an error.
    """
    if not len(hop_sums):
        return np.zeros(0)
    padded = np.concatenate([np.zeros(hops - 1), hop_sums])
    sums = np.lib.stride_tricks.sliding_window_view(padded, hops).sum(axis=1)  # direct sums: silence stays 0
    counts = np.minimum(np.arange(1, len(hop_sums) + 1), hops) * hop_samples
    return sums / counts


def _subtract(spans: Iterable[TimeSpan], holes: tuple[TimeSpan, ...]) -> list[TimeSpan]:
    """`spans` with every part that lies in one of `holes` removed (both sorted, holes disjoint)."""
    result = []
    for span in spans:
        start = span.start
        for hole in holes:
            if hole.end <= start or hole.start >= span.end:
                continue
            if hole.start > start:
                result.append(TimeSpan(start, hole.start))
            start = max(start, hole.end)
        if start < span.end:
            result.append(TimeSpan(start, span.end))
    return result


class _AudioAnalyser:
    """Running state of the single pass: filter state, partial hop, audio waiting to be scored by the VAD, per-hop
    sums and per-frame speech probabilities."""

    def __init__(self, rate: int, start: Fraction):
        self.rate = rate
        self.start = start
        self.hop_samples = int(HOP * rate)
        self.k_weighting = KWeightingFilter(rate)
        self.pending_squares = np.zeros(0)
        self.hop_sums: list[np.ndarray] = []
        self.unscored: list[np.ndarray] = []
        self.unscored_samples = 0
        self.speech_probabilities: list[np.ndarray] = []
        self.samples = 0

    def add(self, samples: np.ndarray) -> None:
        self.samples += len(samples)
        weighted = self.k_weighting(samples)
        squares = np.concatenate([self.pending_squares, weighted * weighted])
        full = len(squares) // self.hop_samples * self.hop_samples
        self.hop_sums.append(squares[:full].reshape(-1, self.hop_samples).sum(axis=1))
        self.pending_squares = squares[full:]
        self.unscored.append(samples)
        self.unscored_samples += len(samples)
        run = vad.BLOCK_FRAMES * vad.FRAME_SAMPLES
        if self.unscored_samples >= run:
            waiting = np.concatenate(self.unscored)
            scored = len(waiting) // run * run
            self.speech_probabilities.append(vad.frame_probabilities(waiting[:scored]))
            self.unscored, self.unscored_samples = [waiting[scored:]], len(waiting) - scored

    def finish(self, min_silence_s: float) -> AudioFeatures:
        hop_sums = np.concatenate(self.hop_sums) if self.hop_sums else np.zeros(0)
        end = self.start + Fraction(self.samples, self.rate)
        momentary_ms = _window_means(hop_sums, MOMENTARY_HOPS, self.hop_samples)
        momentary = lufs(momentary_ms)
        integrated = gated_loudness(momentary_ms[MOMENTARY_HOPS - 1 :])
        threshold = SILENCE_FLOOR_LUFS if integrated is None else max(SILENCE_FLOOR_LUFS, integrated - SILENCE_BELOW_PROGRAMME_LU)
        silence = self._silence(momentary, threshold, end, as_fraction(min_silence_s))
        return AudioFeatures(
            start=self.start,
            hop=HOP,
            momentary_lufs=momentary,
            short_term_lufs=lufs(_window_means(hop_sums, SHORT_TERM_HOPS, self.hop_samples)),
            integrated_lufs=integrated,
            speech=self._speech(silence),
            silence=silence,
            end=end,
        )

    def _silence(self, momentary: np.ndarray, threshold: float, end: Fraction, min_length: Fraction) -> tuple[TimeSpan, ...]:
        spans = []
        for first, stop in true_runs(momentary < threshold):
            span_start = max(self.start, self.start + (first + 1 - MOMENTARY_HOPS) * HOP)
            span_end = self.start + stop * HOP
            tail = self.pending_squares
            if stop == len(momentary) and (not len(tail) or lufs(tail.mean()) < threshold):
                span_end = end  # the unmeasured last part of a hop is silent too
            if span_end - span_start >= min_length:
                spans.append(TimeSpan(span_start, span_end))
        return tuple(spans)

    def _speech(self, silence: tuple[TimeSpan, ...]) -> tuple[TimeSpan, ...]:
        if self.unscored_samples:
            self.speech_probabilities.append(vad.frame_probabilities(np.concatenate(self.unscored)))
        probabilities = np.concatenate(self.speech_probabilities) if self.speech_probabilities else np.zeros(0)
        heard = [
            TimeSpan(self.start + Fraction(round(span.start * vad.RATE), vad.RATE), self.start + Fraction(round(span.end * vad.RATE), vad.RATE))
            for span in vad.speech_spans(probabilities, self.samples)
        ]
        return tuple(span for span in _subtract(heard, silence) if span.duration >= MIN_SPEECH_S)


def extract_audio_features(
    info: MediaInfo,
    *,
    start: Fraction | None = None,
    end: Fraction | None = None,
    min_silence_s: float = 0.5,
    block_seconds: Fraction = BLOCK_SECONDS,
    progress: Callable[[float], None] | None = None,
    cancelled: CancelCheck | None = None,
    consumers: Sequence[Callable[[AudioBlock], None]] = (),
) -> AudioFeatures | None:
    """Loudness curves, integrated loudness, speech and silence spans in one pass; None when there is no audio.

    `block_seconds` only sets how much audio is decoded between progress and cancellation checks: the result does
    not depend on it. `consumers` see every decoded block (16 kHz mono) too: transcription hears the same decode.
    """
    if not info.audio:
        return None
    first_time = start if start is not None else info.audio[0].start
    last_time = end if end is not None else info.duration
    analyser: _AudioAnalyser | None = None
    for block in read_audio(info.path, rate=RATE, block_seconds=block_seconds, start=start, end=end, info=info):
        if cancelled is not None and cancelled():
            raise AnalysisCancelled("analysis cancelled")
        if analyser is None:
            analyser = _AudioAnalyser(RATE, block.start)
        analyser.add(block.samples)
        for consumer in consumers:
            consumer(block)
        if progress is not None and last_time is not None and last_time > first_time:
            progress(min(1.0, float((block.end - first_time) / (last_time - first_time))))
    if progress is not None:
        progress(1.0)
    return (analyser or _AudioAnalyser(RATE, first_time)).finish(min_silence_s)
