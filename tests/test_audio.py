"""read_audio(): mono float32 blocks with exact, contiguous start times and levels true to the source."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from reelmark.core.errors import InvalidRangeError, NoAudioStreamError
from reelmark.core.media import read_audio
from reelmark.core.media.synthetic import ClipTruth


def _rms_dbfs(samples: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20 * math.log10(rms) if rms > 0 else -math.inf


def test_blocks_are_contiguous_with_exact_times(clips: dict[str, ClipTruth]) -> None:
    blocks = list(read_audio(clips["cfr25"].path, rate=16000, block_seconds=Fraction(1, 4)))
    assert all(block.rate == 16000 and block.samples.dtype == np.float32 and block.samples.ndim == 1 for block in blocks)
    assert all(len(block.samples) == 4000 for block in blocks[:-1])
    for earlier, later in zip(blocks, blocks[1:]):
        assert later.start == earlier.end
    total = sum(len(block.samples) for block in blocks)
    assert abs(Fraction(total, 16000) - clips["cfr25"].duration) < Fraction(1, 20)


@pytest.mark.parametrize("name", ["cfr25", "audio_only"])
def test_levels_match_the_generated_segments(clips: dict[str, ClipTruth], name: str) -> None:
    """Levels survive AAC and resampling to 16 kHz (the generator keeps its noise below 6 kHz)."""
    truth = clips[name]
    rate = 16000
    blocks = list(read_audio(truth.path, rate=rate, block_seconds=Fraction(1, 10)))
    samples = np.concatenate([block.samples for block in blocks])
    origin = blocks[0].start
    for segment in truth.audio:
        # Skip 50 ms at each edge: AAC's transform window smears a boundary over a few milliseconds.
        first = round((segment.start - origin + Fraction(1, 20)) * rate)
        stop = round((segment.end - origin - Fraction(1, 20)) * rate)
        level = _rms_dbfs(samples[first:stop])
        if segment.kind == "silence":
            assert level < -60, segment
        else:
            assert level == pytest.approx(segment.level_dbfs, abs=1.0), segment


def test_tone_frequency_survives_resampling(clips: dict[str, ClipTruth]) -> None:
    segment = next(item for item in clips["cfr25"].audio if item.kind == "tone")
    blocks = list(read_audio(clips["cfr25"].path, rate=8000, start=segment.start + Fraction(1, 10), end=segment.start + Fraction(11, 10)))
    samples = np.concatenate([block.samples for block in blocks])
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    peak_hz = np.argmax(spectrum) * 8000 / len(samples)
    assert peak_hz == pytest.approx(segment.frequency, abs=2)


def test_range_trims_to_the_sample(clips: dict[str, ClipTruth]) -> None:
    """Output samples sit on a grid anchored at the first decoded frame, so a range starts at the first sample at or
    after `start` (within one sample period), and that sample's time is stated exactly."""
    blocks = list(read_audio(clips["cfr25"].path, rate=16000, start="1.25", end=2))
    assert Fraction(5, 4) <= blocks[0].start < Fraction(5, 4) + Fraction(1, 16000)
    assert 2 <= blocks[-1].end < 2 + Fraction(1, 16000)
    assert abs(sum(len(block.samples) for block in blocks) - 12000) <= 1
    for earlier, later in zip(blocks, blocks[1:]):
        assert later.start == earlier.end


def _raw_rms(path: Path) -> float:
    """Reference level: RMS over all channels of a plain PyAV decode."""
    with av.open(str(path)) as container:
        chunks = [frame.to_ndarray().astype(np.float64) for frame in container.decode(audio=0)]
    return float(np.sqrt(np.mean(np.concatenate([chunk.ravel() for chunk in chunks]) ** 2)))


@pytest.mark.parametrize(("name", "length"), [("bigbuckbunny.mp4", Fraction(254976, 48000)), ("car-detection.mp4", Fraction(1447680, 48000))])
def test_corpus_audio_downmixes_to_mono(corpus: Path, name: str, length: Fraction) -> None:
    """5.1 and stereo AAC come out mono at the asked rate, as long as the stream, and silent only if the source is
    (car-detection's track is digital silence in the source itself)."""
    blocks = list(read_audio(corpus / name, rate=16000, block_seconds=1))
    assert blocks[0].start == 0
    assert abs(blocks[-1].end - length) < Fraction(1, 10)
    peak = max(float(np.abs(block.samples).max()) for block in blocks)
    assert (peak > 0.01) == (_raw_rms(corpus / name) > 0.001)


def test_errors(clips: dict[str, ClipTruth]) -> None:
    with pytest.raises(NoAudioStreamError, match="no audio stream"):
        read_audio(clips["longgop"].path)
    with pytest.raises(NoAudioStreamError, match="not an audio stream"):
        read_audio(clips["cfr25"].path, stream_index=0)
    with pytest.raises(InvalidRangeError, match="out of range"):
        read_audio(clips["cfr25"].path, rate=10)
    with pytest.raises(InvalidRangeError, match="past the end"):
        read_audio(clips["cfr25"].path, start=60)


DAMAGED_FIRST_PACKET = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")
"""A real AVI (Debian's opencv-doc, read in place) whose first AC3 packet FFmpeg rejects as invalid data; the 351
frames after it decode."""


@pytest.mark.skipif(
    not DAMAGED_FIRST_PACKET.is_file(), reason=f"{DAMAGED_FIRST_PACKET} is absent; `apt-get install opencv-doc` provides it"
)
def test_a_damaged_packet_is_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    """The sound after a broken packet is still read (FFmpeg's own tools skip such a packet too), and the skip is
    logged once; before, the first packet's error made the whole file unreadable."""
    with av.open(str(DAMAGED_FIRST_PACKET)) as container:
        stream = container.streams.audio[0]
        with pytest.raises(av.InvalidDataError):
            for _ in container.decode(stream):
                pass
    blocks = list(read_audio(DAMAGED_FIRST_PACKET, rate=16000))
    heard = sum(len(block.samples) for block in blocks) / 16000
    assert 11.0 < heard < 11.4
    assert max(float(np.abs(block.samples).max()) for block in blocks) > 0.05
    assert "skipped 1 damaged audio packet" in caplog.text
