"""smart_split's cut points on hand-made features whose truth the test sets: the target chosen from the length,
fades cut at their black frame, quiet moments on silent footage, grid points only where nothing natural is near.

The per-frame features are drawn by the test (brightness, motion) so each rule is checked exactly; accuracy on
real footage is `tests/bench/editing.py`'s job.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from reelmark.core.engines.signals.context import (
    AudioFeatures,
    ShotBoundaries,
    SignalsContext,
    SignalsParams,
    Transition,
)
from reelmark.core.engines.signals.features import VideoFeatures
from reelmark.core.engines.signals.params import parse_params
from reelmark.core.engines.signals.split import natural_points, shot_changes, smart_split, split_target
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Moment, MomentKind, TimeSpan

F = Fraction
RATE = 25


def _video(
    seconds: int, luma: np.ndarray | None = None, motion: np.ndarray | None = None, foreground: np.ndarray | None = None
) -> VideoFeatures:
    count = seconds * RATE
    times = tuple(F(index, RATE) for index in range(count))
    flat = np.full(count, 120.0, np.float32)
    return VideoFeatures(
        times=times, seconds=np.array([float(time) for time in times]), rate=F(RATE), end=F(seconds), size=(320, 180),
        histograms=np.zeros((count, 32)), cut_score=np.zeros(count, np.float32), colour_change=np.zeros(count, np.float32),
        aligned_change=np.zeros(count, np.float32), pictures=np.zeros((count, 9, 16, 3), np.uint8),
        luma_mean=flat if luma is None else luma, luma_std=np.full(count, 30.0, np.float32),
        motion=np.zeros(count, np.float32) if motion is None else motion,
        foreground_fraction=np.zeros(count, np.float32) if foreground is None else foreground,
        stirring_fraction=np.zeros(count, np.float32), sampled_times=(), moving_regions=(),
    )  # fmt: skip


def _context(seconds: int, params: SignalsParams | None = None, **fields: object) -> SignalsContext:
    info = MediaInfo.__new__(MediaInfo)  # split reads nothing of the probe
    return SignalsContext(info, F(0), F(seconds), params or SignalsParams(), **fields)  # type: ignore[arg-type]


def _cuts(seconds: int, cuts: list[Fraction]) -> ShotBoundaries:
    edges = [F(0), *cuts, F(seconds)]
    return ShotBoundaries(
        tuple(TimeSpan(a, b) for a, b in itertools.pairwise(edges)),
        tuple(Transition(TimeSpan(cut, cut), "cut", 1.0) for cut in cuts),
    )


def _boundaries(segments: list[Moment]) -> list[Fraction]:
    return [segment.span.end for segment in segments[:-1]]


@pytest.mark.parametrize(
    ("seconds", "target"), [(45, 15), (120, 15), (139, 30), (600, 30), (700, 60), (2000, 120), (7200, 300)]
)
def test_default_target_follows_the_clip_length(seconds: int, target: int) -> None:
    assert SignalsParams().split_target_s is None
    assert split_target(_context(seconds)) == target
    assert split_target(_context(seconds, SignalsParams(split_target_s=7.5))) == F(15, 2)


def test_a_normal_clip_gets_several_segments_by_default() -> None:
    """The everyday complaint: a 139 s clip came back as one segment; by default it now splits near 30 s."""
    segments = smart_split(_context(139, shots=_cuts(139, [F(n * 10) for n in range(1, 14)])))
    assert 4 <= len(segments) <= 6
    assert all(20 <= segment.span.duration <= 40 for segment in segments)


def test_none_is_a_valid_param_and_zero_is_refused() -> None:
    assert parse_params({"split_target_s": "none"}).split_target_s is None
    with pytest.raises(Exception, match="split_target_s"):
        parse_params({"split_target_s": "0"})


def test_a_fade_is_cut_at_its_black_frame() -> None:
    """A fade from 9 s to 11 s whose darkest frame is at 10.2 s; the next shot starts at 11 s (the fade's end)."""
    luma = np.full(20 * RATE, 120.0, np.float32)
    ramp = np.arange(9 * RATE, 11 * RATE)
    darkest = F(51, 5)
    luma[ramp] = np.abs(ramp - int(darkest * RATE)) * 4.0
    shots = ShotBoundaries(
        (TimeSpan(F(0), F(11)), TimeSpan(F(11), F(20))), (Transition(TimeSpan(F(9), F(11)), "fade", 0.9),)
    )
    ctx = _context(20, SignalsParams(split_target_s=10), video=_video(20, luma=luma), shots=shots)
    assert [(point.time, point.kind) for point in shot_changes(ctx)] == [(darkest, "fade")]
    segments = smart_split(ctx)
    assert _boundaries(segments) == [darkest]
    assert "fade through black" in segments[0].text


def test_grid_points_only_where_nothing_natural_is_near_and_they_say_so() -> None:
    """One cut at 10 s in 60 s, target 20 s: the cut is used; beyond its reach the split falls back to a grid, and
    each segment ending on a grid point says so."""
    ctx = _context(60, SignalsParams(split_target_s=20), shots=_cuts(60, [F(10)]))
    segments = smart_split(ctx)
    boundaries = _boundaries(segments)
    assert any("grid point" in segment.text for segment in segments[:-1])  # one natural point cannot make 3 segments
    for segment, boundary in zip(segments, boundaries, strict=False):
        if boundary == F(10):
            assert "shot change" in segment.text
        else:
            assert abs(boundary - 10) > 5 and "grid point" in segment.text, (boundary, segment.text)
    assert "grid" not in segments[-1].text


def test_grid_is_not_used_when_a_natural_point_lies_within_a_quarter_of_the_target() -> None:
    cuts = [F(17), F(42)]
    segments = smart_split(_context(60, SignalsParams(split_target_s=20), shots=_cuts(60, cuts)))
    assert _boundaries(segments) == cuts
    assert all("grid" not in segment.text for segment in segments)


def test_silent_footage_splits_where_the_room_empties() -> None:
    """No sound, one static shot: people come and go (tracks and motion); the cuts land where nobody is in view and
    nothing moves, and say so."""
    seconds = 90
    visits = [(F(2), F(25)), (F(31), F(55)), (F(60), F(88))]
    motion = np.zeros(seconds * RATE, np.float32)
    for start, end in visits:
        motion[int(start * RATE) : int((start + 2) * RATE)] = 0.05  # walking in
        motion[int((end - 2) * RATE) : int(end * RATE)] = 0.05  # walking out
    people = [Moment(MomentKind.PERSON, TimeSpan(start, end), label=f"person {n}") for n, (start, end) in enumerate(visits)]
    ctx = _context(seconds, SignalsParams(split_target_s=30), video=_video(seconds, motion=motion), people=people)
    segments = smart_split(ctx)
    gaps = [(F(25), F(31)), (F(55), F(60))]
    for segment, boundary in zip(segments, _boundaries(segments), strict=False):
        assert any(a < boundary < b for a, b in gaps), boundary
        assert "quiet moment" in segment.text


def test_a_still_hand_in_view_is_not_a_quiet_moment() -> None:
    """No sound, nobody tracked: a hand reaches in, rests on the table (nothing moves, but the picture differs from
    the empty table), and leaves. The rest is no quiet moment; the empty table before and after is."""
    seconds = 40
    motion = np.zeros(seconds * RATE, np.float32)
    foreground = np.full(seconds * RATE, 0.04, np.float32)
    hand = slice(11 * RATE, 14 * RATE)
    foreground[hand] = 0.085
    motion[11 * RATE : int(11.5 * RATE)] = motion[int(13.5 * RATE) : 14 * RATE] = 0.05  # reaching in, leaving
    ctx = _context(seconds, SignalsParams(split_target_s=15), video=_video(seconds, motion=motion, foreground=foreground))
    points = [point.time for point in natural_points(ctx)]
    assert points and not any(F(11) <= time <= F(14) for time in points)
    assert any(F(14) < time < F(40) for time in points) and any(time < F(11) for time in points)


def test_a_silence_over_everything_is_no_cut_point() -> None:
    """Media whose audio is digital silence throughout (nothing passes the loudness gates): its one silence span says
    nothing about where to cut, so it offers no points."""
    audio = AudioFeatures(
        start=F(0), hop=F(1, 10), momentary_lufs=np.full(300, -np.inf), short_term_lufs=np.full(300, -np.inf),
        integrated_lufs=None, speech=(), silence=(TimeSpan(F(0), F(30)),), end=F(30),
    )  # fmt: skip
    assert natural_points(_context(30, audio=audio)) == []
    loud = AudioFeatures(**{**audio.__dict__, "integrated_lufs": -20.0})
    assert {point.kind for point in natural_points(_context(30, audio=loud))} == {"silence"}
