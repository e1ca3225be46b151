"""The grounding harness's measures (tests/bench/grounding.py) on hand-computed cases."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "bench"))
from grounding import iou, merge, multi_iou  # noqa: E402


def test_iou_of_two_ranges() -> None:
    assert iou((0, 10), (5, 15)) == pytest.approx(5 / 15)
    assert iou((0, 1), (2, 3)) == 0 and iou((2, 4), (2, 4)) == 1


def test_multi_interval_iou_compares_unions() -> None:
    assert merge([(5, 7), (0, 2), (1, 3)]) == [(0, 3), (5, 7)]
    # truth 4.5–8.7 and 14.9–18.8 (7.8 s); prediction 4–9 covers the first only: 4.2 / (5 + 3.9)
    assert multi_iou([(4, 9)], [(4.5, 8.7), (14.9, 18.8)]) == pytest.approx(4.2 / 8.9)
    assert multi_iou([(0, 1), (0.5, 2)], [(0, 2)]) == 1, "overlapping predictions count once"
    assert multi_iou([], [(0, 2)]) == 0
