"""What ingest reports about a media file: plain data, no PyAV, so the results model can embed it.

Times are `Fraction` seconds of media time: the presentation time PyAV reports (pts × time_base), counted as
the container counts it. A stream that starts at a non-zero pts keeps that offset (`VideoStreamInfo.start`).
JSON uses the conventions of `reelmark.core.times`: times as `{"value", "rate"}`, rates as `"n/d"` strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any, Literal

from reelmark.core.times import ratio_from_json, ratio_to_json, time_from_json, time_to_json

RateMode = Literal["cfr", "vfr"]
TimecodeSource = Literal["stream tag", "tmcd track", "container tag"]


def _optional_time_to_json(value: Fraction | None) -> dict[str, int] | None:
    return None if value is None else time_to_json(value)


def _optional_time_from_json(value: Any, where: str) -> Fraction | None:
    return None if value is None else time_from_json(value, where)


def _optional_ratio_to_json(value: Fraction | None) -> str | None:
    return None if value is None else ratio_to_json(value)


def _optional_ratio_from_json(value: Any, where: str) -> Fraction | None:
    return None if value is None else ratio_from_json(value, where)


def _datetime_to_json(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _datetime_from_json(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@dataclass(frozen=True)
class VideoStreamInfo:
    """The primary video stream."""

    index: int
    codec: str
    width: int
    height: int
    pixel_format: str | None
    rate: Fraction
    """Average frame rate, exact (179/6 stays 179/6)."""
    rate_mode: RateMode
    """`vfr` when frame durations differ in the scanned packets or the container's rates disagree."""
    time_base: Fraction
    start: Fraction
    """Presentation time of the first frame (non-zero for many Matroska and broadcast files)."""
    duration: Fraction | None
    frame_count: int
    frame_count_exact: bool
    """True when counted from packets or read from an index the container keeps per frame (MP4/MOV)."""
    rotation: int
    """Degrees counter-clockwise that a player turns the picture (display matrix); sampled frames come upright."""
    sample_aspect_ratio: Fraction | None
    keyframe_interval: Fraction | None
    """Median seconds between keyframes in the packets scanned; decides seek versus sequential sampling."""
    timecode: str | None
    timecode_source: TimecodeSource | None
    timecode_frame: int | None
    """The timecode as a frame count at `rate` (01:00:00:00 at 24 fps is 86400): Resolve's source frames."""
    creation_time: datetime | None

    @property
    def display_size(self) -> tuple[int, int]:
        """(width, height) in pixels as shown, after rotation; the pixels need not be square (`pixel_aspect`)."""
        if self.rotation % 180:
            return self.height, self.width
        return self.width, self.height

    @property
    def pixel_aspect(self) -> Fraction:
        """Width over height of one upright pixel as a player shows it: the sample aspect ratio, turned with the
        picture. DV, HDV and anamorphic footage store a wide picture in narrow pixels (1440×1080 at 4:3 is shown
        1920×1080), so a crop or a detector working in pixels would get shapes wrong. 1 where the stream gives none
        (FFmpeg's 0:1)."""
        ratio = self.sample_aspect_ratio
        if not ratio or ratio <= 0:
            return Fraction(1)
        return 1 / ratio if self.rotation % 180 else ratio

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "pixel_format": self.pixel_format,
            "rate": ratio_to_json(self.rate),
            "rate_mode": self.rate_mode,
            "time_base": ratio_to_json(self.time_base),
            "start": time_to_json(self.start),
            "duration": _optional_time_to_json(self.duration),
            "frame_count": self.frame_count,
            "frame_count_exact": self.frame_count_exact,
            "rotation": self.rotation,
            "sample_aspect_ratio": _optional_ratio_to_json(self.sample_aspect_ratio),
            "keyframe_interval": _optional_time_to_json(self.keyframe_interval),
            "timecode": self.timecode,
            "timecode_source": self.timecode_source,
            "timecode_frame": self.timecode_frame,
            "creation_time": _datetime_to_json(self.creation_time),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VideoStreamInfo:
        where = "video"
        return cls(
            index=data["index"],
            codec=data["codec"],
            width=data["width"],
            height=data["height"],
            pixel_format=data.get("pixel_format"),
            rate=ratio_from_json(data["rate"], f"{where}.rate"),
            rate_mode=data["rate_mode"],
            time_base=ratio_from_json(data["time_base"], f"{where}.time_base"),
            start=time_from_json(data["start"], f"{where}.start"),
            duration=_optional_time_from_json(data.get("duration"), f"{where}.duration"),
            frame_count=data["frame_count"],
            frame_count_exact=data["frame_count_exact"],
            rotation=data.get("rotation", 0),
            sample_aspect_ratio=_optional_ratio_from_json(data.get("sample_aspect_ratio"), f"{where}.sar"),
            keyframe_interval=_optional_time_from_json(data.get("keyframe_interval"), f"{where}.keyframe_interval"),
            timecode=data.get("timecode"),
            timecode_source=data.get("timecode_source"),
            timecode_frame=data.get("timecode_frame"),
            creation_time=_datetime_from_json(data.get("creation_time")),
        )


@dataclass(frozen=True)
class AudioStreamInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    layout: str | None
    start: Fraction
    duration: Fraction | None
    language: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "codec": self.codec,
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "layout": self.layout,
            "start": time_to_json(self.start),
            "duration": _optional_time_to_json(self.duration),
            "language": self.language,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioStreamInfo:
        return cls(
            index=data["index"],
            codec=data["codec"],
            sample_rate=data["sample_rate"],
            channels=data["channels"],
            layout=data.get("layout"),
            start=time_from_json(data["start"], "audio.start"),
            duration=_optional_time_from_json(data.get("duration"), "audio.duration"),
            language=data.get("language"),
        )


@dataclass(frozen=True)
class SubtitleStreamInfo:
    index: int
    codec: str
    language: str | None
    title: str | None
    is_text: bool
    """False for bitmap subtitles (PGS, DVD), which carry no searchable text."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "codec": self.codec,
            "language": self.language,
            "title": self.title,
            "is_text": self.is_text,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubtitleStreamInfo:
        return cls(data["index"], data["codec"], data.get("language"), data.get("title"), data.get("is_text", True))


@dataclass(frozen=True)
class MediaInfo:
    """Everything `probe` learns about a file without decoding more than its first video frame."""

    path: str
    container: str
    container_long_name: str | None
    size_bytes: int
    duration: Fraction | None
    bit_rate: int | None
    creation_time: datetime | None
    video: VideoStreamInfo | None
    audio: tuple[AudioStreamInfo, ...] = ()
    subtitles: tuple[SubtitleStreamInfo, ...] = ()
    sidecar_subtitles: tuple[str, ...] = field(default=())
    """`.srt`/`.vtt` files beside the media that belong to it (same stem, optional language suffix)."""

    @property
    def primary_audio(self) -> AudioStreamInfo | None:
        return self.audio[0] if self.audio else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "container": self.container,
            "container_long_name": self.container_long_name,
            "size_bytes": self.size_bytes,
            "duration": _optional_time_to_json(self.duration),
            "duration_s": None if self.duration is None else float(self.duration),
            "bit_rate": self.bit_rate,
            "creation_time": _datetime_to_json(self.creation_time),
            "video": None if self.video is None else self.video.to_dict(),
            "audio": [stream.to_dict() for stream in self.audio],
            "subtitles": [stream.to_dict() for stream in self.subtitles],
            "sidecar_subtitles": list(self.sidecar_subtitles),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MediaInfo:
        return cls(
            path=data["path"],
            container=data["container"],
            container_long_name=data.get("container_long_name"),
            size_bytes=data["size_bytes"],
            duration=_optional_time_from_json(data.get("duration"), "media.duration"),
            bit_rate=data.get("bit_rate"),
            creation_time=_datetime_from_json(data.get("creation_time")),
            video=None if data.get("video") is None else VideoStreamInfo.from_dict(data["video"]),
            audio=tuple(AudioStreamInfo.from_dict(item) for item in data.get("audio", [])),
            subtitles=tuple(SubtitleStreamInfo.from_dict(item) for item in data.get("subtitles", [])),
            sidecar_subtitles=tuple(data.get("sidecar_subtitles", [])),
        )
