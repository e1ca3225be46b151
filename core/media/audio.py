"""Audio as mono float32 at a chosen rate, streamed in fixed-size blocks with exact start times.

Sample n of the output lies at `origin + n / rate`, where the origin is the presentation time of the first
decoded audio frame; each block's `start` is that value as a `Fraction`. A gap in the source timestamps (a
dropped packet, an edit) is filled with silence so later blocks keep their true times. Memory is bounded by one
block plus one decoded frame.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import av
import numpy as np

from reelmark.core.errors import InvalidRangeError, NoAudioStreamError
from reelmark.core.media.container import PathLike, open_media, unreadable
from reelmark.core.media.probing import probe
from reelmark.core.media.ranges import checked_range
from reelmark.core.media.types import MediaInfo
from reelmark.core.times import as_fraction, seconds_to_pts

if TYPE_CHECKING:
    from av.audio.frame import AudioFrame
    from av.audio.stream import AudioStream
    from av.container import InputContainer

log = logging.getLogger("reelmark.media.audio")

# Timestamp jumps larger than this are gaps to fill, smaller ones are rounding.
GAP_TOLERANCE = Fraction(1, 20)


@dataclass(frozen=True)
class AudioBlock:
    start: Fraction
    """Media time of the first sample, exactly."""
    rate: int
    samples: np.ndarray
    """Mono float32, nominally in [-1, 1]."""

    @property
    def end(self) -> Fraction:
        return self.start + Fraction(len(self.samples), self.rate)


class _BlockWriter:
    """Collects resampled audio and cuts it into blocks whose start times follow from the sample count."""

    def __init__(self, rate: int, block_samples: int, start: Fraction | None, end: Fraction | None):
        self.rate = rate
        self.block_samples = block_samples
        self.start = start
        self.end = end
        self.origin: Fraction | None = None
        self.written = 0  # samples since the origin, including trimmed and gap-filled ones
        self.parts: list[np.ndarray] = []
        self.buffered = 0
        self.buffer_start = 0
        self.finished = False

    def time_of(self, sample_index: int) -> Fraction:
        assert self.origin is not None
        return self.origin + Fraction(sample_index, self.rate)

    def add(self, samples: np.ndarray) -> Iterator[AudioBlock]:
        first = self.written
        self.written += len(samples)
        keep_from = 0
        if self.start is not None and self.time_of(first) < self.start:
            keep_from = min(len(samples), math.ceil((self.start - self.origin) * self.rate) - first)  # type: ignore[operator]
        keep_to = len(samples)
        if self.end is not None:
            limit = math.ceil((self.end - self.origin) * self.rate) - first  # type: ignore[operator]
            if limit < keep_to:
                keep_to = max(limit, keep_from)
                self.finished = True
        if keep_to > keep_from:
            if not self.parts:
                self.buffer_start = first + keep_from
            self.parts.append(samples[keep_from:keep_to])
            self.buffered += keep_to - keep_from
        while self.buffered >= self.block_samples:
            yield self._cut(self.block_samples)

    def flush(self) -> Iterator[AudioBlock]:
        if self.buffered:
            yield self._cut(self.buffered)

    def _cut(self, size: int) -> AudioBlock:
        joined = np.concatenate(self.parts) if len(self.parts) > 1 else self.parts[0]
        block, rest = joined[:size], joined[size:]
        result = AudioBlock(self.time_of(self.buffer_start), self.rate, np.ascontiguousarray(block, dtype=np.float32))
        self.buffer_start += size
        self.parts = [rest] if len(rest) else []
        self.buffered = len(rest)
        return result


def read_audio(
    path: PathLike,
    *,
    rate: int = 16000,
    block_seconds: Fraction | float = 1,
    start: Fraction | float | str | None = None,
    end: Fraction | float | str | None = None,
    stream_index: int | None = None,
    info: MediaInfo | None = None,
) -> Iterator[AudioBlock]:
    """Yield mono float32 blocks of `block_seconds` at `rate` Hz (the last block may be shorter).

    Pass `info` when the file was probed already (engines probe once), to skip probing it again.
    """
    if not 1000 <= rate <= 384000:
        raise InvalidRangeError(f"audio rate {rate} Hz is out of range; use 1000–384000 Hz")
    block_samples = round(as_fraction(block_seconds) * rate)
    if block_samples < 1:
        raise InvalidRangeError(f"block of {block_seconds} s at {rate} Hz holds no samples; use a longer block")
    info = info if info is not None else probe(path)
    if not info.audio:
        raise NoAudioStreamError(f"{info.path} has no audio stream; audio analysis needs one")
    if stream_index is not None and stream_index not in {stream.index for stream in info.audio}:
        available = ", ".join(str(stream.index) for stream in info.audio)
        raise NoAudioStreamError(f"{info.path}: stream {stream_index} is not an audio stream; audio streams: {available}")
    range_start, range_end = checked_range(info, start, end)
    if start is None:
        range_start = None  # read from the first audio sample, even if video starts later
    return _stream_audio(Path(info.path), rate, block_samples, range_start, range_end, stream_index)


def _stream_audio(
    media_path: Path,
    rate: int,
    block_samples: int,
    start: Fraction | None,
    end: Fraction | None,
    stream_index: int | None,
) -> Iterator[AudioBlock]:
    with open_media(media_path) as container:
        stream = container.streams.audio[0] if stream_index is None else container.streams[stream_index]
        time_base = stream.time_base
        if start is not None and stream.start_time is not None and start > stream.start_time * time_base:
            container.seek(seconds_to_pts(start, time_base, "floor"), stream=stream, backward=True)
        writer = _BlockWriter(rate, block_samples, start, end)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        expected: Fraction | None = None
        try:
            for frame in _frames_past_damage(container, stream, media_path):
                if frame.pts is None:
                    continue
                frame_time = frame.pts * time_base
                if writer.origin is None:
                    writer.origin = frame_time
                elif expected is not None and frame_time - expected > GAP_TOLERANCE:
                    yield from _drain(resampler, writer)
                    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
                    gap = round((frame_time - writer.time_of(writer.written)) * rate)
                    yield from writer.add(np.zeros(max(gap, 0), dtype=np.float32))
                expected = frame_time + Fraction(frame.samples, frame.sample_rate)
                for converted in resampler.resample(frame):
                    yield from writer.add(converted.to_ndarray()[0])
                if writer.finished:
                    break
            if not writer.finished:
                yield from _drain(resampler, writer)
        except av.FFmpegError as error:
            raise unreadable(media_path, error) from None
        yield from writer.flush()


def _frames_past_damage(container: InputContainer, stream: AudioStream, media_path: Path) -> Iterator[AudioFrame]:
    """Every frame the decoder gives, skipping the packets it rejects as damaged, as FFmpeg's own tools do (the
    caller fills the gap a skipped packet leaves with silence): a real AVI whose first AC3 packet is broken still
    has 11 s of good sound after it. Unreadable only when nothing decodes at all."""
    skipped, decoded = 0, 0
    first_error: av.FFmpegError | None = None
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.InvalidDataError as error:
            skipped += 1
            first_error = first_error or error
            continue
        decoded += len(frames)
        yield from frames
    if skipped and not decoded:
        assert first_error is not None
        raise unreadable(media_path, first_error)
    if skipped:
        log.warning("%s: skipped %d damaged audio packet(s); their time is silence", media_path, skipped)


def _drain(resampler: av.AudioResampler, writer: _BlockWriter) -> Iterator[AudioBlock]:
    """Empty the resampler's delay line into the writer."""
    for converted in resampler.resample(None):
        yield from writer.add(converted.to_ndarray()[0])
