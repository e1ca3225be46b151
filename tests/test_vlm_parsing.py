"""The answer parser on a table of answers in the shapes Qwen, Vidi and Gemini give, and on garbage."""

from __future__ import annotations

import pytest

from reelmark.core.engines.vlm.parsing import normalise_box, parse_spans, parse_tube

DURATION = 60.0

SPANS = [
    # Qwen2.5-VL
    ("The event happens in 12.5 - 20.0 seconds.", "seconds", [(12.5, 20.0)]),
    ("from 3 to 5.5 seconds and from 7s to 9s", "seconds", [(3.0, 5.5), (7.0, 9.0)]),
    ('{"start_time": 2.5, "end_time": 6}', "seconds", [(2.5, 6.0)]),
    ("The car enters at 12.5 seconds and leaves at 18.0 seconds.", "seconds", [(12.5, 18.0)]),
    ("It starts at 3.5, ends at 9.", "seconds", [(3.5, 9.0)]),
    ("start: 4, end: 7.25", "seconds", [(4.0, 7.25)]),
    ("starts at 00:05 and ends at 00:09; the person appears at 20 s, then stops at 25 s", "seconds", [(5.0, 9.0), (20.0, 25.0)]),
    # Qwen3-VL
    ("<2.0 seconds> - <4.5 seconds>", "seconds", [(2.0, 4.5)]),
    # Vidi: fractions of the duration
    ("0.12-0.25, 0.40-0.43", "fraction", [(7.2, 15.0), (24.0, 25.8)]),
    # Gemini: mm:ss, hh:mm:ss
    ("00:12 - 00:25: a red car enters", "seconds", [(12.0, 25.0)]),
    ("[00:05-00:07] red car\n[00:30-00:40] blue car", "seconds", [(5.0, 7.0), (30.0, 40.0)]),
    ("1. 00:00:05 - 00:00:09.5 The guest explains pricing", "seconds", [(5.0, 9.5)]),
    # percent
    ("between 10% and 25%", "seconds", [(6.0, 15.0)]),
    # a small overshoot past the end is clamped, not dropped
    ("55 - 60.3", "seconds", [(55.0, 60.0)]),
]


@pytest.mark.parametrize(("answer", "plain", "expected"), SPANS)
def test_time_ranges(answer: str, plain: str, expected: list[tuple[float, float]]) -> None:
    spans, dropped = parse_spans(answer, DURATION, plain)  # type: ignore[arg-type]
    assert [(round(s.start, 6), round(s.end, 6)) for s in spans] == expected and dropped == []


def test_text_beside_a_range_becomes_the_title() -> None:
    spans, _ = parse_spans("1. 00:12 - 00:25: A red car enters\n2. 30 - 40 seconds: it leaves", DURATION)
    assert [span.text for span in spans] == ["A red car enters", "it leaves"]


DROPPED = [
    ("from 50 to 40 seconds", "before it starts"),
    ("90 - 200", "after the clip ends"),
    ("00:30 - 01:30", "after the clip ends"),
    ("between 50% and 150%", "more than the whole clip"),
    ("garbage", "no time range"),
    ("\x00\x16 pers�� ]] [[ 1.2.3 - -", "no time range"),
    ("0.5-1.7", "not a fraction"),
]


@pytest.mark.parametrize(("answer", "reason"), DROPPED)
def test_bad_ranges_are_dropped_with_a_reason(answer: str, reason: str) -> None:
    plain = "fraction" if answer == "0.5-1.7" else "seconds"
    spans, dropped = parse_spans(answer, DURATION, plain)  # type: ignore[arg-type]
    assert spans == [] and len(dropped) == 1 and reason in dropped[0], dropped


def test_tubes_in_each_convention() -> None:
    qwen25 = '[{"time": 1.0, "bbox_2d": [28, 14, 140, 56]}, {"time": 2, "bbox_2d": [56, 28, 280, 112]}]'
    points, dropped = parse_tube(qwen25, 10, "pixels", (280, 112))
    assert [(p.time, p.box) for p in points] == [(1.0, (0.1, 0.125, 0.5, 0.5)), (2.0, (0.2, 0.25, 1.0, 1.0))]
    assert dropped == []
    qwen3, _ = parse_tube("1s: [100, 200, 500, 600]\n2s: [150, 200, 550, 600]", 10, "thousand", (1, 1))
    assert [p.box for p in qwen3] == [(0.1, 0.2, 0.5, 0.6), (0.15, 0.2, 0.55, 0.6)]
    vidi, _ = parse_tube("(0.25, [0.1, 0.2, 0.5, 0.6]) (0.5, [0.2, 0.2, 0.6, 0.6])", 10, "unit", (1, 1), "fraction")
    assert [(p.time, p.box) for p in vidi] == [(2.5, (0.1, 0.2, 0.5, 0.6)), (5.0, (0.2, 0.2, 0.6, 0.6))]
    box_first = '[{"bbox_2d": [28, 14, 140, 56], "time": 1.0}, {"bbox_2d": [56, 28, 280, 112], "time": 2}]'
    points, dropped = parse_tube(box_first, 10, "pixels", (280, 112))
    assert [(p.time, p.box) for p in points] == [(1.0, (0.1, 0.125, 0.5, 0.5)), (2.0, (0.2, 0.25, 1.0, 1.0))]
    assert dropped == [], "each box takes its own object's time, whichever key comes first"
    gemini, _ = parse_tube('[{"box_2d": [100, 200, 500, 600], "timestamp": "00:01"}]', 10, "thousand", (1, 1))
    assert [(p.time, p.box) for p in gemini] == [(1.0, (0.2, 0.1, 0.6, 0.5))], "box_2d is [y0, x0, y1, x1]"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("1s: [200, 100, 100, 110]", "corners reversed"),
        ("1s: [10, 20, 300, 80]", "outside the frame"),
        ("30s: [10, 20, 30, 40]", "outside the clip"),
        ("[10, 20, 30, 40]", "no time given"),
        ("1s: [10, 20, 10, 40]", "empty box"),
        ("no boxes at all", "no box"),
    ],
)
def test_bad_boxes_are_dropped_with_a_reason(answer: str, reason: str) -> None:
    points, dropped = parse_tube(answer, 10, "pixels", (224, 112))
    assert points == [] and len(dropped) == 1 and reason in dropped[0], dropped


def test_unit_boxes_are_read_as_unit_whatever_the_convention() -> None:
    assert normalise_box((0.1, 0.2, 0.3, 0.4), "pixels", (640, 360)) == ((0.1, 0.2, 0.3, 0.4), "")
    assert normalise_box((64, 36, 320, 180), "pixels", (640, 360)) == ((0.1, 0.1, 0.5, 0.5), "")


def test_a_second_box_at_the_same_time_is_dropped_with_a_reason() -> None:
    points, dropped = parse_tube("1s: [10, 20, 30, 40]\n1s: [20, 20, 40, 40]", 10, "pixels", (224, 112))
    assert len(points) == 1 and len(dropped) == 1 and "came earlier" in dropped[0], dropped
