"""The results model: exact JSON round trips, stable ids, and clear errors for malformed input."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from fractions import Fraction

import pytest

from reelmark.core import Analysis, Box, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, TubePoint
from reelmark.core.errors import ResultsFormatError
from reelmark.core.media import fingerprint, probe
from reelmark.core.media.synthetic import ClipTruth


def _span(start: Fraction, end: Fraction) -> TimeSpan:
    return TimeSpan(start, end)


@pytest.fixture()
def analysis(clips: dict[str, ClipTruth]) -> Analysis:
    clip = clips["ntsc"]
    info = probe(clip.path)
    frame = Fraction(1001, 30000)
    tube = (TubePoint(10 * frame, Box(0.1, 0.2, 0.3, 0.4)), TubePoint(40 * frame, Box(0.5, 0.2, 0.7, 0.4)))
    moments = (
        Moment(MomentKind.SHOT, _span(Fraction(0), 45 * frame), label="shot 1", score=0.9),
        Moment(MomentKind.PERSON, _span(10 * frame, 40 * frame), label="person 1", tube=tube),
        Moment(MomentKind.MATCH, _span(5 * frame, 6 * frame), text="a box moves", query="the box moves", score=0.42),
    )
    return Analysis(
        media=MediaRef(str(clip.path), fingerprint(clip.path), info),
        engine=EngineRef("signals", "0.1.0", {"sensitivity": 0.5}, None),
        moments=moments,
        created_at=datetime(2026, 11, 21, 12, 0, tzinfo=timezone.utc),
        source_range=_span(Fraction(0), 90 * frame),
        diagnostics=("sampled at 2 fps",),
    )


def test_json_round_trip_is_lossless(analysis: Analysis) -> None:
    text = analysis.to_json()
    restored = Analysis.from_json(text)
    assert restored == analysis
    assert restored.media.probe.video is not None
    assert restored.media.probe.video.rate == Fraction(30000, 1001)


def test_json_carries_exact_times_and_float_seconds(analysis: Analysis) -> None:
    data = json.loads(analysis.to_json())
    shot = next(item for item in data["moments"] if item["kind"] == "shot")
    assert shot["end"] == {"value": 3003, "rate": 2000}  # 45 frames at 30000/1001 = 1.5015 s, in lowest terms
    assert shot["end_s"] == pytest.approx(1.5015)
    person = next(item for item in data["moments"] if item["kind"] == "person")
    assert person["tube"][0]["box"] == [0.1, 0.2, 0.3, 0.4]
    assert person["tube"][0]["time_s"] == pytest.approx(10 * 1001 / 30000)
    assert data["media"]["probe"]["video"]["rate"] == "30000/1001"


def test_moment_ids_are_stable_and_content_derived() -> None:
    span = _span(Fraction(1), Fraction(2))
    first = Moment(MomentKind.HIGHLIGHT, span, label="goal")
    again = Moment(MomentKind.HIGHLIGHT, _span(Fraction(2, 2), Fraction(4, 2)), label="goal", score=0.1)
    other = Moment(MomentKind.HIGHLIGHT, span, label="save")
    assert first.id == again.id  # score is not identity: a re-run with a new score updates the same marker
    assert first.id != other.id
    assert first.id.startswith("m-")
    assert Moment(MomentKind.HIGHLIGHT, span, id="custom").id == "custom"


def test_analysis_orders_moments_and_rejects_duplicate_ids(analysis: Analysis) -> None:
    starts = [moment.span.start for moment in analysis.moments]
    assert starts == sorted(starts)
    duplicate = analysis.moments[0]
    with pytest.raises(ValueError, match="share the id"):
        analysis.with_moments((*analysis.moments, duplicate))
    assert analysis.of_kind("person")[0].label == "person 1"


@pytest.mark.parametrize(
    "build",
    [
        lambda: TimeSpan(Fraction(2), Fraction(1)),
        lambda: TimeSpan(Fraction(-1), Fraction(1)),
        lambda: TimeSpan(1.0, 2.0),  # type: ignore[arg-type]
        lambda: Box(0.5, 0.5, 0.4, 0.6),
        lambda: Box(0, 0, 1.2, 1),
        lambda: Box(0, 0, float("nan"), 1),
        lambda: Moment("explosion", TimeSpan(Fraction(0), Fraction(1))),  # type: ignore[arg-type]
        lambda: Moment(MomentKind.SHOT, TimeSpan(Fraction(0), Fraction(1)), score=float("inf")),
        lambda: Moment(
            MomentKind.FACE,
            TimeSpan(Fraction(0), Fraction(1)),
            tube=(TubePoint(Fraction(1), Box(0, 0, 1, 1)), TubePoint(Fraction(0), Box(0, 0, 1, 1))),
        ),
    ],
)
def test_invalid_values_are_refused(build: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        build()  # type: ignore[operator]


def test_box_iou() -> None:
    assert Box(0, 0, 0.5, 0.5).iou(Box(0, 0, 0.5, 0.5)) == pytest.approx(1.0)
    assert Box(0, 0, 0.5, 0.5).iou(Box(0.25, 0, 0.75, 0.5)) == pytest.approx(1 / 3)
    assert Box(0, 0, 0.1, 0.1).iou(Box(0.5, 0.5, 0.6, 0.6)) == 0.0


def test_closed_vocabulary() -> None:
    assert {kind.value for kind in MomentKind} == {
        "shot", "transition", "highlight", "segment", "reframe", "speech", "silence", "person", "face", "activity", "match",
        "description",
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda data: data.update(schema="reelmark.analysis/99"), "unknown analysis schema"),
        (lambda data: data.pop("media"), "missing the field 'media'"),
        (lambda data: data["moments"][0].update(kind="explosion"), "not one of"),
        (lambda data: data["moments"][0].update(start={"value": 1.5, "rate": 2}), "moments\\[0\\].start"),
        (lambda data: data["moments"][0].update(label=7), "moments\\[0\\].label"),
        (lambda data: next(item for item in data["moments"] if item["tube"])["tube"][0].update(box=[0, 0, 1]), "box"),
        (lambda data: data["engine"].update(params=[1, 2]), "engine.params"),
    ],
)
def test_malformed_json_gets_a_typed_error(analysis: Analysis, mutate: object, message: str) -> None:
    data = json.loads(analysis.to_json())
    mutate(data)  # type: ignore[operator]
    with pytest.raises(ResultsFormatError, match=message):
        Analysis.from_dict(data)


def test_not_json_at_all() -> None:
    with pytest.raises(ResultsFormatError, match="not valid JSON"):
        Analysis.from_json("{not json")
    with pytest.raises(ResultsFormatError, match="JSON object"):
        Analysis.from_json("[1, 2]")
