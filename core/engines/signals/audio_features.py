"""One audio pass, every audio feature the signals tasks read: BS.1770 loudness curves, speech and silence.

The audio is read once by `read_audio` as mono float32 at 16 kHz. One rate serves both consumers: webrtcvad only
accepts 8/16/32/48 kHz and is trained for 16 kHz speech, and BS.1770 loudness of programme material is carried by
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

Speech: webrtcvad in mode 1 ("low bitrate"; 0 is the most permissive, 3 the most aggressive) on 30 ms frames of
int16 at 16 kHz. Editors lose more when a cut lands in a word than when a pause is taken for speech, so we lean
towards recall. Voiced frames closer than `SPEECH_HANGOVER_S` are joined into spans (the pauses inside a
sentence). webrtcvad answers yes to any steady tone or noise bed (measured: a 1 kHz tone at −20 dBFS, white noise
at −12 dBFS and a 440 Hz tone at −35 dBFS are voiced in 87–100 % of frames in every mode), so a span is kept only
if it is modulated as speech is: syllables start and stop every 100–300 ms, so the level of consecutive 30 ms
frames jumps by several dB, while a steady tone or noise bed changes by well under 1 dB (white noise ~0.3 dB) and a
change of programme (tone to noise) is a single step, which the mean over a span dilutes. We ask for a mean
|level change| between consecutive frames of at least `MIN_SPEECH_MODULATION_DB`, with levels clamped to 40 dB
below the span's loudest frames so that digital-silence gaps count like a real noise floor. This is a heuristic
checked on steady signals and on syllable-like bursts (the corpus holds no speech). Silence spans are then taken
out (the VAD answers on very quiet noise too) and what is shorter than `MIN_SPEECH_S` is dropped (clicks).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction

import numpy as np
import scipy.signal
import webrtcvad

from reelmark.core.engines.base import AnalysisCancelled, CancelCheck
from reelmark.core.engines.signals.runs import true_runs
from reelmark.core.engines.signals.context import AudioFeatures
from reelmark.core.media.audio import read_audio
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
VAD_MODE = 1
VAD_FRAME = Fraction(30, 1000)
SPEECH_HANGOVER_S = Fraction(3, 10)
MIN_SPEECH_S = Fraction(1, 4)
MIN_SPEECH_MODULATION_DB = 3.0
MODULATION_RANGE_DB = 40.0
FRAME_LEVEL_FLOOR_DB = -100.0
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


def _modulation_db(levels: np.ndarray) -> float:
    """Mean level change between consecutive frames, levels clamped to `MODULATION_RANGE_DB` under the loudest."""
    if len(levels) < 2:
        return 0.0
    clamped = np.maximum(levels, np.percentile(levels, 95) - MODULATION_RANGE_DB)
    return float(np.abs(np.diff(clamped)).mean())


class _AudioAnalyser:
    """Running state of the single pass: filter state, partial hop, partial VAD frame, per-hop and per-frame data."""

    def __init__(self, rate: int, start: Fraction):
        self.rate = rate
        self.start = start
        self.hop_samples = int(HOP * rate)
        self.vad_samples = int(VAD_FRAME * rate)
        self.sos = k_weighting(rate)
        self.state = np.zeros((len(self.sos), 2))
        self.pending_squares = np.zeros(0)
        self.pending_pcm = np.zeros(0, dtype=np.int16)
        self.hop_sums: list[np.ndarray] = []
        self.vad = webrtcvad.Vad(VAD_MODE)
        self.voiced: list[bool] = []
        self.frame_levels: list[np.ndarray] = []
        self.samples = 0

    def add(self, samples: np.ndarray) -> None:
        self.samples += len(samples)
        weighted, self.state = scipy.signal.sosfilt(self.sos, samples.astype(np.float64), zi=self.state)
        squares = np.concatenate([self.pending_squares, weighted * weighted])
        full = len(squares) // self.hop_samples * self.hop_samples
        self.hop_sums.append(squares[:full].reshape(-1, self.hop_samples).sum(axis=1))
        self.pending_squares = squares[full:]
        pcm = np.concatenate([self.pending_pcm, np.clip(np.round(samples * 32767), -32768, 32767).astype(np.int16)])
        full = len(pcm) // self.vad_samples * self.vad_samples
        frames = pcm[:full].reshape(-1, self.vad_samples)
        self.voiced.extend(self.vad.is_speech(frame.tobytes(), self.rate) for frame in frames)
        mean_squares = np.mean(np.square(frames / 32768.0), axis=1)
        with np.errstate(divide="ignore"):
            self.frame_levels.append(np.maximum(10 * np.log10(mean_squares), FRAME_LEVEL_FLOOR_DB))
        self.pending_pcm = pcm[full:]

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
        joined: list[tuple[int, int]] = []
        hangover = int(SPEECH_HANGOVER_S / VAD_FRAME)
        for first, stop in true_runs(np.asarray(self.voiced, dtype=bool)):
            if joined and first - joined[-1][1] <= hangover:
                first = joined.pop()[0]
            joined.append((first, stop))
        levels = np.concatenate(self.frame_levels) if self.frame_levels else np.zeros(0)
        modulated = [
            TimeSpan(self.start + first * VAD_FRAME, self.start + stop * VAD_FRAME)
            for first, stop in joined
            if _modulation_db(levels[first:stop]) >= MIN_SPEECH_MODULATION_DB
        ]
        return tuple(span for span in _subtract(modulated, silence) if span.duration >= MIN_SPEECH_S)


def extract_audio_features(
    info: MediaInfo,
    *,
    start: Fraction | None = None,
    end: Fraction | None = None,
    min_silence_s: float = 0.5,
    block_seconds: Fraction = BLOCK_SECONDS,
    progress: Callable[[float], None] | None = None,
    cancelled: CancelCheck | None = None,
) -> AudioFeatures | None:
    """Loudness curves, integrated loudness, speech and silence spans in one pass; None when there is no audio.

    `block_seconds` only sets how much audio is decoded between progress and cancellation checks: the result does
    not depend on it.
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
        if progress is not None and last_time is not None and last_time > first_time:
            progress(min(1.0, float((block.end - first_time) / (last_time - first_time))))
    if progress is not None:
        progress(1.0)
    return (analyser or _AudioAnalyser(RATE, first_time)).finish(min_silence_s)
