"""reframe: crop shapes, following a subject whose true position is known per frame, smoothness, resets at cuts.

Ground truth is the synthetic clip's moving box (`ClipTruth.boxes`, computed from the spec) or a subject path the
test draws itself; the crop is checked at every frame by interpolating its keyframes, as an NLE would.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
import pytest

from reelmark.core.engines.signals.bars import picture_area
from reelmark.core.engines.signals.context import REFRAME_ASPECTS, ShotBoundaries, SignalsContext, SignalsParams, Transition
from reelmark.core.engines.signals.features import MovingRegion, VideoFeatures, extract_video_features
from reelmark.core.engines.signals.reframe import DEAD_ZONE, MAX_ACCEL, MAX_SPEED, crop_path, reframe
from reelmark.core.media import probe
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Box, Moment, MomentKind, TimeSpan, TubePoint

RATE = Fraction(25)
SIZE = (320, 180)


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """A 4 s clip whose box crosses the frame left to right, bobbing up and down."""
    return write_clip(tmp_path_factory.mktemp("reframe") / "moving.mp4", ClipSpec(frame_count=100, moving_box=True))


@pytest.fixture(scope="module")
def fast(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """The same motion in 2 s: the box crosses the frame at 0.45 widths per second."""
    return write_clip(tmp_path_factory.mktemp("reframe") / "fast.mp4", ClipSpec(frame_count=50, moving_box=True))


@pytest.fixture(scope="module")
def info(moving: ClipTruth) -> MediaInfo:
    return probe(moving.path)


def _crop_at(tube: Sequence[TubePoint], time: Fraction) -> list[float]:
    """The crop (x0, y0, x1, y1) an NLE shows at `time`: linear between the keyframes around it."""
    seconds = [float(point.time) for point in tube]
    corners = np.asarray([point.box.to_list() for point in tube])
    return [float(np.interp(float(time), seconds, corners[:, i])) for i in range(4)]


def _contains(crop: Sequence[float], box: Sequence[float], size: tuple[int, int]) -> bool:
    """Containment to half a source pixel: crops are cut in whole pixels."""
    tx, ty = 0.5 / size[0], 0.5 / size[1]
    return crop[0] <= box[0] + tx and crop[1] <= box[1] + ty and box[2] <= crop[2] + tx and box[3] <= crop[3] + ty


def _centres(tube: Sequence[TubePoint], times: Sequence[Fraction]) -> np.ndarray:
    return np.asarray([(crop[0] + crop[2]) / 2 for crop in (_crop_at(tube, time) for time in times)])


def _accelerations(centres: np.ndarray, times: Sequence[Fraction]) -> np.ndarray:
    """Second divided differences (units per s²), frame to frame."""
    seconds = np.asarray([float(time) for time in times])
    slopes = np.diff(centres) / np.diff(seconds)
    return np.diff(slopes) / ((seconds[2:] - seconds[:-2]) / 2)


def _features(
    size: tuple[int, int], sampled: Sequence[Fraction], regions: Sequence[MovingRegion] = ()
) -> VideoFeatures:
    """Hand-made features: only what reframe reads (size, sampled times, moving regions) carries data."""
    empty = np.zeros(0, np.float32)
    return VideoFeatures(
        times=(), seconds=np.zeros(0), rate=RATE, end=Fraction(4), size=size, histograms=np.zeros((0, 32)),
        cut_score=empty, colour_change=empty, aligned_change=empty,
        pictures=np.zeros((0, 9, 16, 3), np.uint8),
        luma_mean=empty, luma_std=empty, motion=empty, foreground_fraction=empty, stirring_fraction=empty,
        sampled_times=tuple(sampled), moving_regions=tuple(regions),
    )  # fmt: skip


@pytest.mark.parametrize("size", [(1920, 1080), (320, 180), (1440, 1080), (1080, 1920), (1000, 1000)])
@pytest.mark.parametrize("aspect", sorted(REFRAME_ASPECTS))
@pytest.mark.parametrize("pixel_aspect", [Fraction(1), Fraction(4, 3), Fraction(8, 9)])
def test_crop_has_the_target_shape_as_shown_and_is_as_large_as_fits(
    size: tuple[int, int], aspect: str, pixel_aspect: Fraction
) -> None:
    """The crop's shape as shown: pixels `pixel_aspect` times as wide as tall (HDV's 4:3, NTSC DV's 8:9) count at
    their shown width, to within one pixel."""
    width, height = size
    target = {"9:16": 9 / 16, "1:1": 1.0, "4:5": 4 / 5}[aspect]
    subject = [(Fraction(i, 2), Box(0.6, 0.3, 0.7, 0.5)) for i in range(4)]
    tube = crop_path(subject, size, aspect, [TimeSpan(Fraction(0), Fraction(2))], pixel_aspect=pixel_aspect)
    for point in tube:
        crop_width, crop_height = (
            point.box.x1 * width - point.box.x0 * width,
            point.box.y1 * height - point.box.y0 * height,
        )
        assert abs(crop_width * pixel_aspect - target * crop_height) <= float(pixel_aspect)
        # The largest window: it spans the full height or the full width of the source.
        assert math.isclose(crop_height, height, abs_tol=1e-6) or math.isclose(crop_width, width, abs_tol=1e-6)
        assert crop_width <= width + 1e-6 and crop_height <= height + 1e-6


def test_unknown_aspect_lists_the_choices(info: MediaInfo) -> None:
    with pytest.raises(ValueError) as error:
        crop_path([], SIZE, "16:10", [TimeSpan(Fraction(0), Fraction(1))])
    assert all(choice in str(error.value) for choice in ("9:16", "1:1", "4:5"))
    ctx = SignalsContext(info, Fraction(0), Fraction(4), SignalsParams(), video=_features(SIZE, []))
    with pytest.raises(ValueError, match="9:16"):
        reframe(ctx, "2.39:1")


@pytest.mark.parametrize("clip", ["moving", "fast"])
@pytest.mark.parametrize("aspect", sorted(REFRAME_ASPECTS))
def test_vertical_crop_follows_the_moving_subject_smoothly(
    request: pytest.FixtureRequest, clip: str, aspect: str
) -> None:
    """Acceptance: the crop holds the true box in ≥ 95 % of frames; its centre never accelerates past the bound."""
    moving: ClipTruth = request.getfixturevalue(clip)
    subject = [(time, Box(*box)) for time, box in zip(moving.frame_times, moving.boxes, strict=True) if box]
    tube = crop_path(subject, SIZE, aspect, [TimeSpan(Fraction(0), moving.duration)])
    held = [
        _contains(_crop_at(tube, time), box, SIZE) for time, box in zip(moving.frame_times, moving.boxes, strict=True)
    ]
    assert sum(held) / len(held) >= 0.95
    centres = _centres(tube, moving.frame_times)
    assert np.abs(_accelerations(centres, moving.frame_times)).max() <= MAX_ACCEL * (1 + 1e-6)
    assert centres[-1] - centres[0] > 0.3  # it travelled with the subject


def test_sparse_samples_still_keep_the_subject(moving: ClipTruth) -> None:
    """The engine samples at 2 fps; keyframes at those times, interpolated per frame, still hold the box."""
    every = int(RATE / 2)
    subject = [
        (time, Box(*box))
        for index, (time, box) in enumerate(zip(moving.frame_times, moving.boxes, strict=True))
        if index % every == 0
    ]
    tube = crop_path(subject, SIZE, "9:16", [TimeSpan(Fraction(0), moving.duration)])
    held = [
        _contains(_crop_at(tube, time), box, SIZE) for time, box in zip(moving.frame_times, moving.boxes, strict=True)
    ]
    assert sum(held) / len(held) >= 0.95
    assert [point.time for point in tube] == [time for time, _ in subject] + [moving.duration]


def test_detector_jitter_inside_the_dead_zone_does_not_move_the_crop() -> None:
    generator = np.random.default_rng(3)
    jitter = 3 / SIZE[0]  # ±3 px of detector noise around a subject that stands still
    assert 2 * jitter < DEAD_ZONE * round(SIZE[1] * 9 / 16) / SIZE[0]
    subject = []
    for index in range(100):
        dx, dy = generator.uniform(-jitter, jitter, 2)
        subject.append((index / RATE, Box(0.45 + dx, 0.4 + dy, 0.55 + dx, 0.6 + dy)))
    tube = crop_path(subject, SIZE, "9:16", [TimeSpan(Fraction(0), Fraction(4))])
    lefts = [point.box.x0 for point in tube]
    assert max(lefts) - min(lefts) < 1 / SIZE[0]
    assert _contains(tube[0].box.to_list(), (0.45, 0.4, 0.55, 0.6), SIZE)


def test_a_subject_about_as_wide_as_the_crop_is_kept_whole_while_a_small_one_rests_in_the_dead_zone() -> None:
    """Both subjects step right by 0.6 of the dead zone at 1 s. The small one stays where it may rest: the crop does
    not move. The one nine tenths as wide as the crop would stick out by then, so the crop follows until it is
    inside again (the dead zone never lets a subject leave the crop)."""
    crop = round(SIZE[1] * 9 / 16) / SIZE[0]
    step = 0.6 * DEAD_ZONE * crop
    for width, moves in ((0.05, False), (0.9 * crop, True)):
        subject = [
            (Fraction(index, 5), Box(0.5 - width / 2 + shift, 0.3, 0.5 + width / 2 + shift, 0.6))
            for index in range(20)
            for shift in [step if index >= 5 else 0.0]
        ]
        tube = crop_path(subject, SIZE, "9:16", [TimeSpan(Fraction(0), Fraction(4))])
        assert (abs(tube[-1].box.x0 - tube[0].box.x0) > 1 / SIZE[0]) == moves
        assert _contains(tube[-1].box.to_list(), subject[-1][1].to_list(), SIZE)


def test_speed_and_acceleration_stay_bounded_when_the_subject_teleports() -> None:
    """A subject that jumps across the frame every 0.4 s: the bound holds however the target moves."""
    times = [index / RATE for index in range(100)]
    subject = [
        (time, Box(0.1, 0.4, 0.2, 0.6) if (index // 10) % 2 else Box(0.8, 0.4, 0.9, 0.6))
        for index, time in enumerate(times)
    ]
    tube = crop_path(subject, SIZE, "9:16", [TimeSpan(Fraction(0), Fraction(4))])
    centres = _centres(tube, times)
    assert np.abs(np.diff(centres) * float(RATE)).max() <= MAX_SPEED * (1 + 1e-6)
    assert np.abs(_accelerations(centres, times)).max() <= MAX_ACCEL * (1 + 1e-6)
    assert np.ptp(centres) > 0.2  # it did chase the subject


def test_crop_resets_at_a_shot_boundary_and_jumps_only_there() -> None:
    """Shot 1 has the subject drifting right on the left side, shot 2 on the right side drifting left."""
    cut = Fraction(2)
    times = [index / RATE for index in range(100)]

    def truth(time: Fraction) -> tuple[float, float, float, float]:
        x = 0.1 + 0.05 * float(time) if time < cut else 0.85 - 0.05 * float(time - cut)
        return (x, 0.4, x + 0.1, 0.6)

    subject = [(time, Box(*truth(time))) for time in times]
    segments = [TimeSpan(Fraction(0), cut), TimeSpan(cut, Fraction(4))]
    tube = crop_path(subject, SIZE, "9:16", segments)
    at_cut = [index for index, point in enumerate(tube) if point.time == cut]
    assert len(at_cut) == 2  # the first shot's held end, then the second shot's start
    first, second = tube[: at_cut[1]], tube[at_cut[1] :]
    crops = {time: _crop_at(first if time < cut else second, time) for time in times}
    assert all(_contains(crops[time], truth(time), SIZE) for time in times)
    centres = np.asarray([(crops[time][0] + crops[time][2]) / 2 for time in times])
    steps = np.abs(np.diff(centres))
    cut_step = times.index(cut) - 1
    assert steps[cut_step] > 0.4  # jumped across the frame at the cut...
    assert np.delete(steps, cut_step).max() <= MAX_SPEED / float(RATE) + 1e-9  # ...and nowhere else


def _person(label: str, kind: MomentKind, boxes: dict[Fraction, Box]) -> Moment:
    times = sorted(boxes)
    return Moment(kind, TimeSpan(times[0], times[-1]), label=label, tube=tuple(TubePoint(t, boxes[t]) for t in times))


def test_reframe_keeps_heads_prefers_faces_and_gives_one_moment_per_shot(info: MediaInfo) -> None:
    """Portrait source, square crop: the crop slides vertically. Shot 1: a tall person whose head must stay in;
    shot 2: a face on the right and a bigger person on the left; the face wins."""
    size = (1080, 1920)
    sampled = [Fraction(index, 2) for index in range(8)]
    walker = _person("person 1", MomentKind.PERSON, {t: Box(0.3, 0.3, 0.7, 0.98) for t in sampled[:4]})
    face = _person("face 1", MomentKind.FACE, {t: Box(0.75, 0.6, 0.95, 0.7) for t in sampled[4:]})
    bystander = _person("person 2", MomentKind.PERSON, {t: Box(0.0, 0.1, 0.5, 0.9) for t in sampled[4:]})
    shots = ShotBoundaries(
        (TimeSpan(Fraction(0), Fraction(2)), TimeSpan(Fraction(2), Fraction(4))),
        (Transition(TimeSpan(Fraction(2), Fraction(2)), "cut", 1.0),),
    )
    ctx = SignalsContext(
        info, Fraction(0), Fraction(4), SignalsParams(), video=_features(size, sampled), shots=shots,
        people=[walker, face, bystander],
    )  # fmt: skip
    moments = reframe(ctx, "1:1")
    assert [moment.kind for moment in moments] == [MomentKind.REFRAME, MomentKind.REFRAME]
    assert [moment.label for moment in moments] == ["reframe 1:1 1", "reframe 1:1 2"]
    assert [moment.span for moment in moments] == list(shots.shots)
    assert all("1:1" in moment.text for moment in moments)
    for moment in moments:
        assert moment.tube[0].time == moment.span.start and moment.tube[-1].time == moment.span.end
        assert all(moment.span.contains(point.time) for point in moment.tube)
    # The person is taller than the crop; centred on the whole body, the crop would cut the head off.
    head, feet = (0.45, 0.3, 0.55, 0.4), (0.3, 0.9, 0.7, 0.98)
    assert all(_contains(point.box.to_list(), head, size) for point in moments[0].tube)
    assert not any(_contains(point.box.to_list(), feet, size) for point in moments[0].tube)
    bystander_head = (0.15, 0.1, 0.35, 0.2)
    for point in moments[1].tube:
        assert _contains(point.box.to_list(), face.tube[0].box.to_list(), size)
        assert not _contains(point.box.to_list(), bystander_head, size)
    assert "people" in moments[0].text and "faces" in moments[1].text


def test_an_anamorphic_clip_is_cropped_to_the_shape_it_is_shown_in(clips: dict[str, ClipTruth]) -> None:
    """240×180 pixels shown 4:3 wide (320×180 on screen): the 9:16 crop is 76 pixels wide, shown 101 (9:16 of
    180), not 101 pixels shown 135 wide (3:4); the moment says its pixels are not square."""
    clip = probe(clips["anamorphic"].path)
    features = extract_video_features(clip)
    assert features.pixel_aspect == Fraction(4, 3)
    ctx = SignalsContext(clip, Fraction(0), features.end, SignalsParams(), video=features)
    [moment] = reframe(ctx, "9:16")
    assert "76×180 of 240×180 px (pixel aspect 4:3)" in moment.text
    for point in moment.tube:
        assert (point.box.x1 - point.box.x0) * 240 == pytest.approx(76, abs=1e-6)
        assert (point.box.y0, point.box.y1) == (0, 1)


def test_reframe_falls_back_to_moving_regions(moving: ClipTruth, info: MediaInfo) -> None:
    """No people: the moving regions of the real one-pass features lead the crop to the true box."""
    params = SignalsParams()
    features = extract_video_features(info, detect_fps=params.detect_fps)
    ctx = SignalsContext(info, Fraction(0), moving.duration, params, video=features)
    [moment] = reframe(ctx, "9:16")
    assert "motion" in moment.text
    centred = 0
    for time, box in zip(moving.frame_times, moving.boxes, strict=True):
        crop = _crop_at(moment.tube, time)
        centred += crop[0] <= (box[0] + box[2]) / 2 <= crop[2]
    assert centred / len(moving.frame_times) >= 0.95


def test_reframe_without_a_subject_stays_centred_and_without_video_says_so(info: MediaInfo) -> None:
    ctx = SignalsContext(
        info, Fraction(0), Fraction(4), SignalsParams(), video=_features(SIZE, [Fraction(i, 2) for i in range(8)])
    )
    [moment] = reframe(ctx, "9:16")
    assert all(math.isclose((point.box.x0 + point.box.x1) / 2, 0.5, abs_tol=1e-9) for point in moment.tube)
    assert "centre" in moment.text
    blind = SignalsContext(info, Fraction(0), Fraction(4), SignalsParams())
    assert reframe(blind, "9:16") == []
    assert any("no video" in line for line in blind.diagnostics)


def _frames(size: tuple[int, int], seconds: int, sampled: Sequence[Fraction], luma: np.ndarray | None = None) -> VideoFeatures:
    """Per-frame features at RATE with a brightness curve (for fades); everything else flat."""
    count = seconds * int(RATE)
    times = tuple(Fraction(index) / RATE for index in range(count))
    flat = np.zeros(count, np.float32)
    return VideoFeatures(
        times=times, seconds=np.array([float(time) for time in times]), rate=RATE, end=Fraction(seconds), size=size,
        histograms=np.zeros((count, 32)), cut_score=flat, colour_change=flat, aligned_change=flat,
        pictures=np.zeros((count, 9, 16, 3), np.uint8),
        luma_mean=np.full(count, 120.0, np.float32) if luma is None else luma, luma_std=flat, motion=flat,
        foreground_fraction=flat, stirring_fraction=flat, sampled_times=tuple(sampled), moving_regions=(),
    )  # fmt: skip


def test_crop_resets_at_the_black_frame_of_a_fade_not_at_its_end(info: MediaInfo) -> None:
    """A fade from 1.6 s to 2.4 s, darkest at 2.0 s; the detector starts the next shot at 2.4 s. The subject is on
    the left before the fade and on the right after it: the crop jumps at 2.0 s, in the black."""
    luma = np.full(4 * int(RATE), 120.0, np.float32)
    ramp = np.arange(40, 60)
    luma[ramp] = np.abs(ramp - 50) * 12.0
    sampled = [Fraction(index, 5) for index in range(20)]
    left = _person("person 1", MomentKind.PERSON, {t: Box(0.05, 0.2, 0.15, 0.9) for t in sampled if t < 2})
    right = _person("person 2", MomentKind.PERSON, {t: Box(0.85, 0.2, 0.95, 0.9) for t in sampled if t >= 2})
    shots = ShotBoundaries(
        (TimeSpan(Fraction(0), Fraction(12, 5)), TimeSpan(Fraction(12, 5), Fraction(4))),
        (Transition(TimeSpan(Fraction(8, 5), Fraction(12, 5)), "fade", 1.0),),
    )
    ctx = SignalsContext(
        info, Fraction(0), Fraction(4), SignalsParams(), video=_frames(SIZE, 4, sampled, luma), shots=shots,
        people=[left, right],
    )  # fmt: skip
    first, second = reframe(ctx, "9:16")
    assert first.span == TimeSpan(Fraction(0), Fraction(2)) and second.span == TimeSpan(Fraction(2), Fraction(4))
    assert first.tube[-1].box.x0 == 0.0 and second.tube[0].box.x1 == pytest.approx(1.0)


def test_the_nearest_subject_is_followed_not_the_first_found(info: MediaInfo) -> None:
    """A small far person is found first on the left; a person three times as tall comes in on the right at 1 s
    and stays: the crop goes to the near one and stays there, though the far one is still in view."""
    sampled = [Fraction(index, 5) for index in range(20)]
    far = _person("person 1", MomentKind.PERSON, {t: Box(0.1, 0.4, 0.14, 0.6) for t in sampled})
    near = _person("person 2", MomentKind.PERSON, {t: Box(0.7, 0.1, 0.82, 0.7) for t in sampled if t >= 1})
    ctx = SignalsContext(info, Fraction(0), Fraction(4), SignalsParams(), video=_frames(SIZE, 4, sampled), people=[far, near])
    [moment] = reframe(ctx, "9:16")
    near_head = (0.7, 0.1, 0.82, 0.25)
    assert all(_contains(_crop_at(moment.tube, t), near_head, SIZE) for t in sampled if t >= 2)
    assert _contains(_crop_at(moment.tube, Fraction(1, 2)), far.tube[0].box.to_list(), SIZE)


def test_without_anyone_in_view_the_crop_holds_then_meets_the_next_entrance(info: MediaInfo) -> None:
    """Someone on the left until 1 s, nobody until 3 s, then someone on the right: the crop does not wander in the
    gap, and it is already on the newcomer when they are first seen (it left early enough to get there)."""
    sampled = [Fraction(index, 5) for index in range(30)]
    first = _person("person 1", MomentKind.PERSON, {t: Box(0.05, 0.2, 0.15, 0.9) for t in sampled if t <= 1})
    second = _person("person 2", MomentKind.PERSON, {t: Box(0.8, 0.2, 0.9, 0.9) for t in sampled if t >= 3})
    ctx = SignalsContext(info, Fraction(0), Fraction(6), SignalsParams(), video=_frames(SIZE, 6, sampled), people=[first, second])
    [moment] = reframe(ctx, "9:16")
    held = [_crop_at(moment.tube, Fraction(t, 10)) for t in range(12, 16)]
    assert max(crop[0] for crop in held) - min(crop[0] for crop in held) < 1e-9  # still in the gap
    assert _contains(_crop_at(moment.tube, Fraction(3)), (0.8, 0.2, 0.9, 0.375), SIZE)
    centres = _centres(moment.tube, [Fraction(index) / RATE for index in range(6 * int(RATE))])
    assert np.abs(np.diff(centres) * float(RATE)).max() <= MAX_SPEED * (1 + 1e-6)


def test_a_stray_detection_moves_nothing(info: MediaInfo) -> None:
    """A standing subject whose box jumps for one sample (a detector slip) and back: the crop stays put."""
    sampled = [Fraction(index, 5) for index in range(20)]
    boxes = {t: Box(0.45, 0.2, 0.55, 0.9) for t in sampled}
    boxes[Fraction(2)] = Box(0.8, 0.2, 0.9, 0.9)
    ctx = SignalsContext(
        info, Fraction(0), Fraction(4), SignalsParams(), video=_frames(SIZE, 4, sampled),
        people=[_person("person 1", MomentKind.PERSON, boxes)],
    )  # fmt: skip
    [moment] = reframe(ctx, "9:16")
    assert {round(point.box.x0, 9) for point in moment.tube} == {round(moment.tube[0].box.x0, 9)}


def test_one_slip_of_a_sparse_detector_moves_nothing(info: MediaInfo) -> None:
    """The detector samples once a second and the moving regions five times; at 2 s it sees half the body (a box
    shifted right by 0.15), then all of it again. Every sample between 1 and 3 s is interpolated towards the slip,
    so only a median over the detector's own sightings removes it: the crop stays put."""
    sampled = [Fraction(index) for index in range(5)]
    boxes = {t: Box(0.35, 0.1, 0.6, 0.9) for t in sampled}
    boxes[Fraction(2)] = Box(0.5, 0.4, 0.6, 0.9)
    video = _frames(SIZE, 4, sampled)
    video.moving_regions = tuple(MovingRegion(Fraction(i, 5), Box(0.45, 0.3, 0.5, 0.5), 0.01) for i in range(20))
    ctx = SignalsContext(
        info, Fraction(0), Fraction(4), SignalsParams(), video=video,
        people=[_person("person 1", MomentKind.PERSON, boxes)],
    )  # fmt: skip
    [moment] = reframe(ctx, "9:16")
    assert {round(point.box.x0, 9) for point in moment.tube} == {round(moment.tube[0].box.x0, 9)}


def test_someone_seen_once_in_a_short_shot_is_followed_around_that_sighting(info: MediaInfo) -> None:
    """A 1 fps detector sees a person on the right at 1 s in a shot that ends at 1.4 s (their track goes on in the
    next shot, on the left). Like the track's own span, the sighting stands for half a sampling interval either
    side: from 0.5 s to the cut the person is the subject, not the moving region on the left, so the crop gets to
    them by the sighting and holds them to the cut."""
    sampled = [Fraction(index) for index in range(5)]
    right, left = Box(0.8, 0.1, 0.9, 0.9), Box(0.1, 0.1, 0.2, 0.9)
    person = _person("person 1", MomentKind.PERSON, {Fraction(1): right, Fraction(2): left, Fraction(3): left})
    video = _frames(SIZE, 4, sampled)
    video.moving_regions = tuple(MovingRegion(Fraction(i, 5), Box(0.05, 0.3, 0.25, 0.6), 0.05) for i in range(20))
    cut = Fraction(7, 5)
    shots = ShotBoundaries(
        (TimeSpan(Fraction(0), cut), TimeSpan(cut, Fraction(4))), (Transition(TimeSpan(cut, cut), "cut", 1.0),)
    )
    ctx = SignalsContext(info, Fraction(0), Fraction(4), SignalsParams(), video=video, shots=shots, people=[person])
    first, _ = reframe(ctx, "9:16")
    head = (0.8, 0.1, 0.9, 0.3)
    assert all(_contains(_crop_at(first.tube, Fraction(t, 10)), head, SIZE) for t in range(10, 14))


def test_a_moving_region_in_which_nothing_changes_does_not_pull_the_crop(info: MediaInfo) -> None:
    """Someone on the right leaves at 2 s; then only a region on the left is marked moving. Where nothing in it
    changes (the ghost of where somebody stood) the crop holds where the person left it; where its pixels change
    (something moves there) the crop goes to it."""
    sampled = [Fraction(index, 5) for index in range(30)]
    leaving = _person("person 1", MomentKind.PERSON, {t: Box(0.8, 0.2, 0.9, 0.9) for t in sampled if t <= 2})
    crops = {}
    for changing in (0.0, 0.5):
        video = _frames(SIZE, 6, sampled)
        video.moving_regions = tuple(MovingRegion(t, Box(0.1, 0.2, 0.3, 0.8), 0.05, changing) for t in sampled if t > 2)
        ctx = SignalsContext(info, Fraction(0), Fraction(6), SignalsParams(), video=video, people=[leaving])
        [moment] = reframe(ctx, "9:16")
        crops[changing] = _crop_at(moment.tube, Fraction(5))
    assert _contains(crops[0.0], (0.8, 0.2, 0.9, 0.375), SIZE)
    assert _contains(crops[0.5], (0.1, 0.2, 0.3, 0.8), SIZE)


def test_of_two_people_alike_the_one_who_moves_is_followed(info: MediaInfo) -> None:
    """Two standing people of the same size, left and right; from 1 s the moving regions are on the right one (she
    gestures, he does not): the crop is on her from the start (the whole path is known, so it need not follow the
    first found and switch later) and stays."""
    sampled = [Fraction(index, 5) for index in range(20)]
    left = _person("person 1", MomentKind.PERSON, {t: Box(0.1, 0.2, 0.2, 0.9) for t in sampled})
    right = _person("person 2", MomentKind.PERSON, {t: Box(0.75, 0.2, 0.85, 0.9) for t in sampled})
    gestures = [MovingRegion(t, Box(0.76, 0.4, 0.84, 0.6), 0.01) for t in sampled if t >= 1]
    video = _frames(SIZE, 4, sampled)
    video.moving_regions = tuple(gestures)
    ctx = SignalsContext(info, Fraction(0), Fraction(4), SignalsParams(), video=video, people=[left, right])
    [moment] = reframe(ctx, "9:16")
    assert all(_contains(_crop_at(moment.tube, t), (0.75, 0.2, 0.85, 0.375), SIZE) for t in sampled)


def test_someone_a_little_more_important_for_long_wins_and_a_brief_peak_does_not(info: MediaInfo) -> None:
    """A person on the left from 0 s; from 1 s someone 1.2 times as tall on the right, for 7 s: too small a margin
    to switch on at any one instant, but over seconds the right one is the subject. From 4 to 4.4 s a third, twice
    as tall, passes in the middle: the crop does not chase them."""
    sampled = [Fraction(index, 5) for index in range(40)]
    left = _person("person 1", MomentKind.PERSON, {t: Box(0.05, 0.3, 0.12, 0.8) for t in sampled})
    right = _person("person 2", MomentKind.PERSON, {t: Box(0.85, 0.2, 0.93, 0.8) for t in sampled if t >= 1})
    passer = _person("person 3", MomentKind.PERSON, {t: Box(0.45, 0.0, 0.55, 1.0) for t in sampled if 4 <= t <= Fraction(22, 5)})
    ctx = SignalsContext(
        info, Fraction(0), Fraction(8), SignalsParams(), video=_frames(SIZE, 8, sampled), people=[left, right, passer]
    )
    [moment] = reframe(ctx, "9:16")
    right_head = (0.85, 0.2, 0.93, 0.35)
    assert _contains(_crop_at(moment.tube, Fraction(1, 2)), (0.05, 0.3, 0.12, 0.425), SIZE)
    assert all(_contains(_crop_at(moment.tube, t), right_head, SIZE) for t in sampled if t >= 2)


def _pillarboxed(frames: int, bar_cells: int, lit: int = 120) -> np.ndarray:
    """16×9 Y'CbCr thumbnails with `bar_cells` columns of video black on each side (a 4:3 picture in 16:9 has 2)."""
    pictures = np.full((frames, 9, 16, 3), 128, np.uint8)
    pictures[..., 0] = lit
    pictures[:, :, :bar_cells, 0] = 16
    pictures[:, :, 16 - bar_cells :, 0] = 16
    return pictures


def test_bars_are_found_in_pairs_and_a_dark_shot_has_none() -> None:
    assert picture_area(_pillarboxed(5, 2)) == Box(0.125, 0.0, 0.875, 1.0)
    assert picture_area(_pillarboxed(5, 0)) == Box(0.0, 0.0, 1.0, 1.0)
    assert picture_area(_pillarboxed(5, 2, lit=16)) == Box(0.0, 0.0, 1.0, 1.0)  # all dark: no picture to bound
    one_sided = _pillarboxed(5, 2)
    one_sided[:, :, 14:, 0] = 120  # a dark wall on the left only is picture, not a bar
    assert picture_area(one_sided) == Box(0.0, 0.0, 1.0, 1.0)


def test_the_crop_stays_off_pillarbox_bars() -> None:
    """A subject at the picture's right edge pulls the crop there, but not over the bar beyond it."""
    subject = [(Fraction(i, 4), Box(0.8, 0.2, 0.87, 0.4)) for i in range(17)]
    area = Box(0.125, 0.0, 0.875, 1.0)
    tube = crop_path(subject, (1920, 1080), "9:16", [TimeSpan(Fraction(0), Fraction(4))], [area])
    assert all(point.box.x1 <= area.x1 + 1e-9 for point in tube)
    assert tube[-1].box.x1 > area.x1 - 0.01  # it does go as far as the picture allows
    unbounded = crop_path(subject, (1920, 1080), "9:16", [TimeSpan(Fraction(0), Fraction(4))])
    assert unbounded[-1].box.x1 > area.x1 + 0.02  # without the area it would have crossed onto the bar
