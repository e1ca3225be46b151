"""Human-readable summaries of what ingest found, for the CLI; scripts use `--json` instead."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from reelmark.core.media.types import MediaInfo
from reelmark.core.times import format_clock_time, ratio_to_json


def _size(size_bytes: int) -> str:
    value = float(size_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size_bytes} B"


def _seconds(value: Fraction | None) -> str:
    if value is None:
        return "unknown"
    return f"{float(value):.3f} s ({format_clock_time(value)})"


def format_probe(info: MediaInfo) -> str:
    """A short block of `label  value` lines; rates print as exact fractions (179/6, 30000/1001)."""
    lines = [f"{Path(info.path).name}  ({info.container_long_name or info.container}, {_size(info.size_bytes)})"]
    lines.append(f"  duration     {_seconds(info.duration)}")
    video = info.video
    if video is None:
        lines.append("  video        none (audio only)")
    else:
        exactness = "exact" if video.frame_count_exact else "estimated"
        lines.append(
            f"  video #{video.index:<5} {video.codec} {video.width}x{video.height} {video.pixel_format or ''}, "
            f"{ratio_to_json(video.rate)} fps {video.rate_mode.upper()}, {video.frame_count} frames ({exactness})"
        )
        keyframes = "" if video.keyframe_interval is None else f", keyframes every {float(video.keyframe_interval):.3g} s"
        lines.append(
            f"               time base {ratio_to_json(video.time_base)}, starts at {float(video.start):g} s{keyframes}"
        )
        if video.rotation:
            shown_width, shown_height = video.display_size
            lines.append(f"               rotated {video.rotation}° for display ({shown_width}x{shown_height})")
        if video.pixel_aspect != 1:
            upright_width, upright_height = video.display_size
            shown = f"{round(upright_width * video.pixel_aspect)}x{upright_height}"
            aspect = video.pixel_aspect
            lines.append(f"               pixel aspect {aspect.numerator}:{aspect.denominator} (shown {shown})")
        if video.timecode is not None:
            frame = f" = frame {video.timecode_frame}" if video.timecode_frame is not None else ""
            lines.append(f"  timecode     {video.timecode} ({video.timecode_source}){frame}")
    if not info.audio:
        lines.append("  audio        none")
    for stream in info.audio:
        language = f", {stream.language}" if stream.language else ""
        lines.append(
            f"  audio #{stream.index:<5} {stream.codec} {stream.sample_rate} Hz, {stream.channels} ch"
            f" ({stream.layout or 'unknown layout'}){language}"
        )
    for subtitle in info.subtitles:
        kind = "text" if subtitle.is_text else "bitmap, no text"
        language = f", {subtitle.language}" if subtitle.language else ""
        lines.append(f"  subtitles #{subtitle.index:<1} {subtitle.codec} ({kind}{language})")
    for sidecar in info.sidecar_subtitles:
        lines.append(f"  sidecar      {Path(sidecar).name}")
    created = info.video.creation_time if info.video is not None and info.video.creation_time else info.creation_time
    lines.append(f"  created      {'unknown' if created is None else created.isoformat()}")
    return "\n".join(lines)


def format_score(score: float) -> str:
    """Two decimals, but never a non-zero score shown as 0.00: small ones keep two significant digits (0.0012)."""
    return f"{score:.2f}" if score == 0 or abs(score) >= 0.005 else f"{score:.2g}"


def plural(count: int, noun: str) -> str:
    """`1 moment`, `2 moments`, `0 moments` (nouns here all take an s)."""
    return f"{count} {noun}" + ("" if count == 1 else "s")

