"""Activity in a static shot: the labelled parking lot, and a generated moving subject."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CORPUS
from reelmark.core.engines.signals.activity import find_activity
from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.evaluation import best_match_tiou
from reelmark.core.media import probe
from reelmark.core.media.synthetic import ClipSpec, write_clip


def test_car_park_activity_matches_the_labels(corpus: Path) -> None:
    """Acceptance: mean over the labelled 'a car is in view' events of the best activity span's tIoU ≥ 0.6."""
    labels = json.loads((CORPUS / "labels" / "car-detection.json").read_text())
    events = next(event for event in labels["events"] if event["query"] == "a car is in view")["spans_s"]
    video = extract_video_features(probe(corpus / "car-detection.mp4"))
    moments = find_activity(video, detect_shots(video))
    spans = [(float(m.span.start), float(m.span.end)) for m in moments]
    best = best_match_tiou([tuple(event) for event in events], spans)
    print("activity spans", spans, "best tIoU per event", [round(value, 2) for value in best])
    assert sum(best) / len(best) >= 0.6
    assert all(moment.tube for moment in moments)


def test_moving_subject_on_a_static_background(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "box.mp4", ClipSpec(frame_count=100, grain=1.0))
    video = extract_video_features(probe(truth.path))
    moments = find_activity(video, detect_shots(video))
    covered = sum(m.span.duration for m in moments)
    assert covered >= 0.85 * truth.duration
    # The tube follows the subject: every tube box overlaps the true box of the frame at that time.
    frame = {time: index for index, time in enumerate(truth.frame_times)}
    for moment in moments:
        for point in moment.tube:
            x0, y0, x1, y1 = truth.boxes[frame[point.time]]  # type: ignore[misc]
            assert point.box.x0 < x1 and x0 < point.box.x1 and point.box.y0 < y1 and y0 < point.box.y1


def test_nothing_moves_nothing_found(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "still.mp4", ClipSpec(frame_count=75, moving_box=False, grain=1.5))
    video = extract_video_features(probe(truth.path))
    assert find_activity(video, detect_shots(video)) == []


def test_sensitivity_is_checked(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "s.mp4", ClipSpec(frame_count=10))
    with pytest.raises(ValueError, match="between 0 and 1"):
        find_activity(extract_video_features(probe(truth.path)), None, sensitivity=2)
