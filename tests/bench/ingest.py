"""Ingest benchmark: how fast reelmark reads video, measured against anchors on the same file in the same run.

What it measures, on a 60 s 1080p30 H.264 clip (generated once and cached, or any file given with --clip) in one
of two profiles: `web` (about 4 Mbit/s, the default) or `camera` (about 13 Mbit/s):

- ours, 1 fps luma at full resolution: what the cut and motion engines ask for;
- ours, 1 fps RGB reduced to 448 px on the long side: what a VLM engine asks for;
- ours, every frame as luma: the full-decode path;
- ours, keyframes only: the preview path;

and, as anchors that give those numbers a meaning:

- "naive PyAV loop": decode every frame with PyAV's default settings, convert each to RGB and keep one per
  second. This is what most scripts do, so it is the baseline our 1 fps sampling has to beat (target ≥ 1.3×).
- "PyAV threaded decode": decode of every frame with `thread_type="AUTO"` and no conversion, the fastest PyAV
  can go. Our full decode cannot beat it, only approach it (target: within 10 %).
- "PyAV default decode": the same with PyAV's defaults (slice threads, automatic count), to show what asking for
  frame threads is worth on this machine.

Exact 1 fps sampling must decode every reference frame, and an x264 stream of grainy footage is nearly all
reference frames, so its speed-up over the naive loop is bounded by (decode + per-frame RGB) / decode: the higher
the bitrate, the larger decode's share and the smaller that bound (see `--profile camera`).
- `ffmpeg -f null`: FFmpeg's own decode speed, the ceiling under PyAV, when the CLI is installed.

Every method runs --repeat times; the runs go round-robin over the methods so that drift on a noisy machine
(thermal throttling, a neighbour's load) falls on all of them alike. Reported: median and min–max wall seconds,
frames delivered per second, and × realtime (media duration / wall time).

Run it with `make bench` or `.venv/bin/python tests/bench/ingest.py` (`--help` for the options). It is a script,
not a test: pytest does not collect it.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import partial
from pathlib import Path

import av

from reelmark.core.media import probe, sample_frames
from reelmark.core.media.synthetic import ClipSpec, write_clip
from reelmark.core.media.types import MediaInfo

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE_DIR = REPO_ROOT / "build" / "bench"
BASE_SPEC = ClipSpec(
    width=1920,
    height=1080,
    rate=Fraction(30),
    frame_count=1800,
    cuts=(450, 900, 1350),
    pan_pixels_per_frame=3,
    preset="veryfast",
    moving_box=True,
)
# Synthetic grain sets the bitrate, and the bitrate sets how much of the time is decoding (x264 is very
# non-linear here: crf 19 vs 18 at the same grain is 3.8 vs 13 Mbit/s).
PROFILES = {
    "web": replace(BASE_SPEC, grain=2.0, crf=19),  # about 4 Mbit/s: streaming-site 1080p30
    "camera": replace(BASE_SPEC, grain=2.0, crf=18),  # about 13 Mbit/s: a 1080p30 camera file
}
SPEEDUP_TARGET = 1.3
FULL_DECODE_TARGET = 0.90


@dataclass(frozen=True)
class Method:
    """One way of reading the clip; `run` returns how many frames it delivered."""

    key: str
    label: str
    run: Callable[[Path], int]
    sampler_options: dict[str, object] | None = None
    """For our methods, the `sample_frames` options, so the header can show the plan they lead to."""


@dataclass
class Measurement:
    """Wall times and delivered frame counts of one method over all repeats."""

    seconds: list[float] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


# --- the clip -------------------------------------------------------------------------------------------------


def clip_name(spec: ClipSpec) -> str:
    """A readable cache key; the digest covers every spec field, so a changed spec never reuses a stale clip."""
    digest = hashlib.sha256(repr(spec).encode()).hexdigest()[:8]
    cuts = "_".join(map(str, spec.cuts)) or "none"
    return (
        f"bench-{spec.width}x{spec.height}-{spec.rate}fps-{spec.frame_count}f-cuts{cuts}"
        f"-pan{spec.pan_pixels_per_frame}-{spec.preset}-crf{spec.crf}-{digest}.mp4"
    )


def print_encode_progress(done: int, total: int) -> None:
    """Encoding 1080p takes a minute or two; a line per 10 % shows it is alive without flooding a log file."""
    step = max(1, total // 10)
    if done % step == 0 or done == total:
        print(f"  encoding {done}/{total} frames ({100 * done // total}%)", flush=True)


def cached_clip(cache_dir: Path, spec: ClipSpec) -> Path:
    """The bench clip, encoded on first use; written under a temporary name so an interrupted run is not reused."""
    target = cache_dir / clip_name(spec)
    if target.exists():
        print(f"clip: reusing {target}")
        return target
    print(f"clip: encoding {target}")
    partial_path = target.with_name(target.stem + ".partial.mp4")
    started = time.perf_counter()
    write_clip(partial_path, spec, progress=print_encode_progress)
    partial_path.replace(target)
    print(f"  encoded in {time.perf_counter() - started:.1f} s")
    return target


def warm_page_cache(path: Path) -> None:
    """Read the file once so the first timed method does not pay for disk reads the others skip."""
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass


def count_keyframes(path: Path) -> int:
    """Keyframe packets in the video stream: the count the keyframes-only path must deliver."""
    with av.open(str(path)) as container:
        return sum(1 for packet in container.demux(video=0) if packet.is_keyframe and packet.size)


# --- the methods ----------------------------------------------------------------------------------------------


def run_ours(path: Path, options: dict[str, object]) -> int:
    """Iterate a sampler as an engine would, keeping only the count (the images are released as we go)."""
    return sum(1 for _ in sample_frames(path, **options))


def run_naive_loop(path: Path) -> int:
    """The common script: default decoder settings, RGB for every frame, keep the first frame of each second."""
    kept = []
    next_second = 0
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="rgb24")
            if frame.time is not None and frame.time >= next_second:
                kept.append(image)
                next_second = math.floor(frame.time) + 1
    return len(kept)


def run_pyav_decode(path: Path, threaded: bool) -> int:
    """Decode every frame and convert nothing: the decode cost alone, with or without frame threads."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if threaded:
            stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def run_ffmpeg(path: Path, frame_count: int) -> int:
    """FFmpeg's CLI decoding to nothing; it reports no count, so the probed frame count stands for it."""
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "0", "-i", str(path), "-f", "null", "-"]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    return frame_count


def ours(key: str, label: str, **options: object) -> Method:
    return Method(key, label, partial(run_ours, options=options), sampler_options=options)


def build_methods(info: MediaInfo) -> list[Method]:
    """All methods, ours first, in the order they run within each repeat."""
    assert info.video is not None
    methods = [
        ours("fps1-luma", "ours: 1 fps, luma, full res", fps=1, color="luma"),
        ours("fps1-rgb448", "ours: 1 fps, RGB, max_side=448", fps=1, color="rgb", max_side=448),
        ours("full-luma", "ours: every frame, luma", color="luma"),
        ours("keyframes", "ours: keyframes only, luma", keyframes_only=True, color="luma"),
        Method("naive", "anchor: naive PyAV loop (RGB, 1/s)", run_naive_loop),
        Method("pyav-threaded", "anchor: PyAV threaded decode", partial(run_pyav_decode, threaded=True)),
        Method("pyav-default", "anchor: PyAV default decode", partial(run_pyav_decode, threaded=False)),
    ]
    if shutil.which("ffmpeg"):
        run = partial(run_ffmpeg, frame_count=info.video.frame_count)
        methods.append(Method("ffmpeg", "anchor: ffmpeg -f null", run))
    return methods


def expected_frames(info: MediaInfo, path: Path, keys: set[str]) -> dict[str, int]:
    """What each method should deliver, from the probe and a packet scan, to catch a reader that drops frames."""
    assert info.video is not None
    duration = info.video.duration or info.duration or Fraction(0)
    per_second = math.ceil(duration)
    expected = {"fps1-luma": per_second, "fps1-rgb448": per_second, "naive": per_second}
    for key in ("full-luma", "pyav-threaded", "pyav-default"):
        expected[key] = info.video.frame_count
    if "keyframes" in keys:
        expected["keyframes"] = count_keyframes(path)
    return expected


# --- running --------------------------------------------------------------------------------------------------


def time_once(method: Method, path: Path) -> tuple[float, int]:
    """One timed run; garbage from the previous method is collected first so it is not charged to this one."""
    gc.collect()
    started = time.perf_counter()
    frames = method.run(path)
    return time.perf_counter() - started, frames


def measure(methods: list[Method], path: Path, repeat: int) -> dict[str, Measurement]:
    """Round-robin: every repeat runs every method once, so slow drift affects all methods alike."""
    results = {method.key: Measurement() for method in methods}
    for round_index in range(1, repeat + 1):
        for method in methods:
            seconds, frames = time_once(method, path)
            results[method.key].seconds.append(seconds)
            results[method.key].frames.append(frames)
            print(f"  [{round_index}/{repeat}] {method.key:<14} {seconds:7.2f} s  {frames:5d} frames", flush=True)
    return results


# --- reporting ------------------------------------------------------------------------------------------------


def print_header(path: Path, info: MediaInfo) -> None:
    """Machine and clip facts, so numbers from different runs can be compared, or told apart."""
    assert info.video is not None
    video = info.video
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    interval = video.keyframe_interval
    duration = video.duration or info.duration
    print()
    print("machine")
    print(f"  platform   {platform.platform()}")
    print(f"  CPUs       {os.cpu_count()} (usable: {affinity})")
    print(f"  python     {platform.python_version()} ({platform.python_implementation()})")
    print(f"  av         {av.__version__} (FFmpeg {av.ffmpeg_version_info})")
    print("clip")
    print(f"  file       {path} ({info.size_bytes / 2**20:.1f} MiB)")
    shape = f"{video.width}x{video.height} {video.pixel_format}"
    print(f"  video      {video.codec} {shape}, {video.rate} fps {video.rate_mode}")
    print(f"  frames     {video.frame_count}{'' if video.frame_count_exact else ' (estimated)'}")
    print(f"  duration   {float(duration):.3f} s" if duration is not None else "  duration   unknown")
    if interval is None:
        print("  keyframes  interval unknown")
    else:
        print(f"  keyframes  every {float(interval):.3f} s ({float(interval * video.rate):.0f} frames)")


def print_plans(methods: list[Method], path: Path, info: MediaInfo) -> None:
    """Our sampler's own account of how it will read the file: the reason behind each of our numbers."""
    print("plans")
    for method in methods:
        if method.sampler_options is not None:
            plan = sample_frames(path, info=info, **method.sampler_options).plan
            print(f"  {method.key:<14} {plan.strategy}: {plan.reason}")


def frames_check(measurement: Measurement, expected: int | None) -> str:
    """'ok', or what is wrong: a count that differs from what the file holds or varies between repeats."""
    counts = sorted(set(measurement.frames))
    if len(counts) > 1:
        return f"VARIES {counts}"
    if expected is None:
        return "-"
    return "ok" if counts[0] == expected else f"WRONG (expected {expected})"


def print_table(
    methods: list[Method], results: dict[str, Measurement], expected: dict[str, int], duration: float
) -> None:
    """One row per method: median and spread of wall time, throughput, and whether the frame count is right."""
    print()
    columns = f"{'frames':>6} {'median s':>9} {'min–max s':>13} {'frames/s':>9} {'× realtime':>10}"
    print(f"{'method':<36} {columns}  check")
    for method in methods:
        measurement = results[method.key]
        median = measurement.median
        frames = statistics.median(measurement.frames)
        spread = f"{min(measurement.seconds):.2f}–{max(measurement.seconds):.2f}"
        print(
            f"{method.label:<36} {frames:>6.0f} {median:>9.2f} {spread:>13} {frames / median:>9.1f} "
            f"{duration / median:>9.1f}×  {frames_check(measurement, expected.get(method.key))}"
        )
    print("frames/s counts frames delivered (one per second when sampling), not frames decoded")


def fps_of(results: dict[str, Measurement], key: str) -> float:
    measurement = results[key]
    return statistics.median(measurement.frames) / measurement.median


def verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def print_ratios(results: dict[str, Measurement], ffmpeg_note: str | None) -> None:
    """The acceptance targets, and the ratios that put them in context; a ratio whose inputs were skipped says so."""
    print()
    print("ratios")
    for key in ("fps1-luma", "fps1-rgb448"):
        if key in results and "naive" in results:
            speedup = results["naive"].median / results[key].median
            print(
                f"  {key} vs naive PyAV loop: {speedup:.2f}× faster "
                f"(target ≥ {SPEEDUP_TARGET}×) {verdict(speedup >= SPEEDUP_TARGET)}"
            )
        else:
            print(f"  {key} vs naive PyAV loop: not measured (--only)")
    if "full-luma" in results and "pyav-threaded" in results:
        share = fps_of(results, "full-luma") / fps_of(results, "pyav-threaded")
        print(
            f"  full decode vs PyAV threaded ceiling: {100 * share:.1f}% "
            f"(target ≥ {100 * FULL_DECODE_TARGET:.0f}%) {verdict(share >= FULL_DECODE_TARGET)}"
        )
    else:
        print("  full decode vs PyAV threaded ceiling: not measured (--only)")
    if "pyav-threaded" in results and "pyav-default" in results:
        gain = fps_of(results, "pyav-threaded") / fps_of(results, "pyav-default")
        print(f"  PyAV threaded vs default decode: {gain:.2f}× (what asking for frame threads is worth here)")
    if ffmpeg_note is not None:
        print(f"  ffmpeg: {ffmpeg_note}")
    elif "ffmpeg" in results:
        for key in ("full-luma", "pyav-threaded"):
            if key in results:
                print(f"  {key} vs ffmpeg -f null: {100 * fps_of(results, key) / fps_of(results, 'ffmpeg'):.1f}%")


# --- entry point ----------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (default 3)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the bench clip is cached")
    parser.add_argument("--only", help="comma-separated method keys to run (default: all)")
    parser.add_argument("--clip", type=Path, help="benchmark this file instead of the generated clip")
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default="web", help="bitrate of the generated clip (default web)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.clip is not None and not args.clip.is_file():
        parser.error(f"--clip {args.clip}: no such file")
    return args


def select(methods: list[Method], only: str | None) -> list[Method]:
    """The methods named by --only, in run order; an unknown key is an error, not a silently empty run."""
    if only is None:
        return methods
    wanted = {key.strip() for key in only.split(",") if key.strip()}
    known = {method.key for method in methods} | {"ffmpeg"}
    unknown = wanted - known
    if unknown:
        raise SystemExit(f"unknown method key(s): {', '.join(sorted(unknown))}; choose from {', '.join(sorted(known))}")
    return [method for method in methods if method.key in wanted]


def ffmpeg_skip_reason(only: str | None) -> str | None:
    """Why the ffmpeg anchor did not run, or None when it did."""
    if only is not None and "ffmpeg" not in only.split(","):
        return None
    if shutil.which("ffmpeg") is None:
        return "anchor skipped: the ffmpeg CLI is not on PATH"
    return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.clip.resolve() if args.clip is not None else cached_clip(args.cache_dir, PROFILES[args.profile])
    if args.clip is None:
        print(f"profile: {args.profile}")
    info = probe(path)
    if info.video is None:
        raise SystemExit(f"{path} has no video stream")
    warm_page_cache(path)
    methods = select(build_methods(info), args.only)
    ffmpeg_note = ffmpeg_skip_reason(args.only)
    expected = expected_frames(info, path, {method.key for method in methods})
    duration = float(info.video.duration or info.duration or 0)
    print_header(path, info)
    print_plans(methods, path, info)
    if ffmpeg_note is not None:
        print(f"ffmpeg {ffmpeg_note}")
    print(f"\nrunning {len(methods)} methods × {args.repeat} repeats, round-robin")
    results = measure(methods, path, args.repeat)
    print_table(methods, results, expected, duration)
    print_ratios(results, ffmpeg_note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
