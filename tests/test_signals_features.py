"""The single video pass: the size its per-frame features are computed at, and the consumers' thread."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import VISIT_PLACE
from reelmark.core.engines.signals.features import extract_video_features, feature_side
from reelmark.core.media import probe
from reelmark.core.media.frames import output_geometry
from reelmark.core.media.synthetic import ClipSpec, ClipTruth, write_clip
from reelmark.core.results import Box


@pytest.fixture(scope="module")
def wide_clip(tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    """1280×720 with two cuts: wide enough that the features and the detectors get different pictures."""
    spec = ClipSpec(width=1280, height=720, frame_count=75, cuts=(25, 50))
    return write_clip(tmp_path_factory.mktemp("features") / "wide.mp4", spec)


@pytest.mark.parametrize(("width", "height"), [(160, 90), (640, 360), (640, 480), (768, 432), (854, 480), (1000, 700), (719, 400)])
def test_sources_under_1080_px_keep_the_detectors_picture(width: int, height: int) -> None:
    """Below 1080 px on the longest side the features are computed on exactly the picture they always were."""
    assert output_geometry(width, height, feature_side(width, height, 640)) == output_geometry(width, height, 640)


@pytest.mark.parametrize(
    ("width", "height", "picture"),
    [(1920, 1080, (384, 216)), (1080, 1920, (216, 384)), (1280, 720, (427, 240)), (3840, 2160, (384, 216))],
)
def test_large_sources_are_reduced_further_but_not_below_the_floor(width: int, height: int, picture: tuple[int, int]) -> None:
    _, reduced_width, reduced_height = output_geometry(width, height, feature_side(width, height, 640))
    assert (reduced_width, reduced_height) == picture
    assert max(picture) >= 360


def test_consumers_get_the_detection_size_in_time_order(wide_clip: ClipTruth) -> None:
    """The people detectors see a 640 px luma of each sampled frame, in order, while the cuts are still found
    from the smaller per-frame picture."""
    seen: list[tuple[Fraction, tuple[int, ...]]] = []
    features = extract_video_features(
        probe(wide_clip.path), detect_fps=Fraction(2), consumers=[lambda time, luma, regions: seen.append((time, luma.shape))]
    )
    assert [time for time, _ in seen] == list(features.sampled_times)
    assert {shape for _, shape in seen} == {(360, 640)}
    assert len(seen) == 6
    cut_frames = sorted(np.argsort(features.colour_change)[-2:].tolist())
    assert cut_frames == [25, 50]


def test_an_error_in_a_consumer_stops_the_pass(wide_clip: ClipTruth) -> None:
    """A consumer runs on its own thread; what it raises still reaches the caller, rather than being lost."""
    calls: list[Fraction] = []

    def failing(time: Fraction, luma: np.ndarray, regions: object) -> None:
        calls.append(time)
        if len(calls) == 2:
            raise RuntimeError("detector failed")

    with pytest.raises(RuntimeError, match="detector failed"):
        extract_video_features(probe(wide_clip.path), detect_fps=Fraction(2), consumers=[failing])
    assert len(calls) >= 2


def test_without_consumers_the_pass_still_samples(wide_clip: ClipTruth) -> None:
    """Without consumers the pass still samples its detection times (activity reads them)."""
    features = extract_video_features(probe(wide_clip.path), detect_fps=Fraction(1))
    assert len(features.sampled_times) == 3 and features.frame_count == 75


def test_moving_regions_say_whether_anything_in_them_changed(visit_clip: Path) -> None:
    """The figure's arrival changes every pixel of its region; while it stands, nothing changes; after it has gone
    the background model, which half learnt it, still marks its place as moving (a ghost), and nothing in that
    changes either."""
    features = extract_video_features(probe(visit_clip))
    place = Box(*VISIT_PLACE)
    at_place = [region for region in features.moving_regions if region.box.iou(place) > 0.5]
    arrival = min(at_place, key=lambda region: region.time)
    assert Fraction(1) <= arrival.time <= Fraction(3, 2) and arrival.changing is not None and arrival.changing > 0.9
    standing = [region for region in at_place if Fraction(3) <= region.time <= Fraction(6)]
    ghost = [region for region in at_place if region.time >= Fraction(15, 2)]
    assert standing and ghost, "the figure and its ghost are both regions"
    assert all(region.changing == 0.0 for region in standing + ghost)
