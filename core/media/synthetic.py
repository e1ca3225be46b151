"""Synthetic clips with known ground truth, written by PyAV (libx264, AAC, mov_text/subrip).

Tests, the demo and the ingest benchmark need media whose every fact is known in advance: where the cuts are,
where a fade runs, which frame flashes, where the moving box is on every frame, which audio span is silence,
tone or noise at what level, what the subtitles say and when. `write_clip` draws and encodes such a clip and
returns `ClipTruth`, computed from the spec, never read back from the file, so tests compare two independent
sources.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.subtitles.subtitle import SubtitleSet

AudioKind = Literal["silence", "tone", "noise"]
ProgressCallback = Callable[[int, int], None]

# Luma/chroma of successive scenes: far apart in brightness and hue, so every cut is unambiguous.
SCENE_PALETTE = ((70, 90, 170), (160, 170, 80), (110, 60, 110), (200, 128, 150), (40, 150, 140))
BOX_LUMA = 235
FLASH_LUMA = 235
# A short ASS script header: text subtitle encoders parse it before they accept cues.
_ASS_HEADER = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n[V4+ Styles]\n"
    b"Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
    b"Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
    b"MarginR, MarginV, Encoding\nStyle: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,"
    b"10,10,10,0\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
_SUBTITLE_CODECS = {".mp4": "mov_text", ".mov": "mov_text", ".m4v": "mov_text", ".mkv": "subrip"}
# Frame durations of the VFR variant, in 1/90000 s: 1/30, 1/20 and 1/40 of a second in turn.
VFR_PATTERN = (3000, 4500, 2250)
VFR_TIME_BASE = Fraction(1, 90000)


@dataclass(frozen=True)
class AudioSegment:
    start: Fraction
    end: Fraction
    kind: AudioKind
    level_dbfs: float = -20.0
    """RMS level in dB relative to a full-scale square wave (a full-scale sine is −3 dBFS)."""
    frequency: float = 1000.0


@dataclass(frozen=True)
class SubtitleCue:
    start: Fraction
    end: Fraction
    text: str


@dataclass(frozen=True)
class ClipSpec:
    """What to draw. Frame indices count from 0; `cuts` are the first frames of new scenes."""

    width: int = 320
    height: int = 180
    rate: Fraction = Fraction(25)
    frame_count: int = 100
    cuts: tuple[int, ...] = ()
    fade_out: tuple[int, int] | None = None
    """Frames [a, b) dim linearly to black; frame b−1 and later frames of that scene are black."""
    dissolves: tuple[tuple[int, int], ...] = ()
    """Frames [a, b) cross-fade into the next scene; b must be one of `cuts` (the first frame fully new)."""
    flash_frames: tuple[int, ...] = ()
    moving_box: bool = True
    pan_pixels_per_frame: int = 0
    """Scroll the background texture, so every frame changes as in real footage."""
    motion_bursts: tuple[tuple[int, int], ...] = ()
    """Frames [a, b) where the background shakes hard (`BURST_PAN` px a frame, alternating), as in action."""
    grain: float = 0.0
    """Standard deviation of per-frame luma noise: camera grain, which gives real-world bitrates (and decode cost)."""
    vfr: bool = False
    gop: int | None = None
    """Fixed keyframe interval in frames; None leaves x264's default (250, plus scene cuts)."""
    timecode: str | None = None
    rotation: int = 0
    sample_aspect_ratio: Fraction | None = None
    """Pixels this many times as wide as tall when shown (4:3 for HDV's 1440×1080); None writes square ones."""
    audio: tuple[AudioSegment, ...] = ()
    audio_rate: int = 48000
    subtitles: tuple[SubtitleCue, ...] = ()
    video: bool = True
    faststart: bool = False
    """Put the MP4 index first, as streaming exports do (a truncated copy then still opens)."""
    preset: str = "veryfast"
    crf: int = 23
    seed: int = 7


@dataclass(frozen=True)
class ClipTruth:
    """Ground truth of a written clip, computed from its spec."""

    path: Path
    spec: ClipSpec
    frame_times: tuple[Fraction, ...]
    boxes: tuple[tuple[float, float, float, float] | None, ...]
    """Per frame, the moving box as (x0, y0, x1, y1) in [0, 1] of the stored picture; None where not drawn."""
    duration: Fraction
    audio: tuple[AudioSegment, ...] = field(default=())
    subtitles: tuple[SubtitleCue, ...] = field(default=())

    @property
    def cut_times(self) -> tuple[Fraction, ...]:
        return tuple(self.frame_times[index] for index in self.spec.cuts)


def frame_times(spec: ClipSpec) -> tuple[Fraction, ...]:
    """Presentation time of every frame: i / rate, or the VFR pattern's running sum."""
    if not spec.vfr:
        return tuple(Fraction(index) / spec.rate for index in range(spec.frame_count))
    times, ticks = [], 0
    for index in range(spec.frame_count):
        times.append(ticks * VFR_TIME_BASE)
        ticks += VFR_PATTERN[index % len(VFR_PATTERN)]
    return tuple(times)


def clip_duration(spec: ClipSpec) -> Fraction:
    if not spec.video:
        return max((segment.end for segment in spec.audio), default=Fraction(0))
    # The encoder cannot know how long the last frame shows, so it gives it the nominal 1/rate, VFR or not.
    return frame_times(spec)[-1] + 1 / spec.rate


def box_at(spec: ClipSpec, index: int) -> tuple[int, int, int, int] | None:
    """The moving box in pixels (x0, y0, x1, y1), exclusive ends: left to right across the clip, bobbing."""
    if not spec.moving_box:
        return None
    side = max(4, spec.height // 5) // 2 * 2
    progress = index / max(1, spec.frame_count - 1)
    x0 = round(progress * (spec.width - side))
    y0 = round((spec.height - side) / 2 + math.sin(progress * 2 * math.pi) * (spec.height - side) / 4)
    return x0, y0, x0 + side, y0 + side


def _scene_of(spec: ClipSpec, index: int) -> int:
    return sum(1 for cut in spec.cuts if cut <= index)


def _fade_gain(spec: ClipSpec, index: int) -> float:
    if spec.fade_out is None:
        return 1.0
    first, stop = spec.fade_out
    if index < first or _scene_of(spec, index) != _scene_of(spec, first):
        return 1.0
    if index >= stop - 1:
        return 0.0
    return (stop - 1 - index) / (stop - first)


BURST_PAN = 24


def _dissolve_progress(spec: ClipSpec, index: int) -> float:
    """0 outside dissolves; inside [a, b), how far the picture has turned into the next scene (0 < p < 1)."""
    for first, stop in spec.dissolves:
        if first <= index < stop:
            return (index - first + 1) / (stop - first + 1)
    return 0.0


def _pan_offset(spec: ClipSpec, index: int) -> int:
    offset = index * spec.pan_pixels_per_frame
    for first, stop in spec.motion_bursts:
        if first <= index < stop:
            offset += BURST_PAN * (index - first) * (1 if (index - first) % 2 == 0 else -1)
    return offset % spec.width


class _Painter:
    """Draws yuv420p frames from a spec; the texture is fixed per scene and scrolls if asked."""

    def __init__(self, spec: ClipSpec):
        self.spec = spec
        rows = np.arange(spec.height, dtype=np.float32)[:, None]
        cols = np.arange(2 * spec.width, dtype=np.float32)[None, :]
        # Each scene has its own texture (as different shots show different things), not only its own brightness:
        # otherwise a cut or dissolve would look like an exposure change to anything that compares structure.
        self.textures = [
            (12 * np.sin(cols / (23.0 + 7 * scene)) * np.cos(rows / (17.0 - 2 * scene))
             + 8 * np.sin((cols * (1 + scene % 2) + rows * (1 + scene // 2)) / (41.0 - 5 * scene))).astype(np.float32)
            for scene in range(len(SCENE_PALETTE))
        ]  # fmt: skip
        generator = np.random.default_rng(spec.seed)
        # A bank of grain fields, shifted per frame: fresh-looking noise without drawing millions of samples a frame.
        self.grain = [generator.normal(0, spec.grain, (spec.height, spec.width)).astype(np.float32) for _ in range(8)]

    def frame(self, index: int) -> np.ndarray:
        spec = self.spec
        height, width = spec.height, spec.width
        scene = _scene_of(spec, index)
        luma_level, u_level, v_level = SCENE_PALETTE[scene % len(SCENE_PALETTE)]
        blend = _dissolve_progress(spec, index)
        if blend:
            next_levels = SCENE_PALETTE[(scene + 1) % len(SCENE_PALETTE)]
            luma_level, u_level, v_level = (
                round((1 - blend) * current + blend * upcoming)
                for current, upcoming in zip((luma_level, u_level, v_level), next_levels, strict=True)
            )
        offset = _pan_offset(spec, index)
        luma = luma_level + self.textures[scene % len(self.textures)][:, offset : offset + width]
        if blend:
            upcoming = self.textures[(scene + 1) % len(self.textures)][:, offset : offset + width]
            luma = (1 - blend) * luma + blend * (luma_level + upcoming)
        box = box_at(spec, index)
        if box is not None:
            x0, y0, x1, y1 = box
            luma[y0:y1, x0:x1] = BOX_LUMA
        if spec.grain:
            luma += np.roll(self.grain[index % len(self.grain)], (index * 7) % height, axis=0)
        gain = _fade_gain(spec, index)
        if index in spec.flash_frames:
            luma[:] = FLASH_LUMA
        luma = np.clip(16 + (luma - 16) * gain, 16, 235).astype(np.uint8)
        chroma_u = np.full((height // 2, width // 2), round(128 + (u_level - 128) * gain), np.uint8)
        chroma_v = np.full((height // 2, width // 2), round(128 + (v_level - 128) * gain), np.uint8)
        if index in spec.flash_frames:
            chroma_u[:] = chroma_v[:] = 128
        return np.concatenate([luma, chroma_u.reshape(height // 4, width), chroma_v.reshape(height // 4, width)])


def audio_samples(spec: ClipSpec, duration: Fraction) -> np.ndarray:
    """Mono float32 for the whole clip: silence except where a segment says tone or noise."""
    total = math.ceil(duration * spec.audio_rate)
    samples = np.zeros(total, dtype=np.float32)
    generator = np.random.default_rng(spec.seed)
    for segment in spec.audio:
        first = round(segment.start * spec.audio_rate)
        stop = min(total, round(segment.end * spec.audio_rate))
        rms = 10 ** (segment.level_dbfs / 20)
        if segment.kind == "tone":
            phase = 2 * np.pi * segment.frequency * np.arange(first, stop) / spec.audio_rate
            samples[first:stop] = rms * math.sqrt(2) * np.sin(phase)
        elif segment.kind == "noise":
            samples[first:stop] = _band_limited_noise(generator, stop - first, spec.audio_rate, rms)
    return samples


NOISE_BAND_HZ = 6000.0


def _band_limited_noise(generator: np.random.Generator, count: int, rate: int, rms: float) -> np.ndarray:
    """Gaussian noise below 6 kHz at an exact RMS: AAC's low-pass and resampling to 16 kHz both keep all of it,
    so the level a reader measures is the level the spec states."""
    spectrum = np.fft.rfft(generator.normal(0, 1, count))
    spectrum[np.fft.rfftfreq(count, 1 / rate) > NOISE_BAND_HZ] = 0
    noise = np.fft.irfft(spectrum, count)
    return np.clip(noise * (rms / np.sqrt(np.mean(noise**2))), -1, 1).astype(np.float32)


def write_clip(path: str | Path, spec: ClipSpec, progress: ProgressCallback | None = None) -> ClipTruth:
    """Encode the clip to `path` (container from the extension) and return its ground truth."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if spec.video and (spec.width % 4 or spec.height % 4):
        raise ValueError("width and height must be multiples of 4 (yuv420p chroma is drawn in 2×2 blocks)")
    times = frame_times(spec) if spec.video else ()
    duration = clip_duration(spec)
    options = {"movflags": "faststart"} if spec.faststart else {}
    with av.open(str(target), mode="w", options=options) as container:
        video_stream = _add_video_stream(container, spec) if spec.video else None
        audio_stream = container.add_stream("aac", rate=spec.audio_rate, layout="mono") if spec.audio else None
        subtitle_stream = _add_subtitle_stream(container, target.suffix.lower()) if spec.subtitles else None
        audio = audio_samples(spec, duration) if audio_stream is not None else None
        audio_written = 0
        painter = _Painter(spec)
        steps = len(times) if spec.video else 1
        for index in range(steps):
            if video_stream is not None:
                frame = av.VideoFrame.from_ndarray(painter.frame(index), format="yuv420p")
                frame.pts = round(times[index] / video_stream.codec_context.time_base)
                container.mux(video_stream.encode(frame))
            if audio_stream is not None and audio is not None:
                until = len(audio) if index == steps - 1 else round((times[index] + 1 / spec.rate) * spec.audio_rate)
                audio_written = _encode_audio(container, audio_stream, audio, audio_written, until)
            if progress is not None:
                progress(index + 1, steps)
        if video_stream is not None:
            container.mux(video_stream.encode(None))
        if audio_stream is not None:
            container.mux(audio_stream.encode(None))
        if subtitle_stream is not None:
            _encode_subtitles(container, subtitle_stream, spec.subtitles)
    boxes = tuple(_normalised_box(spec, index) for index in range(len(times)))
    return ClipTruth(target, spec, times, boxes, duration, spec.audio, spec.subtitles)


def _add_video_stream(container: av.container.OutputContainer, spec: ClipSpec) -> av.video.stream.VideoStream:
    stream = container.add_stream("libx264", rate=spec.rate)
    stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
    options = {"preset": spec.preset, "crf": str(spec.crf)}
    if spec.gop is not None:
        options["x264-params"] = f"keyint={spec.gop}:min-keyint={spec.gop}:scenecut=0"
    stream.codec_context.options = options
    stream.codec_context.time_base = VFR_TIME_BASE if spec.vfr else 1 / spec.rate
    if spec.vfr:
        stream.time_base = VFR_TIME_BASE
    if spec.timecode:
        stream.metadata["timecode"] = spec.timecode
    if spec.rotation:
        stream.set_display_rotation(spec.rotation)
    if spec.sample_aspect_ratio is not None:
        stream.codec_context.sample_aspect_ratio = spec.sample_aspect_ratio
    return stream


def _add_subtitle_stream(container: av.container.OutputContainer, suffix: str) -> av.stream.Stream:
    codec = _SUBTITLE_CODECS.get(suffix)
    if codec is None:
        raise ValueError(f"no text subtitle codec for {suffix} files; use .mp4, .mov or .mkv")
    stream = container.add_stream(codec)
    stream.codec_context.subtitle_header = _ASS_HEADER
    stream.codec_context.time_base = Fraction(1, 1000)
    return stream


def _encode_audio(
    container: av.container.OutputContainer, stream: av.audio.stream.AudioStream, audio: np.ndarray, written: int, until: int
) -> int:
    """Encode whole 1024-sample AAC frames up to `until` (the rest on the last call); returns samples written."""
    frame_size = 1024
    while written < until and (until - written >= frame_size or until == len(audio)):
        chunk = audio[written : written + frame_size]
        frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
        frame.sample_rate = stream.codec_context.sample_rate
        frame.pts = written
        container.mux(stream.encode(frame))
        written += len(chunk)
    return written


def _encode_subtitles(
    container: av.container.OutputContainer, stream: av.stream.Stream, cues: tuple[SubtitleCue, ...]
) -> None:
    for cue in sorted(cues, key=lambda item: item.start):
        start_ms, end_ms = round(cue.start * 1000), round(cue.end * 1000)
        dialogue = b"0,0,Default,,0,0,0,," + cue.text.replace("\n", "\\N").encode("utf-8")
        packets = stream.encode_subtitle(SubtitleSet.create(dialogue, 0, end_ms - start_ms, start_ms))
        for packet in packets if isinstance(packets, list) else [packets]:
            packet.stream = stream
            container.mux(packet)


def _normalised_box(spec: ClipSpec, index: int) -> tuple[float, float, float, float] | None:
    box = box_at(spec, index)
    if box is None or spec.rotation:
        return None
    x0, y0, x1, y1 = box
    return x0 / spec.width, y0 / spec.height, x1 / spec.width, y1 / spec.height


MARKER_BLOCK = 16
"""Width in pixels of the lit block that names a marker clip's frame index (two macroblocks' worth of edge)."""
TimestampDamage = Literal["none", "decode_order", "missing"]


def write_marker_clip(
    path: str | Path, frame_count: int = 24, rate: int = 25, b_frames: int = 2, damage: TimestampDamage = "none"
) -> Path:
    """A clip whose frame k is dark but for a bright block at columns 16k–16k+15 (`marker_index` reads it back).

    The container comes from the extension, as in `write_clip`. `.avi` writes MPEG-4 Part 2 (FFmpeg's `mpeg4`,
    the DivX/Xvid codec) with `b_frames` B-frames; other containers take H.264. `damage` rewrites the packets to
    reproduce broken inputs: `decode_order` stamps every packet with its decode position as its presentation
    time (a careless remux: decoded frames' times run backwards at every B-frame), `missing` drops every
    timestamp (an elementary stream; `.h264` only). Frame k of an intact clip is at k / `rate` on the codec's
    clock (an AVI shifts it by its B-frame delay).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if damage == "missing" and target.suffix.lower() != ".h264":
        raise ValueError("only an .h264 elementary stream can be written without timestamps")
    width, height = MARKER_BLOCK * frame_count, 48
    written = target if damage == "none" else target.with_name(f"{target.stem}.intact{target.suffix}")
    with av.open(str(written), mode="w") as container:
        codec = "mpeg4" if target.suffix.lower() == ".avi" else "libx264"
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.max_b_frames = b_frames
        stream.codec_context.gop_size = 12
        for index in range(frame_count):
            planes = np.full((height * 3 // 2, width), 128, dtype=np.uint8)
            planes[:height] = 16
            planes[:height, MARKER_BLOCK * index : MARKER_BLOCK * (index + 1)] = 235
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    if damage != "none":
        _remux_with_damage(written, target, damage, rate)
        written.unlink()
    return target


def marker_index(image: np.ndarray) -> int:
    """The frame index a `write_marker_clip` frame shows (luma or RGB, full size)."""
    columns = image.reshape(image.shape[0], -1, MARKER_BLOCK, *image.shape[2:]).mean(axis=(0, 2, *range(3, image.ndim + 1)))
    return int(np.argmax(columns))


def _remux_with_damage(source: Path, target: Path, damage: TimestampDamage, rate: int) -> None:
    """Copy the packets, each stamped with its decode position as its presentation time, or with no time."""
    with av.open(str(source)) as reader, av.open(str(target), mode="w") as writer:
        input_stream = reader.streams.video[0]
        output_stream = writer.add_stream_from_template(input_stream)
        packets = (packet for packet in reader.demux(input_stream) if packet.size)
        for order, packet in enumerate(packets):
            stamp = round(Fraction(order, rate) / packet.time_base) if damage == "decode_order" else None
            packet.pts = packet.dts = stamp
            packet.stream = output_stream
            writer.mux(packet)
