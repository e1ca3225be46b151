"""Time helpers: exact rationals, NTSC rates, SMPTE timecode (drop-frame rules), Premiere ticks, OTIO."""

from __future__ import annotations

from fractions import Fraction

import pytest
from opentimelineio.opentime import RationalTime

from reelmark.core.errors import TimecodeError
from reelmark.core.times import (
    PREMIERE_TICKS_PER_SECOND,
    as_fraction,
    exact_rate,
    format_clock_time,
    frames_to_timecode,
    from_rational_time,
    parse_clock_time,
    pts_to_seconds,
    seconds_to_pts,
    seconds_to_ticks,
    ticks_to_seconds,
    time_from_json,
    time_to_json,
    timecode_to_frames,
    to_rational_time,
)

NTSC = Fraction(30000, 1001)


def test_as_fraction_reads_decimals_exactly() -> None:
    assert as_fraction(0.1) == Fraction(1, 10)
    assert as_fraction("30000/1001") == NTSC
    assert as_fraction("12.5") == Fraction(25, 2)
    with pytest.raises(ValueError):
        as_fraction(float("nan"))
    with pytest.raises(TypeError):
        as_fraction(True)


@pytest.mark.parametrize(
    ("written", "meant"),
    [(29.97, NTSC), (29.97002997, NTSC), ("23.976", Fraction(24000, 1001)), (59.94, Fraction(60000, 1001)),
     (25, Fraction(25)), ("179/6", Fraction(179, 6)), (12.5, Fraction(25, 2))],
)
def test_exact_rate_recovers_ntsc_fractions(written: object, meant: Fraction) -> None:
    assert exact_rate(written) == meant  # type: ignore[arg-type]


def test_pts_round_trip_is_exact() -> None:
    time_base = Fraction(1, 30000)
    for frame in range(0, 5000, 37):
        seconds = frame / NTSC
        assert seconds_to_pts(seconds, time_base) == frame * 1001
        assert pts_to_seconds(frame * 1001, time_base) == seconds


@pytest.mark.parametrize(
    ("timecode", "rate", "frames"),
    [
        ("01:00:00:00", 24, 86400),
        ("01:00:00:00", Fraction(24000, 1001), 86400),  # 23.976 counts at a nominal 24
        ("01:00:00:00", NTSC, 108000),
        ("01:00:00;00", NTSC, 107892),
        ("00:01:00;02", NTSC, 1800),
        ("00:10:00;00", NTSC, 17982),
        ("01:00:00;00", Fraction(60000, 1001), 215784),
        ("00:00:01:24", 25, 49),
        # Rates OTIO's from_timecode refuses, which cameras still write timecode at: whole frames a second.
        ("01:00:00:00", 10, 36000),
        ("00:00:01:14", 15, 29),
        ("01:00:00:00", 120, 432000),
        ("00:00:01:99", 100, 199),
    ],
)
def test_timecode_to_frames(timecode: str, rate: Fraction, frames: int) -> None:
    assert timecode_to_frames(timecode, rate) == frames


def test_timecode_round_trips_across_drop_frame_boundaries() -> None:
    for frames in list(range(0, 20000, 7)) + [107891, 107892, 107893]:
        assert timecode_to_frames(frames_to_timecode(frames, NTSC, drop_frame=True), NTSC) == frames
        assert timecode_to_frames(frames_to_timecode(frames, NTSC), NTSC) == frames


@pytest.mark.parametrize(
    ("timecode", "rate", "reason"),
    [
        ("00:01:00;00", NTSC, "skipped"),  # frames 0 and 1 of minute 1 do not exist in drop-frame
        ("00:01:00;01", NTSC, "skipped"),
        ("01:00:00;00", 25, "drop-frame"),  # ';' at a non-NTSC rate
        ("00:00:00:30", 25, "out of range"),
        ("00:61:00:00", 25, "out of range"),
        ("1 hour", 25, "not a timecode"),
        ("00:00:01:05", Fraction(25, 2), "names no frame"),  # no SMPTE count at 12.5 or 179/6 fps
        ("01:00:00:00", Fraction(179, 6), "names no frame"),
    ],
)
def test_impossible_timecodes_are_rejected(timecode: str, rate: Fraction, reason: str) -> None:
    with pytest.raises(TimecodeError, match=reason):
        timecode_to_frames(timecode, rate)


def test_drop_frame_labels_only_at_ntsc_rates() -> None:
    assert frames_to_timecode(1800, NTSC, drop_frame=True) == "00:01:00;02"
    with pytest.raises(TimecodeError):
        frames_to_timecode(10, 25, drop_frame=True)


@pytest.mark.parametrize("rate", [Fraction(24000, 1001), Fraction(24), Fraction(25), NTSC, Fraction(50), Fraction(60000, 1001)])
def test_premiere_ticks_are_whole_per_frame(rate: Fraction) -> None:
    frame = 1 / rate
    assert (frame * PREMIERE_TICKS_PER_SECOND).denominator == 1
    assert ticks_to_seconds(seconds_to_ticks(123 * frame)) == 123 * frame


def test_rational_time_round_trip_keeps_ntsc_exact() -> None:
    seconds = Fraction(1001, 30000) * 12345
    rational = to_rational_time(seconds, NTSC)
    assert isinstance(rational, RationalTime)
    assert rational.value == 12345
    assert from_rational_time(rational) == seconds


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("12.5", Fraction(25, 2)), ("01:30", 90), ("1:02:03.250", Fraction(14893, 4))])
def test_parse_clock_time(text: str, seconds: Fraction) -> None:
    assert parse_clock_time(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "1:2:3:4", "00:75", "-3"])
def test_parse_clock_time_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock_time(text)


def test_format_clock_time() -> None:
    assert format_clock_time(Fraction(14893, 4)) == "01:02:03.250"
    assert format_clock_time(Fraction(0)) == "00:00:00.000"


def test_time_json_is_exact_and_validated() -> None:
    seconds = Fraction(1001, 3000)
    assert time_to_json(seconds) == {"value": 1001, "rate": 3000}
    assert time_from_json({"value": 1001, "rate": 3000}, "x") == seconds
    for bad in ({"value": 1.5, "rate": 3}, {"value": 1, "rate": 0}, {"value": 1}, "1/3", {"value": True, "rate": 1}):
        with pytest.raises(ValueError):
            time_from_json(bad, "x")
