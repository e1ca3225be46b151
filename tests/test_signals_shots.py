"""Shot and transition detection against generated clips whose every cut, fade, dissolve, flash and shake is known,
and against the corpus files (single takes, checked by eye: no cut, no fade, no black frame in any of them)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from conftest import corpus_files
from reelmark.core.engines.signals import shots as shots_module
from reelmark.core.engines.signals.context import ShotBoundaries
from reelmark.core.engines.signals.features import VideoFeatures, shift_compensated_change, extract_video_features
from reelmark.core.engines.signals.shots import MIN_SHOT_S, detect_shots, shot_moments
from reelmark.core.evaluation import cut_f1
from reelmark.core.media import probe
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.results import MomentKind

NTSC = Fraction(30000, 1001)
SPECS = {
    # 25 fps, clean: a cut just before a fade-out, a flash mid-shot, a dissolve.
    "pal_clean": ClipSpec(frame_count=150, cuts=(30, 60, 85, 120), fade_out=(65, 80), flash_frames=(45,),
                          dissolves=((100, 120),)),
    # 25 fps with grain, a panning background, a hard shake and two flashes.
    "pal_grain_pan": ClipSpec(frame_count=200, cuts=(20, 45, 70, 100, 150, 175), fade_out=(110, 130),
                              dissolves=((80, 100),), flash_frames=(33, 160), grain=2.0, pan_pixels_per_frame=3,
                              motion_bursts=((5, 15),)),
    # 29.97 fps with grain and pan: a three-frame strobe, two shakes and eight cuts.
    "ntsc_strobe_shake": ClipSpec(rate=NTSC, frame_count=240, cuts=(25, 50, 80, 110, 140, 170, 200, 225),
                                  flash_frames=(65, 66, 67), motion_bursts=((90, 105), (180, 195)), grain=2.0,
                                  pan_pixels_per_frame=4),
    # 29.97 fps: two dissolves of different lengths, a fade with a long black, a shake right after a cut.
    "ntsc_gradual": ClipSpec(rate=NTSC, frame_count=200, cuts=(30, 60, 120, 160), dissolves=((45, 60), (140, 160)),
                             fade_out=(75, 100), grain=2.0, motion_bursts=((165, 185),)),
    # A cut straight into a fade-out: the ramp down must stop at the cut, not swallow it.
    "pal_cut_into_fade": ClipSpec(frame_count=110, cuts=(30, 60, 85), fade_out=(60, 75), grain=2.0),
}  # fmt: skip
HEAVY_GRAIN = ClipSpec(frame_count=200, cuts=(25, 50, 75, 100, 125, 150, 175), grain=40.0)
"""Grain this strong spread every scene's luma histogram wide enough to hide cuts from the old histogram detector."""


@dataclasses.dataclass(frozen=True)
class Clip:
    truth: ClipTruth
    video: VideoFeatures

    def frame(self, time: Fraction) -> int:
        """The truth frame index of an exact time; fails (KeyError) if the time is not exactly a frame's."""
        return self.truth.frame_times.index(time)


def _clip(path: Path, spec: ClipSpec) -> Clip:
    truth = write_clip(path, spec)
    return Clip(truth, extract_video_features(probe(truth.path)))


def _rewrite(source: Path, target: Path, edit: Callable[[list[np.ndarray]], list[np.ndarray]]) -> None:
    """Decode `source` and encode `edit` of its yuv420p pictures to `target`, frame for frame at the same rate."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        rate, width, height = stream.average_rate, stream.width, stream.height
        pictures = [frame.to_ndarray(format="yuv420p") for frame in container.decode(stream)]
    with av.open(str(target), mode="w") as container:
        output = container.add_stream("libx264", rate=rate)
        output.width, output.height, output.pix_fmt = width, height, "yuv420p"
        output.codec_context.time_base = 1 / rate
        for index, picture in enumerate(edit(pictures)):
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = index
            container.mux(output.encode(frame))
        container.mux(output.encode(None))


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    folder = tmp_path_factory.mktemp("shots")
    return {name: _clip(folder / f"{name}.mp4", spec) for name, spec in SPECS.items()}


def _shot_starts(clip: Clip, shots: ShotBoundaries) -> list[int]:
    return [clip.frame(shot.start) for shot in shots.shots[1:]]


def _fade_cut(spec: ClipSpec) -> int:
    """The scene change that ends the fade: the first cut after the dimming starts."""
    assert spec.fade_out is not None
    return min(cut for cut in spec.cuts if cut > spec.fade_out[0])


@pytest.mark.parametrize("sensitivity", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("name", SPECS)
def test_every_scene_change_is_found(clips: dict[str, Clip], name: str, sensitivity: float) -> None:
    """Acceptance: F1 ≥ 0.98 at ±1 frame of shot starts against the first frames of new scenes; these changes are
    clear, so every setting finds them."""
    clip = clips[name]
    shots = detect_shots(clip.video, sensitivity)
    assert cut_f1(_shot_starts(clip, shots), list(clip.truth.spec.cuts), 1) >= 0.98


@pytest.mark.parametrize("name", SPECS)
def test_hard_cuts_are_cuts_at_the_exact_frame(clips: dict[str, Clip], name: str) -> None:
    clip = clips[name]
    spec = clip.truth.spec
    gradual_ends = {stop for _, stop in spec.dissolves} | ({_fade_cut(spec)} if spec.fade_out else set())
    hard = [cut for cut in spec.cuts if cut not in gradual_ends]
    cuts = [t for t in detect_shots(clip.video).transitions if t.kind == "cut"]
    assert all(t.span.start == t.span.end for t in cuts)
    assert cut_f1([clip.frame(t.span.start) for t in cuts], hard, 1) >= 0.98
    assert {t.span.start for t in cuts} <= {clip.truth.frame_times[cut] for cut in hard}  # exact, not ±1


@pytest.mark.parametrize("name", SPECS)
def test_shots_tile_the_range_and_transitions_sit_between_them(clips: dict[str, Clip], name: str) -> None:
    video = clips[name].video
    shots = detect_shots(video)
    assert shots.shots[0].start == video.times[0] and shots.shots[-1].end == video.end
    assert all(earlier.end == later.start for earlier, later in zip(shots.shots, shots.shots[1:], strict=False))
    assert len(shots.transitions) == len(shots.shots) - 1
    for transition, earlier, later in zip(shots.transitions, shots.shots, shots.shots[1:], strict=False):
        assert transition.span.end == later.start and earlier.start <= transition.span.start
        assert 0 <= transition.score <= 1


def test_flashes_and_strobes_are_not_cuts(clips: dict[str, Clip]) -> None:
    checked = 0
    for clip in clips.values():
        spec = clip.truth.spec
        rate = float(spec.rate)
        starts = _shot_starts(clip, detect_shots(clip.video))
        for flash in spec.flash_frames:
            # Far from any scene change, so only the flash test (not the minimum shot length) can keep it out.
            assert min(abs(flash - cut) for cut in spec.cuts) / rate > MIN_SHOT_S
            assert not [start for start in starts if flash - 1 <= start <= flash + 2]  # ±1 of it or the return
            checked += 1
    assert checked == sum(len(spec.flash_frames) for spec in SPECS.values()) > 0


def test_a_fade_is_one_transition(clips: dict[str, Clip]) -> None:
    for clip in (clip for clip in clips.values() if clip.truth.spec.fade_out):
        spec = clip.truth.spec
        first_dimmed, _ = spec.fade_out  # type: ignore[misc]
        new_picture = _fade_cut(spec)
        transitions = detect_shots(clip.video).transitions
        fades = [t for t in transitions if t.kind == "fade"]
        assert len(fades) == 1
        assert abs(clip.frame(fades[0].span.start) - first_dimmed) <= 1
        assert clip.frame(fades[0].span.end) == new_picture
        assert not [t for t in transitions if t is not fades[0] and fades[0].span.overlaps(t.span)]


def test_a_fade_in_from_black(clips: dict[str, Clip], tmp_path: Path) -> None:
    """The fade clip played backwards: a cut to black, then a ramp up into the old scene; one fade up to the first
    frame at full brightness."""
    source = clips["pal_clean"]
    spec = source.truth.spec
    first_dimmed, _ = spec.fade_out  # type: ignore[misc]
    last = spec.frame_count - 1
    reversed_path = tmp_path / "fade_in.mp4"
    _rewrite(source.truth.path, reversed_path, lambda pictures: pictures[::-1])
    video = extract_video_features(probe(reversed_path))
    fades = [t for t in detect_shots(video).transitions if t.kind == "fade"]
    assert len(fades) == 1
    # Forward, frames new_picture-1 … first black frame are black; backwards the first of them starts the fade.
    assert video.index_at(fades[0].span.start) == last - (_fade_cut(spec) - 1)
    # Forward frame first_dimmed-1 is the last at full brightness; backwards it is the first.
    assert abs(video.index_at(fades[0].span.end) - (last - (first_dimmed - 1))) <= 1


def test_black_at_either_end_is_a_shot_of_its_own(tmp_path: Path) -> None:
    """A fade to black that ends the clip (a tail) is a fade into a last, black shot, as an editor looks for the fade
    out that ends a programme; played backwards, the black opening the clip (a leader) fades into the first picture."""
    spec = ClipSpec(frame_count=60, cuts=(20,), fade_out=(35, 45))
    tail = _clip(tmp_path / "tail.mp4", spec)
    _rewrite(tail.truth.path, tmp_path / "leader.mp4", lambda pictures: pictures[::-1])
    leader = extract_video_features(probe(tmp_path / "leader.mp4"))
    last = spec.frame_count - 1
    for video, expected in (
        (tail.video, [("cut", spec.cuts[0]), ("fade", spec.fade_out[0])]),
        (leader, [("fade", 0), ("cut", spec.frame_count - spec.cuts[0])]),
    ):
        transitions = detect_shots(video).transitions
        found = [(t.kind, video.index_at(t.span.start)) for t in transitions]
        assert [kind for kind, _ in found] == [kind for kind, _ in expected]
        for (_, frame), (_, true) in zip(found, expected, strict=True):
            assert abs(frame - true) <= 1, (found, expected)
        assert all(0 <= video.index_at(t.span.end) <= last for t in transitions)


def test_a_black_dropout_inside_a_shot_is_no_transition(clips: dict[str, Clip], tmp_path: Path) -> None:
    """One black frame in the middle of a shot (a dropout), after which the same picture returns: no boundary."""
    source = clips["pal_clean"]
    cuts = source.truth.spec.cuts
    dropout = (cuts[0] + cuts[1]) // 2

    def black_out(pictures: list[np.ndarray]) -> list[np.ndarray]:
        height = source.truth.spec.height
        pictures[dropout][:height] = 16  # video black; chroma below the luma rows
        pictures[dropout][height:] = 128
        return pictures

    _rewrite(source.truth.path, tmp_path / "dropout.mp4", black_out)
    video = extract_video_features(probe(tmp_path / "dropout.mp4"))
    assert video.luma_mean[dropout] <= shots_module.BLACK_MEAN  # the edit really made a black frame
    shots = detect_shots(video)
    starts = [video.index_at(shot.start) for shot in shots.shots[1:]]
    assert cut_f1(starts, list(cuts), 1) == 1.0
    assert [t.kind for t in shots.transitions].count("fade") == 1  # the clip's own fade, nothing more


@pytest.mark.parametrize("sensitivity", [0.0, 0.5, 1.0])
def test_a_dissolve_is_one_dissolve(clips: dict[str, Clip], sensitivity: float) -> None:
    checked = 0
    for clip in clips.values():
        transitions = detect_shots(clip.video, sensitivity).transitions
        for first, wholly_new in clip.truth.spec.dissolves:
            touching = [
                t for t in transitions
                if clip.frame(t.span.start) <= wholly_new + 1 and clip.frame(t.span.end) >= first - 1
            ]  # fmt: skip
            assert len(touching) == 1 and touching[0].kind == "dissolve"
            assert abs(clip.frame(touching[0].span.start) - first) <= 1
            assert abs(clip.frame(touching[0].span.end) - wholly_new) <= 1
            checked += 1
    assert checked == sum(len(spec.dissolves) for spec in SPECS.values()) > 0


def test_shaking_makes_no_cut(clips: dict[str, Clip]) -> None:
    checked = 0
    for clip in clips.values():
        starts = _shot_starts(clip, detect_shots(clip.video, sensitivity=1.0))
        cuts = clip.truth.spec.cuts
        for first, stop in clip.truth.spec.motion_bursts:
            assert not [s for s in starts if first <= s <= stop and min(abs(s - cut) for cut in cuts) > 1]
            checked += 1
    assert checked == sum(len(spec.motion_bursts) for spec in SPECS.values()) > 0


def test_heavy_grain_hides_no_cut_and_makes_none(tmp_path: Path) -> None:
    """Grain averages out in the 48×27 colour thumbnails: every setting finds every cut under heavy grain and none
    invents one, and what is found strictly is found loosely too. (The trade of weak cuts against the setting is
    tested on real footage in test_signals_shots_real.py.)"""
    clip = _clip(tmp_path / "grain.mp4", HEAVY_GRAIN)
    truth = list(HEAVY_GRAIN.cuts)
    strict = _shot_starts(clip, detect_shots(clip.video, sensitivity=0.0))
    loose = _shot_starts(clip, detect_shots(clip.video, sensitivity=1.0))
    assert cut_f1(strict, truth, 1) == cut_f1(loose, truth, 1) == 1.0
    assert set(strict) <= set(loose)


@pytest.mark.parametrize("value", [-0.1, 1.01, math.nan, "0.5"])
def test_sensitivity_outside_0_to_1_is_refused(clips: dict[str, Clip], value: object) -> None:
    with pytest.raises(ValueError, match="between 0"):
        detect_shots(clips["pal_clean"].video, sensitivity=value)  # type: ignore[arg-type]


def test_short_and_empty_videos_are_one_shot(tmp_path: Path) -> None:
    for frames in (1, 12):  # one frame; under a second
        truth = write_clip(tmp_path / f"{frames}.mp4", ClipSpec(frame_count=frames))
        video = extract_video_features(probe(truth.path))
        shots = detect_shots(video)
        assert len(shots.shots) == 1 and not shots.transitions
        assert (shots.shots[0].start, shots.shots[0].end) == (truth.frame_times[0], truth.duration)
    empty = dataclasses.replace(
        video,
        times=(),
        **{
            name: getattr(video, name)[:0]
            for name in ("seconds", "histograms", "pictures", "colour_change", "aligned_change", "cut_score",
                         "luma_mean", "luma_std", "motion", "foreground_fraction")
        },
    )  # fmt: skip
    shots = detect_shots(empty)
    assert len(shots.shots) == 1 and shots.shots[0].start == shots.shots[0].end == empty.end


def test_an_all_black_clip_is_one_shot(tmp_path: Path) -> None:
    """Black from the first frame to the last is neither a leader nor a tail of anything: one shot, no transition."""
    source = write_clip(tmp_path / "source.mp4", ClipSpec(frame_count=30, cuts=(10, 20)))

    def black(pictures: list[np.ndarray]) -> list[np.ndarray]:
        height = source.spec.height
        for picture in pictures:
            picture[:height], picture[height:] = 16, 128  # video black; neutral chroma below the luma rows
        return pictures

    _rewrite(source.path, tmp_path / "black.mp4", black)
    video = extract_video_features(probe(tmp_path / "black.mp4"))
    shots = detect_shots(video)
    assert [(shot.start, shot.end) for shot in shots.shots] == [(video.times[0], video.end)]
    assert not shots.transitions


def test_moments_name_every_shot_and_each_gradual_transition(clips: dict[str, Clip]) -> None:
    shots = detect_shots(clips["pal_grain_pan"].video)
    moments = shot_moments(shots)
    shot_moments_ = [m for m in moments if m.kind is MomentKind.SHOT]
    transitions = [m for m in moments if m.kind is MomentKind.TRANSITION]
    assert [m.span for m in shot_moments_] == list(shots.shots)
    assert [m.label for m in shot_moments_] == [f"shot {n}" for n in range(1, len(shots.shots) + 1)]
    assert [m.score for m in shot_moments_] == [1.0] + [t.score for t in shots.transitions]
    gradual = [t for t in shots.transitions if t.kind != "cut"]
    assert {t.kind for t in gradual} == {"fade", "dissolve"}
    assert [(m.span, m.label, m.score) for m in transitions] == [(t.span, t.kind, t.score) for t in gradual]
    assert len({m.id for m in moments}) == len(moments)


def test_a_cut_smeared_over_two_frames_is_one_cut(tmp_path: Path) -> None:
    """A one-frame blend at a cut (as telecine or a soft edit makes) gives two spikes in a row: one cut."""
    spec = ClipSpec(frame_count=90, cuts=(30, 60), dissolves=((29, 30), (59, 60)), grain=2.0)
    clip = _clip(tmp_path / "soft.mp4", spec)
    transitions = detect_shots(clip.video).transitions
    assert [t.kind for t in transitions] == ["cut", "cut"]
    assert cut_f1([clip.frame(t.span.start) for t in transitions], list(spec.cuts), 1) == 1.0


@pytest.fixture(scope="module")
def corpus_videos(corpus: Path) -> dict[str, VideoFeatures]:
    return {path.name: extract_video_features(probe(path)) for path in corpus_files()}


@pytest.mark.parametrize("sensitivity", [0.5, 1.0])
def test_corpus_single_takes_are_one_shot(corpus_videos: dict[str, VideoFeatures], sensitivity: float) -> None:
    """Every corpus file is one continuous take (contact sheets and the frames around the largest scores were
    checked by eye): even the loosest setting finds one shot over the whole range and no transition, through cars
    and people passing, hands reaching in and auto-exposure steps."""
    assert corpus_videos
    for name, video in corpus_videos.items():
        shots = detect_shots(video, sensitivity)
        assert [(shot.start, shot.end) for shot in shots.shots] == [(video.times[0], video.end)], name
        assert not shots.transitions, name


def test_a_moved_picture_is_told_from_a_new_one() -> None:
    """The second test of a cut: undoing a global shift explains a camera jolt away, and explains nothing of a cut
    to an unrelated picture."""
    generator = np.random.default_rng(3)
    scene = cv2.resize(generator.integers(0, 256, (9, 16, 3), dtype=np.uint8), (64, 36), interpolation=cv2.INTER_CUBIC)
    before = scene[4:31, 6:54]
    jolted = scene[7:34, 3:51]  # the camera moved 3 px down and 3 px left
    other = cv2.resize(generator.integers(0, 256, (9, 16, 3), dtype=np.uint8), (48, 27), interpolation=cv2.INTER_CUBIC)
    jolt = float(cv2.absdiff(before, jolted).mean())
    assert shift_compensated_change(before, jolted) < shots_module.MOVED_NOT_CHANGED * jolt
    assert shift_compensated_change(before, other) > 0.85 * float(cv2.absdiff(before, other).mean())


def test_the_blend_bound_alone_keeps_a_passing_car_from_being_a_dissolve(
    corpus_videos: dict[str, VideoFeatures], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the steadiness test switched off, the car driving out of the car park (a sustained change between two
    different pictures) must still fail the blend bound: its contrast rises above any mix of its end pictures."""
    monkeypatch.setattr(shots_module, "DISSOLVE_MAX_VARIATION", math.inf)
    assert not detect_shots(corpus_videos["car-detection.mp4"]).transitions
