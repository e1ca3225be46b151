"""What the vlm engine's frame path costs and how far each resize strategy is from the official one (#15).

For each corpus clip (1080p and 720p by default), frames are sampled at 2 fps on the engine's uniform grid and
resized to the planner's size by three paths, each compared with the official single resize (bicubic with
antialiasing from the full-size frame, as torchvision resizes a uint8 tensor):

- `full`: full-size RGB from the decoder, one resize (what the engine does);
- `swscale`: the decoder shrinks by an integer step first (PyAV's default swscale filter), then the resize
  (what the engine did before #15);
- `area`: the decoder shrinks with swscale's area filter to about twice the target, then the resize (the
  alternative the issue names).

It prints, per path, milliseconds per frame (decode + convert + resize, 2 CPU cores shared) and the pixel
difference from the official result: mean, share of values more than 1 and more than 8 grey levels off, max.

    .venv/bin/python tests/bench/vlm_inputs.py [--clips frame_debugger_0h.mov,bigbuckbunny.mp4] [--seconds 4]
"""

from __future__ import annotations

import argparse
import math
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from reelmark.core.engines.vlm.planner import DEFAULT_MAX_PIXELS
from reelmark.core.engines.vlm.video import fit_size, resize_frames
from reelmark.core.media import probe, sample_frames

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "media"


def _resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    return resize_frames(image[None], height, width)[0].permute(1, 2, 0).to(torch.uint8).numpy()


def measure(path: Path, seconds: int) -> None:
    info = probe(path)
    assert info.video is not None
    source_w, source_h = info.video.display_size
    height, width = fit_size(source_h, source_w, 28, 28 * 28, DEFAULT_MAX_PIXELS)
    end = min(Fraction(seconds), info.duration or Fraction(seconds))
    step = max(1, min(source_w // width, source_h // height))
    paths = {
        "full": {},
        "swscale": {"max_side": math.ceil(max(source_w, source_h) / step)},
    }
    results: dict[str, tuple[float, list[np.ndarray]]] = {}
    for name, options in paths.items():
        began = time.perf_counter()
        frames = [
            _resize(sample.image, height, width)
            for sample in sample_frames(path, fps=2, end=end, uniform_grid=True, info=info, **options)
        ]
        results[name] = ((time.perf_counter() - began) * 1000 / len(frames), frames)
    results["area"] = _area_path(path, end, height, width)
    official = results["full"][1]
    print(f"{path.name} {source_w}x{source_h} → {width}x{height}, {len(official)} frames")
    for name, (milliseconds, frames) in results.items():
        difference = np.abs(np.stack(frames).astype(int) - np.stack(official).astype(int))
        print(
            f"  {name:8s} {milliseconds:7.1f} ms/frame   mean diff {difference.mean():.3f}   "
            f">1: {100 * (difference > 1).mean():.2f} %   >8: {100 * (difference > 8).mean():.2f} %   max {difference.max()}"
        )


def _area_path(path: Path, end: Fraction, height: int, width: int) -> tuple[float, list[np.ndarray]]:
    """swscale's area filter to twice the target (never above the source), then the same resize."""
    import av

    chosen = {sample.pts for sample in sample_frames(path, fps=2, end=end, uniform_grid=True, color="luma", max_side=16)}
    began = time.perf_counter()  # decoding every frame, as a sequential sampler does at these keyframe intervals
    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts in chosen:
                scaled = frame.reformat(
                    width=min(frame.width, 2 * width), height=min(frame.height, 2 * height), format="rgb24", interpolation="AREA"
                )
                frames.append(_resize(scaled.to_ndarray(), height, width))
    return (time.perf_counter() - began) * 1000 / max(1, len(frames)), frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default="frame_debugger_0h.mov,bigbuckbunny.mp4")
    parser.add_argument("--seconds", type=int, default=4)
    options = parser.parse_args()
    torch.set_num_threads(2)
    for name in options.clips.split(","):
        measure(CORPUS / name, options.seconds)


if __name__ == "__main__":
    main()
