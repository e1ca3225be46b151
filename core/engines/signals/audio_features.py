"""One audio pass, every audio feature the signals tasks read: BS.1770 loudness curves, speech and silence.

The audio is read once by `read_audio` as mono float32 at 16 kHz. One rate serves both consumers: Silero VAD
takes 8 or 16 kHz and is trained for 16 kHz speech, and BS.1770 loudness of programme material is carried by
the band below 8 kHz (the K-weighting's high shelf is flat at +4 dB from about 2 kHz on, so what is lost above
8 kHz is a small share of the energy of speech and most programme), while decoding, resampling and filtering at
16 kHz cost a third of what 48 kHz would.

Loudness (ITU-R BS.1770-4):

- K-weighting is a high shelf (+4 dB above ~1.7 kHz, the head's acoustic effect) followed by a high-pass
  (~38 Hz, "RLB"). The standard gives both as biquads at 48 kHz only. We invert the prewarped bilinear transform
  of those coefficients to recover each stage's analog prototype
  H(p) = (β2·p² + β1·p + β0) / (p² + p/Q + 1), p = s/ω0, then discretise it again at the actual rate with
  `scipy.signal.bilinear`, prewarping at ω0 so each stage keeps its characteristic frequency. At 48 kHz this
  reproduces the standard's table to rounding; at 16 kHz its response stays within 0.07 dB of the table's from
  20 Hz to 7.9 kHz (0.05 dB at 1 kHz). The filter state is carried from block to block (`sosfilt` with `zi`),
  so the curves do not depend on how the audio is cut into blocks.
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

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction

import numpy as np
import scipy.signal

from reelmark.core.engines.base import AnalysisCancelled, CancelCheck
from reelmark.core.engines.signals.runs import true_runs
from reelmark.core.engines.signals.context import AudioFeatures
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

# ITU-R BS.1770-4, Tables 1 and 2: the K-weighting stages as (b, a) at 48 kHz.
BS1770_STAGES_48K = (
    ((1.53512485958697, -2.69169618940638, 1.19839281085285), (1.0, -1.69065929318241, 0.73248077421585)),
    ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621)),
)
BS1770_RATE = 48000


def _analog_prototype(b: tuple[float, ...], a: tuple[float, ...], rate: int) -> tuple[float, float, tuple[float, ...]]:
    """(f0, Q, (β2, β1, β0)) of the biquad that the prewarped bilinear transform at `rate` turned into (b, a).

    With K = tan(π·f0/rate) and d = 1 + K/Q + K², the transform gives A(1) = 4K²/d, A(−1) = 4/d,
    a0 − a2 = 2(K/Q)/d, B(1) = 4·β0·K²/d, B(−1) = 4·β2/d and b0 − b2 = 2·β1·K/d; solve those in turn.
    """
    sum_a, alternating_a = a[0] + a[1] + a[2], a[0] - a[1] + a[2]
    k_squared = sum_a / alternating_a
    k = math.sqrt(k_squared)
    d = 4 / alternating_a
    q = k / ((a[0] - a[2]) * d / 2)
    beta0 = (b[0] + b[1] + b[2]) * d / (4 * k_squared)
    beta1 = (b[0] - b[2]) * d / (2 * k)
    beta2 = (b[0] - b[1] + b[2]) * d / 4
    return rate * math.atan(k) / math.pi, q, (beta2, beta1, beta0)


def k_weighting(rate: int) -> np.ndarray:
    """The K-weighting filter for `rate` Hz as second-order sections (shelf, then high-pass)."""
    sections = []
    for b, a in BS1770_STAGES_48K:
        f0, q, (beta2, beta1, beta0) = _analog_prototype(b, a, BS1770_RATE)
        if f0 >= rate / 2:
            raise ValueError(f"K-weighting needs a rate above {2 * f0:.0f} Hz, got {rate} Hz")
        omega = 2 * rate * math.tan(math.pi * f0 / rate)  # prewarped: the digital filter keeps f0 where it was
        b_z, a_z = scipy.signal.bilinear([beta2 / omega**2, beta1 / omega, beta0], [1 / omega**2, 1 / (q * omega), 1], fs=rate)
        sections.append(np.concatenate([b_z, a_z]))
    return np.asarray(sections)


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
        self.sos = k_weighting(rate)
        self.state = np.zeros((len(self.sos), 2))
        self.pending_squares = np.zeros(0)
        self.hop_sums: list[np.ndarray] = []
        self.unscored: list[np.ndarray] = []
        self.unscored_samples = 0
        self.speech_probabilities: list[np.ndarray] = []
        self.samples = 0

    def add(self, samples: np.ndarray) -> None:
        self.samples += len(samples)
        weighted, self.state = scipy.signal.sosfilt(self.sos, samples.astype(np.float64), zi=self.state)
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
