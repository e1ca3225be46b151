"""`probe(path)`: what a media file holds, read from its headers plus a short packet scan.

The scan demuxes (does not decode) at most `SCAN_PACKETS` video packets or `SCAN_SECONDS` of video, which is
enough to judge CFR/VFR and the keyframe interval without reading an hour-long file. Exactly one video frame is
decoded: it proves the stream decodes and carries the display matrix that gives the rotation.
"""

from __future__ import annotations

import re
import statistics
from itertools import pairwise
from datetime import datetime
from fractions import Fraction
from typing import TYPE_CHECKING

import av

from reelmark.core.errors import TimecodeError, UnreadableMediaError
from reelmark.core.media.container import PathLike, check_media_path, open_media, unreadable
from reelmark.core.media.subtitles import BITMAP_SUBTITLE_CODECS, find_sidecar_subtitles
from reelmark.core.media.types import AudioStreamInfo, MediaInfo, SubtitleStreamInfo, VideoStreamInfo
from reelmark.core.times import timecode_to_frames

if TYPE_CHECKING:
    from av.container import InputContainer
    from av.video.stream import VideoStream

SCAN_PACKETS = 600
SCAN_SECONDS = 30
REORDER_DEPTH = 16  # H.264/HEVC reorder at most 16 frames: later packets cannot land before these
AV_TIME_BASE = 1_000_000
_MATROSKA_DURATION = re.compile(r"^(\d+):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")


def probe(path: PathLike, *, count_frames: bool = False) -> MediaInfo:
    """Describe a media file; with `count_frames`, demux every video packet for an exact frame count."""
    media_path = check_media_path(path)
    with open_media(media_path) as container:
        try:
            video_stream = primary_video_stream(container)
            video = _video_info(container, video_stream, count_frames) if video_stream is not None else None
            audio = tuple(_audio_info(stream) for stream in container.streams.audio)
        except av.FFmpegError as error:
            raise unreadable(media_path, error) from None
        if video is None and not audio:
            raise UnreadableMediaError(
                f"{media_path} holds no audio or video stream; reelmark analyses audio/video files only"
            )
        return MediaInfo(
            path=str(media_path),
            container=container.format.name,
            container_long_name=container.format.long_name,
            size_bytes=media_path.stat().st_size,
            duration=_container_duration(container, video),
            bit_rate=container.bit_rate or None,
            creation_time=_parse_creation_time(_tag(container.metadata, "creation_time")),
            video=video,
            audio=audio,
            subtitles=tuple(_subtitle_info(stream) for stream in container.streams.subtitles),
            sidecar_subtitles=tuple(str(sidecar) for sidecar in find_sidecar_subtitles(media_path)),
        )


def primary_video_stream(container: InputContainer) -> VideoStream | None:
    """The first real video stream; cover art (an attached picture) does not count."""
    for stream in container.streams.video:
        if not stream.disposition & av.stream.Disposition.attached_pic:
            return stream
    return None


def _tag(metadata: dict[str, str], key: str) -> str | None:
    """A metadata tag, matched case-insensitively (Matroska upper-cases its tags)."""
    for name, value in metadata.items():
        if name.lower() == key and value.strip():
            return value.strip()
    return None


def _parse_creation_time(text: str | None) -> datetime | None:
    """The tag's time, or None when absent, unreadable or 1970-01-01T00:00:00: the zero that cameras and muxers
    write when they do not know (FFmpeg shows QuickTime's zero that way), which means "unknown", not 1970."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if moment.replace(tzinfo=None) == UNSET_CREATION_TIME else moment


UNSET_CREATION_TIME = datetime(1970, 1, 1)


def _parse_matroska_duration(text: str | None) -> Fraction | None:
    """Matroska's per-stream `DURATION` tag, `HH:MM:SS.nnnnnnnnn`, read exactly."""
    match = _MATROSKA_DURATION.match(text or "")
    if match is None:
        return None
    hours, minutes, seconds, nanos = match.groups()
    fraction = Fraction(int(nanos), 10 ** len(nanos)) if nanos else Fraction(0)
    return int(hours) * 3600 + int(minutes) * 60 + int(seconds) + fraction


def _stream_duration(stream: av.stream.Stream) -> Fraction | None:
    if stream.duration is not None and stream.duration > 0 and stream.time_base is not None:
        return stream.duration * stream.time_base
    # FFmpeg's Matroska muxer writes the stream's end time (last pts + duration) as DURATION, not its length:
    # again.mkv in the corpus starts at 0.033 s, holds 77 frames at 30 fps, and says 2.6 s.
    end = _parse_matroska_duration(_tag(stream.metadata, "duration"))
    return None if end is None else max(Fraction(0), end - _stream_start(stream))


def _stream_start(stream: av.stream.Stream) -> Fraction:
    if stream.start_time is None or stream.time_base is None:
        return Fraction(0)
    return stream.start_time * stream.time_base


def _container_duration(container: InputContainer, video: VideoStreamInfo | None) -> Fraction | None:
    if video is not None and video.duration is not None:
        return video.duration
    if container.duration is not None and container.duration > 0:
        return Fraction(container.duration, AV_TIME_BASE)
    return None


def _source_timecode(container: InputContainer, stream: VideoStream) -> tuple[str | None, str | None]:
    """The source timecode and where it came from: a QuickTime tmcd track, the stream's tag, or the container's."""
    for data_stream in container.streams.data:
        timecode = _tag(data_stream.metadata, "timecode")
        if timecode:
            return timecode, "tmcd track"
    timecode = _tag(stream.metadata, "timecode")
    if timecode:
        return timecode, "stream tag"
    timecode = _tag(container.metadata, "timecode")
    if timecode:
        return timecode, "container tag"
    return None, None


def _video_info(container: InputContainer, stream: VideoStream, count_frames: bool) -> VideoStreamInfo:
    time_base = stream.time_base or Fraction(1, AV_TIME_BASE)
    scan = _scan_packets(container, stream, count_frames)
    rate = _frame_rate(stream, scan)
    if rate is None:
        raise UnreadableMediaError(f"{container.name}: the video stream has no frame rate and no timestamps")
    duration = _stream_duration(stream)
    if count_frames or scan.reached_end:
        frame_count, exact = scan.packet_count, True
    elif stream.frames > 0:
        frame_count, exact = stream.frames, True
    else:
        frame_count, exact = (round(duration * rate) if duration is not None else 0), False
    timecode, timecode_source = _source_timecode(container, stream)
    timecode_frame = None
    if timecode is not None:
        try:
            timecode_frame = timecode_to_frames(timecode, rate)
        except TimecodeError:
            timecode_frame = None
    codec_context = stream.codec_context
    return VideoStreamInfo(
        index=stream.index,
        codec=codec_context.name,
        width=codec_context.width,
        height=codec_context.height,
        pixel_format=codec_context.pix_fmt,
        rate=rate,
        rate_mode="vfr" if scan.is_vfr(rate, time_base) else "cfr",
        time_base=time_base,
        start=scan.first_time if scan.first_time is not None else _stream_start(stream),
        duration=duration,
        frame_count=frame_count,
        frame_count_exact=exact,
        rotation=scan.rotation % 360,
        sample_aspect_ratio=stream.sample_aspect_ratio,
        keyframe_interval=scan.keyframe_interval,
        timecode=timecode,
        timecode_source=timecode_source,
        timecode_frame=timecode_frame,
        creation_time=_parse_creation_time(_tag(stream.metadata, "creation_time"))
        or _parse_creation_time(_tag(container.metadata, "creation_time")),
    )


def _frame_rate(stream: VideoStream, scan: _PacketScan) -> Fraction | None:
    """The stream's average rate, else FFmpeg's guess, else its base rate, else the packets' own; but not a rate
    that is the time base's clock while the packets lie several ticks apart. FFmpeg's raw DV demuxer gives its
    1/60000 time base as the average rate of a 25 fps stream, whose packets are 2400 ticks apart."""
    clock = 1 / stream.time_base if stream.time_base else None
    measured = scan.measured_rate
    for candidate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if candidate and not (candidate == clock and measured is not None and measured < candidate / 2):
            return Fraction(candidate)
    return measured


class _PacketScan:
    """Timestamps and keyframe flags from the first packets of a video stream, plus its first decoded frame."""

    def __init__(self) -> None:
        self.times: list[Fraction] = []
        self.keyframe_times: list[Fraction] = []
        self.packet_count = 0
        self.reached_end = False
        self.rotation = 0
        self.decoded_a_frame = False

    @property
    def first_time(self) -> Fraction | None:
        return min(self.times) if self.times else None

    @property
    def measured_rate(self) -> Fraction | None:
        ordered = self.settled_times()
        if len(ordered) < 2 or ordered[-1] == ordered[0]:
            return None
        return Fraction(len(ordered) - 1) / (ordered[-1] - ordered[0])

    @property
    def keyframe_interval(self) -> Fraction | None:
        """Median keyframe spacing; with one keyframe seen, the span scanned (a lower bound)."""
        keys = sorted(self.keyframe_times)
        if len(keys) >= 2:
            return Fraction(statistics.median(b - a for a, b in pairwise(keys)))
        if len(self.times) >= 2:
            return max(self.times) - min(self.times)
        return None

    def settled_times(self) -> list[Fraction]:
        """Scanned times in display order, less the tail that B-frames still to come could interleave with."""
        if self.reached_end or len(self.times) <= REORDER_DEPTH:
            return sorted(set(self.times))
        cutoff = min(self.times[-REORDER_DEPTH:])
        return sorted({time for time in self.times if time <= cutoff})

    def is_vfr(self, rate: Fraction, time_base: Fraction) -> bool:
        """Frame durations vary by more than timestamp rounding (one tick) plus 1% of a frame."""
        ordered = self.settled_times()
        if len(ordered) < 3:
            return False
        nominal = 1 / rate
        tolerance = time_base + nominal / 100
        return any(abs((b - a) - nominal) > tolerance for a, b in pairwise(ordered))


def _scan_packets(container: InputContainer, stream: VideoStream, count_all: bool) -> _PacketScan:
    scan = _PacketScan()
    time_base = stream.time_base or Fraction(1, AV_TIME_BASE)
    scanning = True
    for packet in container.demux(stream):
        if packet.size == 0:  # a flush marker, not a frame
            continue
        scan.packet_count += 1
        if not scan.decoded_a_frame:
            for frame in packet.decode():
                scan.rotation = int(round(frame.rotation or 0))
                scan.decoded_a_frame = True
                break
        if scanning and packet.pts is not None:
            time = packet.pts * time_base
            scan.times.append(time)
            if packet.is_keyframe:
                scan.keyframe_times.append(time)
            scanning = len(scan.times) < SCAN_PACKETS and time - scan.times[0] < SCAN_SECONDS
        if not scanning and not count_all and scan.decoded_a_frame:
            break
    else:
        scan.reached_end = True
    if not scan.decoded_a_frame:
        scan.decoded_a_frame = _flush_first_frame(stream, scan)
    if not scan.decoded_a_frame:
        raise UnreadableMediaError(
            f"{container.name}: no video frame decodes; the file is corrupt or truncated. Copy or export it again"
        )
    return scan


def _flush_first_frame(stream: VideoStream, scan: _PacketScan) -> bool:
    """Drain the decoder: a frame-delaying decoder may hold the first frame until end of stream."""
    for frame in stream.codec_context.decode(None):
        scan.rotation = int(round(frame.rotation or 0))
        return True
    return False


def _audio_info(stream: av.audio.stream.AudioStream) -> AudioStreamInfo:
    codec_context = stream.codec_context
    layout = codec_context.layout.name if codec_context.layout is not None else None
    return AudioStreamInfo(
        index=stream.index,
        codec=codec_context.name,
        sample_rate=codec_context.sample_rate,
        channels=codec_context.channels,
        layout=layout,
        start=_stream_start(stream),
        duration=_stream_duration(stream),
        language=_tag(stream.metadata, "language"),
    )


def _subtitle_info(stream: av.stream.Stream) -> SubtitleStreamInfo:
    codec = stream.codec_context.name if stream.codec_context is not None else "unknown"
    return SubtitleStreamInfo(
        index=stream.index,
        codec=codec,
        language=_tag(stream.metadata, "language"),
        title=_tag(stream.metadata, "title"),
        is_text=codec not in BITMAP_SUBTITLE_CODECS,
    )
