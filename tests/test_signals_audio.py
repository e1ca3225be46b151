"""extract_audio_features(): BS.1770 loudness, silence and speech from one pass, checked against generated truth.

Expected loudness comes from the standard itself: the K-weighting filter as ITU-R BS.1770-4 tabulates it at
48 kHz (copied here from the standard, not imported), evaluated with scipy's `freqz`. A sine of RMS level
L dBFS has mean square 10^(L/10); K-weighted it has mean square 10^(L/10)·|H_K(f)|², so it reads
−0.691 + L + 20·log10|H_K(f)| LUFS. At 1 kHz |H_K| is +0.698 dB, so a −20 dBFS tone reads −19.993 LUFS. The
implementation designs its own filter for 16 kHz and measures audio that went through AAC and resampling, so
agreement within 0.5 LU checks the whole path.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import scipy.signal

from reelmark.core.engines.base import AnalysisCancelled
from reelmark.core.engines.signals.audio_features import extract_audio_features
from reelmark.core.engines.signals.k_weighting import KWeightingFilter, k_weighting
from reelmark.core.media.probing import probe
from reelmark.core.media.synthetic import NOISE_BAND_HZ, AudioSegment, ClipSpec, ClipTruth, write_clip

sys.path.insert(0, str(Path(__file__).parent))
import speech_data  # noqa: E402

# ITU-R BS.1770-4 Table 1 (pre-filter, the high shelf) and Table 2 (RLB high-pass), at 48 kHz.
STANDARD_SHELF = ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585])
STANDARD_HIGH_PASS = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])
AAC_EDGE = Fraction(1, 20)
"""AAC's transform window smears a level change over a few milliseconds; measure this far inside segments."""

F = Fraction
LEVELS = (
    AudioSegment(F(0), F(1), "silence"),
    AudioSegment(F(1), F(5), "tone", -20.0),
    AudioSegment(F(5), F(13, 2), "silence"),
    AudioSegment(F(13, 2), F(21, 2), "tone", -35.0),
    AudioSegment(F(21, 2), F(54, 5), "silence"),  # 0.3 s: shorter than min_silence_s, so not a silence
    AudioSegment(F(54, 5), F(13), "noise", -40.0),  # quiet, yet 18 LU above the silence threshold
    AudioSegment(F(13), F(14), "silence"),
)
@pytest.fixture(scope="module")
def audio_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ClipTruth]:
    folder = tmp_path_factory.mktemp("signals_audio")
    specs = {
        "levels": ClipSpec(video=False, audio=LEVELS),
        "digital_silence": ClipSpec(video=False, audio=(AudioSegment(F(0), F(3), "silence"),)),
        "no_audio": ClipSpec(frame_count=10),
    }
    return {name: write_clip(folder / f"{name}.{'mp4' if spec.video else 'm4a'}", spec) for name, spec in specs.items()}


def _k_gain_db(frequency: float) -> float:
    """|H_K| in dB at `frequency`, from the standard's own 48 kHz coefficients."""
    gains = [scipy.signal.freqz(b, a, worN=[frequency], fs=48000)[1][0] for b, a in (STANDARD_SHELF, STANDARD_HIGH_PASS)]
    return 20 * math.log10(abs(gains[0] * gains[1]))


def _noise_k_gain_db() -> float:
    """Power gain of K-weighting over the generator's flat noise band (0 to NOISE_BAND_HZ)."""
    frequencies = np.linspace(1, NOISE_BAND_HZ, 2000)
    response = np.ones(len(frequencies), dtype=complex)
    for b, a in (STANDARD_SHELF, STANDARD_HIGH_PASS):
        response *= scipy.signal.freqz(b, a, worN=frequencies, fs=48000)[1]
    return 10 * math.log10(float(np.mean(np.abs(response) ** 2)))


def _expected_lufs(segment: AudioSegment) -> float:
    gain = _k_gain_db(segment.frequency) if segment.kind == "tone" else _noise_k_gain_db()
    return -0.691 + segment.level_dbfs + gain


def _inside(times: np.ndarray, start: Fraction, end: Fraction, window: Fraction) -> np.ndarray:
    """Which windows of length `window` ending at `times` lie within [start, end] with AAC margins."""
    return (times - float(window) >= float(start + AAC_EDGE)) & (times <= float(end - AAC_EDGE))


def test_k_weighting_reproduces_the_standard_at_48k_and_keeps_its_response_at_16k() -> None:
    """The filter is redesigned per rate from an analog prototype: at 48 kHz it must give back the standard's table,
    at 16 kHz the same response below Nyquist (0.1 dB: a fifth of the 0.5 LU the whole measurement may be off)."""
    for designed, (b, a) in zip(k_weighting(48000), (STANDARD_SHELF, STANDARD_HIGH_PASS), strict=True):
        np.testing.assert_allclose(designed, np.concatenate([b, a]), atol=1e-9)
    frequencies = np.linspace(20, 7900, 1000)
    ours = 20 * np.log10(np.abs(scipy.signal.sosfreqz(k_weighting(16000), worN=frequencies, fs=16000)[1]))
    standard = [_k_gain_db(frequency) for frequency in frequencies]
    assert np.max(np.abs(ours - standard)) < 0.1


def test_the_filter_is_the_designed_sections_whatever_the_blocks() -> None:
    """FFmpeg's biquads run the designed sections: the same output as scipy's reference `sosfilt` over the whole
    signal, however it is cut into blocks (one sample, an empty block, uneven sizes)."""
    noise = np.random.default_rng(7).standard_normal(40_000).astype(np.float32) * 0.2
    reference = scipy.signal.sosfilt(k_weighting(16000), noise.astype(np.float64))
    running = KWeightingFilter(16000)
    blocks = np.split(noise, [1, 1, 100, 4000, 4001, 30_000])
    weighted = np.concatenate([running(block) for block in blocks])
    np.testing.assert_allclose(weighted, reference, atol=1e-9)


def test_1khz_tone_reads_its_analytic_loudness(audio_clips: dict[str, ClipTruth]) -> None:
    truth = audio_clips["levels"]
    features = extract_audio_features(probe(truth.path))
    assert features is not None
    ends = np.array([float(features.window_end(index)) for index in range(len(features.momentary_lufs))])
    errors = {}
    for segment in (item for item in truth.audio if item.kind == "tone"):
        expected = _expected_lufs(segment)
        momentary = features.momentary_lufs[_inside(ends, segment.start, segment.end, F(2, 5))]
        short_term = features.short_term_lufs[_inside(ends, segment.start, segment.end, F(3))]
        assert len(momentary) >= 30 and len(short_term) >= 5, segment
        errors[segment.level_dbfs] = float(np.max(np.abs(np.concatenate([momentary, short_term]) - expected)))
    assert _expected_lufs(truth.audio[1]) == pytest.approx(-19.993, abs=0.001)  # the arithmetic in the docstring
    assert max(errors.values()) <= 0.5, errors


def _lufs(mean_square: float) -> float:
    return -0.691 + 10 * math.log10(mean_square)


def _gated_from_truth(segments: tuple[AudioSegment, ...], duration: Fraction) -> float:
    """BS.1770 integrated loudness computed from the segment list: 400 ms blocks every 100 ms, each block's K-weighted
    mean square the overlap-weighted mean of its segments' powers; −70 LUFS absolute, then −10 LU relative gate."""
    powers = []
    for index in range(4, int(duration * 10) + 1):
        block_end = F(index, 10)
        block_start = block_end - F(2, 5)
        power = 0.0
        for segment in segments:
            overlap = max(F(0), min(block_end, segment.end) - max(block_start, segment.start))
            if segment.kind != "silence" and overlap:
                power += float(overlap / F(2, 5)) * 10 ** ((_expected_lufs(segment) + 0.691) / 10)
        powers.append(power)
    absolute = [power for power in powers if power > 0 and _lufs(power) > -70]
    relative = _lufs(float(np.mean(absolute))) - 10
    return _lufs(float(np.mean([power for power in absolute if _lufs(power) > relative])))


def test_integrated_loudness_applies_both_gates(audio_clips: dict[str, ClipTruth]) -> None:
    """The −35 dBFS tone lies 15 LU under the −20 dBFS one: the relative gate drops it. Without that gate the
    integrated loudness would read about 2.6 LU lower, far outside the tolerance."""
    truth = audio_clips["levels"]
    features = extract_audio_features(probe(truth.path))
    assert features is not None and features.integrated_lufs is not None
    expected = _gated_from_truth(truth.audio, truth.duration)
    ungated = -0.691 + 10 * math.log10(
        sum(float(s.end - s.start) * 10 ** ((_expected_lufs(s) + 0.691) / 10) for s in truth.audio if s.kind != "silence")
        / float(sum(s.end - s.start for s in truth.audio if s.kind != "silence"))
    )
    assert abs(expected - ungated) > 1.0  # the gate matters in this clip
    assert features.integrated_lufs == pytest.approx(expected, abs=0.5)


def test_silence_spans_match_the_truth(audio_clips: dict[str, ClipTruth]) -> None:
    truth = audio_clips["levels"]
    min_silence = 0.5
    features = extract_audio_features(probe(truth.path), min_silence_s=min_silence)
    assert features is not None
    expected = [segment for segment in truth.audio if segment.kind == "silence" and segment.end - segment.start >= min_silence]
    assert len(features.silence) == len(expected), features.silence
    for span, segment in zip(features.silence, expected, strict=True):
        assert abs(span.start - segment.start) <= F(1, 4) and abs(span.end - segment.end) <= F(1, 4), (span, segment)
    # Where the threshold sits: the quiet noise and the −35 dBFS tone are sound, not silence.
    for segment in truth.audio:
        if segment.kind != "silence":
            middle = (segment.start + segment.end) / 2
            assert not any(span.contains(middle) for span in features.silence), segment


def test_digital_silence_has_no_loudness_and_no_speech(audio_clips: dict[str, ClipTruth]) -> None:
    truth = audio_clips["digital_silence"]
    features = extract_audio_features(probe(truth.path))
    assert features is not None
    assert features.integrated_lufs is None
    assert np.all(np.isneginf(features.momentary_lufs)) and np.all(np.isneginf(features.short_term_lufs))
    assert features.speech == ()
    assert len(features.silence) == 1
    assert features.silence[0].start == features.start and features.silence[0].end == features.end
    assert abs(features.end - truth.duration) < F(1, 20)


def test_speech_is_the_spoken_phrases_not_silence_or_steady_signals(tmp_path: Path) -> None:
    """Silero's spans cover espeak's phrases and nothing of the silence, the tone or the noise bed after them."""
    if not speech_data.espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng; .ci/run does)")
    spoken, phrases = speech_data.talk_audio(speech_data.SENTENCES[:3], (1.5,))
    seconds = np.arange(3 * speech_data.RATE) / speech_data.RATE
    tone = (0.1 * np.sin(2 * np.pi * 440 * seconds)).astype(np.float32)
    noise = (np.random.default_rng(5).standard_normal(3 * speech_data.RATE) * 0.1).astype(np.float32)
    clip = speech_data.write_clip(tmp_path / "speech-tone-noise.mp4", np.concatenate([spoken, tone, noise]), video=False)
    features = extract_audio_features(probe(clip))
    assert features is not None
    assert len(features.speech) == len(phrases), features.speech
    for span, phrase in zip(features.speech, phrases):
        assert abs(span.start - phrase.onset) <= F(1, 10) and abs(span.end - phrase.end) <= F(3, 20), (span, phrase)
    assert features.speech[-1].end < F(len(spoken), speech_data.RATE)


def test_curves_do_not_depend_on_block_size(audio_clips: dict[str, ClipTruth]) -> None:
    info = probe(audio_clips["levels"].path)
    small = extract_audio_features(info, block_seconds=F(1, 7))
    large = extract_audio_features(info, block_seconds=F(5))
    assert small is not None and large is not None
    assert small.start == large.start and small.end == large.end
    assert np.array_equal(small.momentary_lufs, large.momentary_lufs)
    assert np.array_equal(small.short_term_lufs, large.short_term_lufs)
    assert (small.integrated_lufs, small.silence, small.speech) == (large.integrated_lufs, large.silence, large.speech)


def test_a_range_is_measured_on_its_own_times(audio_clips: dict[str, ClipTruth]) -> None:
    """Features of [4, 12] start at 4 s (to the sample), and silence inside the range is found at its true times."""
    truth = audio_clips["levels"]
    features = extract_audio_features(probe(truth.path), start=F(4), end=F(12))
    assert features is not None
    assert F(4) <= features.start < F(4) + F(1, 16000) and abs(features.end - 12) < F(1, 16000) * 2
    assert abs(len(features.momentary_lufs) - 80) <= 1  # one value per 100 ms hop of the 8 s range
    silence = next(segment for segment in truth.audio if segment.start == F(5))
    assert len(features.silence) == 1
    assert abs(features.silence[0].start - silence.start) <= F(1, 4) and abs(features.silence[0].end - silence.end) <= F(1, 4)


def test_no_audio_stream_gives_none(audio_clips: dict[str, ClipTruth]) -> None:
    assert extract_audio_features(probe(audio_clips["no_audio"].path)) is None


def test_progress_and_cancellation(audio_clips: dict[str, ClipTruth]) -> None:
    info = probe(audio_clips["levels"].path)
    seen: list[float] = []
    extract_audio_features(info, block_seconds=F(1), progress=seen.append)
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 0.2
    calls = 0

    def cancel_on_third() -> bool:
        nonlocal calls
        calls += 1
        return calls >= 3

    with pytest.raises(AnalysisCancelled):
        extract_audio_features(info, block_seconds=F(1), cancelled=cancel_on_third)
    assert calls == 3
