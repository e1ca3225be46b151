"""Activity in a static shot: the labelled parking lot and CCTV room, a generated moving subject and a visit."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import CORPUS, VISIT_S
from reelmark.core.engines.signals.activity import find_activity
from reelmark.core.engines.signals.features import extract_video_features
from reelmark.core.engines.signals.shots import detect_shots
from reelmark.core.evaluation import best_match_tiou
from reelmark.core.media import probe
from reelmark.core.media.synthetic import ClipSpec, write_clip

LABELS = Path(__file__).parent / "data" / "labels" / "editing"


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


def test_a_visit_is_activity_as_it_comes_and_goes_not_while_its_ghost_lingers(visit_clip: Path) -> None:
    """The figure appears at 1 s, stands still, and leaves at 7 s. Its arrival and its leaving are activity; the
    ghost the background model keeps of it after 7 s (marked moving, unchanged) is not, nor is its standing."""
    video = extract_video_features(probe(visit_clip))
    spans = [(float(m.span.start), float(m.span.end)) for m in find_activity(video, detect_shots(video))]
    assert len(spans) == 2, spans
    (first_start, first_end), (second_start, second_end) = spans
    assert first_start <= VISIT_S[0] + 0.2 and first_end < VISIT_S[0] + 3.0
    assert VISIT_S[1] - 0.2 <= second_start <= VISIT_S[1] + 0.2 and second_end < VISIT_S[1] + 3.0
    assert float(video.foreground_fraction[video.index_at(Fraction(9))]) > 0.05, "the ghost is still foreground"


def test_the_cctv_room_between_visits_is_not_activity(corpus: Path) -> None:
    """#20's CCTV room: six visits to a table. Each visitor stood there long enough for the background model to
    half learn them, and the ghost they left made the whole clip one activity span from 6 s to the end. Now the
    empty room (labelled by eye) holds at most 1 s of activity after each exit, and every labelled entrance and
    exit is inside an activity span."""
    labels = json.loads((LABELS / "one-by-one-person-detection.json").read_text())
    video = extract_video_features(probe(corpus / "one-by-one-person-detection.mp4"))
    spans = [(float(m.span.start), float(m.span.end)) for m in find_activity(video, detect_shots(video))]
    for start, end in labels["split_acceptable_spans_s"]:
        assert sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans) <= 1.0, (start, end, spans)
    assert min(best_match_tiou([tuple(span) for span in labels["eventful_spans_s"]], spans)) > 0.2


def test_nothing_moves_nothing_found(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "still.mp4", ClipSpec(frame_count=75, moving_box=False, grain=1.5))
    video = extract_video_features(probe(truth.path))
    assert find_activity(video, detect_shots(video)) == []


def test_sensitivity_is_checked(tmp_path: Path) -> None:
    truth = write_clip(tmp_path / "s.mp4", ClipSpec(frame_count=10))
    with pytest.raises(ValueError, match="between 0 and 1"):
        find_activity(extract_video_features(probe(truth.path)), None, sensitivity=2)
