"""Frame sampling: exact presentation times, the frame on screen at each instant, strategies, sizes, errors."""

from __future__ import annotations

import bisect
import math
import shutil
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import corpus_files
from reelmark.core.errors import InvalidRangeError, NoVideoStreamError, TruncatedMediaError
from reelmark.core.media import probe, sample_frames
from reelmark.core.media.synthetic import ClipTruth, marker_index, write_marker_clip


def raw_frame_times(path: Path) -> list[Fraction]:
    """Reference: every frame's pts × time_base from a plain PyAV decode."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(frame.pts * stream.time_base for frame in container.decode(stream))


def on_screen(times: list[Fraction], targets: list[Fraction]) -> list[Fraction]:
    """The frame showing at each target (last frame at or before it), each frame once."""
    chosen: list[Fraction] = []
    for target in targets:
        frame = times[bisect.bisect_right(times, target) - 1]
        if not chosen or chosen[-1] != frame:
            chosen.append(frame)
    return chosen


def one_fps_targets(start: Fraction, end: Fraction) -> list[Fraction]:
    return [start + second for second in range(math.ceil(end - start))]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda path: path.name)
def test_one_fps_on_corpus_matches_raw_decode(path: Path) -> None:
    """Acceptance: 1 fps samples carry exactly the container's pts, and are the frames on screen each second."""
    sampler = sample_frames(path, fps=1, color="luma", max_side=64)
    samples = list(sampler)
    raw = raw_frame_times(path)
    assert sampler.media_end is not None
    assert [sample.time for sample in samples] == on_screen(raw, one_fps_targets(raw[0], sampler.media_end))
    time_base = probe(path).video.time_base  # type: ignore[union-attr]
    assert all(sample.pts * time_base == sample.time for sample in samples)


@pytest.mark.parametrize("name", ["cfr25", "ntsc", "vfr", "mkv"])
def test_every_frame_has_its_exact_time(clips: dict[str, ClipTruth], name: str) -> None:
    truth = clips[name]
    samples = list(sample_frames(truth.path, color="luma"))
    assert [sample.time for sample in samples] == list(truth.frame_times)


def test_vfr_sampling_picks_the_frame_on_screen(clips: dict[str, ClipTruth]) -> None:
    truth = clips["vfr"]
    samples = list(sample_frames(truth.path, fps=7, color="luma"))
    targets = [Fraction(index, 7) for index in range(math.ceil(truth.duration * 7))]
    assert [sample.time for sample in samples] == on_screen(list(truth.frame_times), targets)


def test_strategy_follows_the_keyframe_interval(clips: dict[str, ClipTruth]) -> None:
    """DESIGN §4: seek only when keyframes come more often than samples."""
    assert sample_frames(clips["cfr25"].path, fps=1).plan.strategy == "seek"  # keyframes every 0.48 s
    assert sample_frames(clips["longgop"].path, fps=1).plan.strategy == "sequential"  # one keyframe in 4 s
    assert sample_frames(clips["cfr25"].path, fps=5).plan.strategy == "sequential"  # samples every 0.2 s
    assert sample_frames(clips["cfr25"].path, keyframes_only=True).plan.strategy == "keyframes"


@pytest.mark.parametrize("fps", [1, Fraction(3, 2), Fraction(7, 3)])
def test_seek_and_sequential_give_identical_frames(clips: dict[str, ClipTruth], fps: Fraction) -> None:
    path = clips["cfr25"].path
    seek = list(sample_frames(path, fps=fps, color="luma", strategy="seek"))
    sequential = list(sample_frames(path, fps=fps, color="luma", strategy="sequential"))
    assert [sample.time for sample in seek] == [sample.time for sample in sequential]
    for left, right in zip(seek, sequential):
        assert np.array_equal(left.image, right.image)


def test_explicit_times(clips: dict[str, ClipTruth]) -> None:
    truth = clips["cfr25"]
    asked = [Fraction(37, 10), Fraction(1, 2), Fraction(1, 2), "1.01", 0.0]
    samples = list(sample_frames(truth.path, times=asked, color="luma"))
    targets = sorted({Fraction(37, 10), Fraction(1, 2), Fraction(101, 100), Fraction(0)})
    assert [sample.time for sample in samples] == on_screen(list(truth.frame_times), targets)


def test_keyframes_only(clips: dict[str, ClipTruth]) -> None:
    truth = clips["cfr25"]
    samples = list(sample_frames(truth.path, keyframes_only=True, color="luma"))
    gop = truth.spec.gop or 0
    assert [sample.time for sample in samples] == list(truth.frame_times[::gop])
    assert all(sample.key_frame for sample in samples)


def test_range_limits_sampling(clips: dict[str, ClipTruth]) -> None:
    truth = clips["cfr25"]
    samples = list(sample_frames(truth.path, start="1.5", end=3, color="luma"))
    showing_at_start = on_screen(list(truth.frame_times), [Fraction(3, 2)])
    assert [sample.time for sample in samples] == showing_at_start + [t for t in truth.frame_times if 1.5 < t < 3]
    off_grid = list(sample_frames(truth.path, fps=2, start=Fraction(1, 50), end=2, color="luma"))
    assert [sample.time for sample in off_grid] == on_screen(
        list(truth.frame_times), [Fraction(1, 50) + Fraction(index, 2) for index in range(4)]
    )


def test_moving_box_is_where_the_truth_says(clips: dict[str, ClipTruth]) -> None:
    """Each decoded picture belongs to its timestamp: the drawn box sits at the truth's box for that frame."""
    truth = clips["longgop"]
    samples = list(sample_frames(truth.path, color="luma"))
    assert len(samples) == len(truth.boxes)
    for sample, box in zip(samples, truth.boxes):
        assert box is not None
        rows, cols = np.nonzero(sample.image > 215)
        height, width = sample.image.shape
        found = (cols.min() / width, rows.min() / height, (cols.max() + 1) / width, (rows.max() + 1) / height)
        assert found == pytest.approx(box, abs=2.5 / 180), f"frame at {float(sample.time)} s"


def test_cuts_change_the_picture_at_the_right_frame(clips: dict[str, ClipTruth]) -> None:
    truth = clips["longgop"]
    means = [float(sample.image.mean()) for sample in sample_frames(truth.path, color="luma", max_side=80)]
    jumps = [abs(b - a) for a, b in zip(means, means[1:])]
    biggest = sorted(range(len(jumps)), key=jumps.__getitem__)[-len(truth.spec.cuts) :]
    assert sorted(index + 1 for index in biggest) == list(truth.spec.cuts)


def test_luma_matches_rgb_and_sizes_agree(clips: dict[str, ClipTruth]) -> None:
    path = clips["longgop"].path
    luma = next(iter(sample_frames(path, times=[1], color="luma", max_side=100)))
    rgb = next(iter(sample_frames(path, times=[1], color="rgb", max_side=100)))
    assert luma.image.shape == (45, 80) and luma.image.dtype == np.uint8
    assert rgb.image.shape == (45, 80, 3) and rgb.image.dtype == np.uint8
    red, green, blue = (rgb.image[..., channel].astype(np.float32) for channel in range(3))
    luma_from_rgb = 16 + 0.257 * red + 0.504 * green + 0.098 * blue  # BT.601, studio range
    assert float(np.abs(luma_from_rgb - luma.image).mean()) < 4.0
    full = next(iter(sample_frames(path, times=[1], color="rgb")))
    assert full.image.shape == (180, 320, 3)


def test_rotated_video_comes_out_upright(clips: dict[str, ClipTruth]) -> None:
    """A 90° display matrix: frames are turned so the picture is as a player shows it (320 tall, 180 wide)."""
    samples = list(sample_frames(clips["rotated"].path, color="luma"))
    assert samples[0].image.shape == (320, 180)
    rgb = next(iter(sample_frames(clips["rotated"].path, color="rgb", max_side=160)))
    assert rgb.image.shape == (160, 90, 3)
    # Stored, the box moves left to right; turned 90° counter-clockwise, it moves bottom to top.
    first_rows = np.nonzero(samples[0].image > 215)[0]
    last_rows = np.nonzero(samples[-1].image > 215)[0]
    assert first_rows.mean() > last_rows.mean() + 100


def test_truncated_file_is_reported_after_the_frames_it_has(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    """An index-first MP4 cut short still opens; sampling yields what is there, then says it is truncated."""
    intact = clips["faststart"].path
    truncated = tmp_path / "cut.mp4"
    data = intact.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    received = []
    with pytest.raises(TruncatedMediaError, match="incomplete copy"):
        for sample in sample_frames(truncated, fps=2, color="luma"):
            received.append(sample.time)
    assert 0 < len(received) < 12
    assert len(list(sample_frames(intact, fps=2, color="luma"))) == 12


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": 0}, "out of range"),
        ({"fps": 5000}, "out of range"),
        ({"times": [99]}, "outside the media"),
        ({"times": []}, "no timestamps"),
        ({"start": 10}, "past the end"),
        ({"start": -1}, "negative"),
        ({"start": 2, "end": 1}, "not after start"),
    ],
)
def test_absurd_requests_get_clear_errors(clips: dict[str, ClipTruth], options: dict, message: str) -> None:
    with pytest.raises(InvalidRangeError, match=message):
        sample_frames(clips["cfr25"].path, **options)


def test_programming_errors_are_value_errors(clips: dict[str, ClipTruth]) -> None:
    path = clips["cfr25"].path
    for options in ({"fps": 1, "keyframes_only": True}, {"color": "cmyk"}, {"strategy": "fast"}, {"max_side": 1}):
        with pytest.raises(ValueError):
            sample_frames(path, **options)


def test_audio_only_file_has_no_frames(clips: dict[str, ClipTruth]) -> None:
    with pytest.raises(NoVideoStreamError, match="no video stream"):
        sample_frames(clips["audio_only"].path, fps=1)


def test_sampling_is_lazy_and_the_file_can_be_moved_after(clips: dict[str, ClipTruth], tmp_path: Path) -> None:
    """Samples stream one by one: the first arrives before later ones are decoded, and the file is closed after."""
    copy = tmp_path / "copy.mp4"
    shutil.copy(clips["longgop"].path, copy)
    iterator = iter(sample_frames(copy, color="luma"))
    first = next(iterator)
    assert first.time == 0
    rest = list(iterator)
    assert len(rest) == 99
    copy.unlink()


def test_fast_decode_keeps_times_and_nearly_the_pictures(clips: dict[str, ClipTruth]) -> None:
    """Skipping the deblocking filter changes pixels slightly, never which frame or when."""
    path = clips["cfr25"].path
    exact = list(sample_frames(path, color="luma"))
    fast = list(sample_frames(path, color="luma", fast_decode=True))
    assert [sample.time for sample in fast] == [sample.time for sample in exact]
    differences = [float(np.abs(a.image.astype(int) - b.image.astype(int)).mean()) for a, b in zip(exact, fast, strict=True)]
    assert max(differences) < 3.0


@pytest.mark.parametrize(
    ("name", "damage"),
    [
        ("bframes.avi", "none"),  # MPEG-4 Part 2 with B-frames in AVI
        ("decode-order.mkv", "decode_order"),  # H.264 with B-frames, decode-order times on every packet
        ("no-times.h264", "missing"),  # an elementary stream: no timestamps at all
    ],
)
def test_times_strictly_increase_in_display_order(tmp_path: Path, name: str, damage: str) -> None:
    """#12: every frame, in display order, on a clock that only moves forward one frame at a time."""
    path = write_marker_clip(tmp_path / name, frame_count=24, damage=damage)  # type: ignore[arg-type]
    with av.open(str(path)) as container:
        raw = [frame.pts for frame in container.decode(container.streams.video[0])]
    if damage != "none":
        assert any(b is None or a is None or b <= a for a, b in pairwise(raw)), "the input must be broken"
    samples = list(sample_frames(path, color="luma"))
    assert [marker_index(sample.image) for sample in samples] == list(range(24))
    first = samples[0].time
    assert [sample.time - first for sample in samples] == [Fraction(index, 25) for index in range(24)]
    time_base = probe(path).video.time_base  # type: ignore[union-attr]
    assert all(sample.pts * time_base == sample.time for sample in samples)
    if damage == "none":  # an intact AVI keeps the container's own clock: its first frame after the B-frame delay
        assert raw == [sample.pts for sample in samples]


def test_uniform_grid_repeats_and_picks_the_nearest_frame(clips: dict[str, ClipTruth]) -> None:
    """One sample per grid instant, the frame nearest it (within half a frame), repeated above the source rate."""
    truth = clips["vfr"]
    times = list(truth.frame_times)
    samples = list(sample_frames(truth.path, fps=45, color="luma", max_side=32, uniform_grid=True))
    end = truth.duration
    targets = [Fraction(index, 45) for index in range(math.ceil(end * 45))]
    assert [sample.target for sample in samples] == targets
    for sample in samples:
        assert sample.target is not None
        best = min(times, key=lambda time: (abs(time - sample.target), time))
        assert sample.time == best
    assert len({sample.time for sample in samples}) < len(samples), "45 fps over a 20–40 fps source repeats frames"
    repeated = [b for a, b in pairwise(samples) if a.time == b.time]
    assert all(any(b.image is a.image for a in samples) for b in repeated)


def test_uniform_grid_seek_and_sequential_agree(clips: dict[str, ClipTruth]) -> None:
    path = clips["cfr25"].path
    seek = list(sample_frames(path, fps=Fraction(3, 2), color="luma", strategy="seek", uniform_grid=True))
    sequential = list(sample_frames(path, fps=Fraction(3, 2), color="luma", strategy="sequential", uniform_grid=True))
    assert [(s.target, s.time) for s in seek] == [(s.target, s.time) for s in sequential]


REAL_BFRAME_AVI = Path("/usr/share/doc/opencv-doc/examples/data/Megamind.avi")
"""A real Xvid (MPEG-4 Part 2) AVI with B-frames from Debian's opencv-doc package (OpenCV's sample data; read in
place, never copied). Its demuxed times run backwards 88 times in 270 decoded frames."""


def test_real_avi_with_b_frames_has_increasing_times_in_decoder_order() -> None:
    if not REAL_BFRAME_AVI.is_file():
        pytest.skip(f"{REAL_BFRAME_AVI} is absent; `apt-get install opencv-doc` provides it")
    with av.open(str(REAL_BFRAME_AVI)) as container:
        stream = container.streams.video[0]
        decoded = [(frame.pts, frame.to_ndarray()[: frame.height]) for frame in container.decode(stream)]
    raw = [pts for pts, _ in decoded]
    assert sum(1 for a, b in pairwise(raw) if b <= a) > 0, "the file's own frame times run backwards"

    def jitter(pictures: list[np.ndarray]) -> float:
        return float(np.mean([np.abs(a.astype(int) - b.astype(int)).mean() for a, b in pairwise(pictures)]))

    by_time = [luma for _, luma in sorted(decoded, key=lambda item: item[0])]
    assert jitter([luma for _, luma in decoded]) < jitter(by_time), "decoder order is the smooth, display order"
    samples = list(sample_frames(REAL_BFRAME_AVI, color="luma"))
    assert len(samples) == len(decoded)
    # Decoders hand frames out in display order: the pictures stay in that order, and get the sorted times.
    assert all(np.array_equal(sample.image, luma) for sample, (_, luma) in zip(samples, decoded, strict=True))
    assert [sample.pts for sample in samples] == sorted(raw)
    assert all(b.time > a.time for a, b in pairwise(samples))


@pytest.mark.parametrize("name", ["cfr25", "rotated"])
def test_ycbcr_hands_over_the_planes_as_decoded_and_upright(clips: dict[str, ClipTruth], name: str) -> None:
    """`color="ycbcr"`: the luma as the picture and Cb, Cr on their own 4:2:0 grid, turned like the luma; their
    values are the decoder's own planes (checked against PyAV's yuv420p arrays of the same frame)."""
    clip = clips[name]
    sample = next(iter(sample_frames(clip.path, color="ycbcr", max_side=10_000)))
    assert sample.chroma is not None and sample.image.ndim == 2
    height, width = sample.image.shape
    for plane in sample.chroma:
        assert plane.shape == ((height + 1) // 2, (width + 1) // 2)
    with av.open(str(clip.path)) as container:
        frame = next(container.decode(video=0)).reformat(format="yuv420p")
        planes = frame.to_ndarray()  # yuv420p: Y rows, then U and V packed below at quarter size
    stored_height, stored_width = frame.height, frame.width
    luma = planes[:stored_height]
    turns = {0: 0, 90: 1, 180: 2, 270: 3}[probe(clip.path).video.rotation % 360]
    assert np.array_equal(sample.image, np.rot90(luma, turns)), "the luma, read in place and turned upright"
    cb = planes[stored_height:].reshape(-1)[: (stored_height // 2) * (stored_width // 2)].reshape(stored_height // 2, stored_width // 2)
    assert np.array_equal(sample.chroma[0], np.rot90(cb, turns)), "Cb, read in place and turned like the luma"


@pytest.mark.parametrize("name", ["cfr25", "rotated"])
def test_detail_is_the_same_frame_at_the_larger_size(clips: dict[str, ClipTruth], name: str) -> None:
    """`detail_side`: every frame comes small, and `detail()` gives the same frame's luma as a sampler asked for
    that size would (same decimation, same rotation); without it there is no detail to ask for."""
    path = clips[name].path
    small = list(sample_frames(path, fps=2, color="ycbcr", max_side=40, detail_side=120))
    large = list(sample_frames(path, fps=2, color="luma", max_side=120))
    assert max(small[0].image.shape) <= 40 and [s.time for s in small] == [s.time for s in large]
    for sample, reference in zip(small, large, strict=True):
        assert sample.detail is not None
        assert np.array_equal(sample.detail(), reference.image)
    assert next(iter(sample_frames(path, fps=2, color="luma", max_side=40))).detail is None
    with pytest.raises(ValueError, match="detail_side"):
        sample_frames(path, detail_side=1)
