"""People and faces: the tracker's logic on synthetic detections, and presence spans on real footage."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from reelmark.core.engines.signals.features import Detection, extract_video_features
from reelmark.core.engines.signals.people import PeopleDetector, track_people
from reelmark.core.evaluation import best_match_tiou
from reelmark.core.media import probe
from reelmark.core.results import Box, MomentKind

# Derived by eye from a contact sheet of one-by-one-person-detection.mp4 sampled every 3 s: six people walk in,
# stand at the table and walk out, one at a time (edges good to about ±2 s).
ONE_BY_ONE_PEOPLE_S = [(8, 20), (23, 44), (50, 70), (74, 86), (92, 119), (125, 137)]


def _walk(x0: float, times: range, step: float = 0.02, kind: str = "person") -> list[Detection]:
    return [
        Detection(Fraction(t, 2), kind, Box(x0 + i * step, 0.2, x0 + i * step + 0.2, 0.9), 0.8)  # type: ignore[arg-type]
        for i, t in enumerate(times)
    ]


def test_iou_association_keeps_two_people_apart() -> None:
    detections = _walk(0.0, range(0, 10)) + _walk(0.6, range(0, 10), step=-0.01)
    times = [Fraction(t, 2) for t in range(10)]
    moments = track_people(detections, times, Fraction(5))
    assert [moment.label for moment in moments] == ["person 1", "person 2"]
    assert all(len(moment.tube) == 10 for moment in moments)


def test_short_gap_is_reidentified_and_long_gap_is_not() -> None:
    times = [Fraction(t, 2) for t in range(40)]
    short = _walk(0.1, range(0, 6)) + _walk(0.24, range(9, 15), step=0.0)  # gone 1.5 s, back nearby
    assert len(track_people(short, times, Fraction(20), max_gap_s=3.0)) == 1
    long = _walk(0.1, range(0, 6)) + _walk(0.24, range(20, 26), step=0.0)  # gone 7 s
    assert len(track_people(long, times, Fraction(20), max_gap_s=3.0)) == 2


def test_single_sightings_are_dropped_and_spans_are_widened() -> None:
    times = [Fraction(t, 2) for t in range(10)]
    detections = _walk(0.1, range(2, 6)) + [Detection(Fraction(4), "person", Box(0.7, 0.1, 0.8, 0.3), 0.9)]
    (moment,) = track_people(detections, times, Fraction(5), min_sightings=2)
    assert moment.kind is MomentKind.PERSON
    assert (moment.span.start, moment.span.end) == (Fraction(3, 4), Fraction(11, 4))  # ± half the 0.5 s interval


@pytest.fixture(scope="module")
def one_by_one(corpus: Path) -> list:
    detector = PeopleDetector()
    features = extract_video_features(probe(corpus / "one-by-one-person-detection.mp4"), consumers=[detector])
    return track_people(detector.detections, features.sampled_times, features.end)


def test_each_person_who_walks_in_and_out_is_found(one_by_one: list) -> None:
    """Acceptance: every labelled person has a person presence span overlapping them with tIoU ≥ 0.5."""
    spans = [(float(m.span.start), float(m.span.end)) for m in one_by_one if m.kind is MomentKind.PERSON]
    best = best_match_tiou(ONE_BY_ONE_PEOPLE_S, spans)
    print("best tIoU per person:", [round(value, 2) for value in best])
    assert min(best) >= 0.5
    # Presence spans stay inside the labelled visits (no person reported in the empty room for long).
    covered = sum(end - start for start, end in spans)
    inside = sum(max(0.0, min(end, b) - max(start, a)) for start, end in spans for a, b in ONE_BY_ONE_PEOPLE_S)
    assert inside / covered >= 0.85
    assert all(len(m.tube) >= 2 and all(0 <= p.box.x0 < p.box.x1 <= 1 for p in m.tube) for m in one_by_one)
