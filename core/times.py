"""Exact time arithmetic shared by ingest, engines, bridge and plugins.

Time stays rational end to end (DESIGN §3): a media time is a `Fraction` of seconds, frame rates are exact
fractions (30000/1001, never 29.97), and floats appear only at the edges (display, prompts, `start_s` fields).
This module converts between the representations the other layers speak:

- PyAV: integer pts in a stream's `time_base`;
- OpenTimelineIO: `RationalTime(value, rate)` with float fields;
- SMPTE timecode, including drop-frame, which exists only at 30000/1001 and 60000/1001;
- Premiere Pro ticks, 254016000000 per second;
- the JSON form used by the results model: `{"value": n, "rate": d}` meaning n/d seconds.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any, Literal

from reelmark.core.errors import TimecodeError

PREMIERE_TICKS_PER_SECOND = 254_016_000_000

# Rates that NLEs and cameras write as rounded decimals but mean as NTSC fractions.
NTSC_RATES = tuple(Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120))
DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))

Rounding = Literal["floor", "ceil", "nearest"]


def as_fraction(value: Fraction | int | float | str) -> Fraction:
    """Read a number exactly: `"30000/1001"`, `"0.5"`, `2`, `0.1` (as the decimal 1/10, not the binary double)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a time or a rate")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a finite number")
        return Fraction(repr(value))
    if isinstance(value, str):
        return Fraction(value.strip())
    raise TypeError(f"cannot read {value!r} as an exact number")


def exact_rate(rate: Fraction | int | float | str) -> Fraction:
    """An exact frame rate from a possibly rounded one: 29.97 and 29.97002997 both mean 30000/1001."""
    rate_fraction = as_fraction(rate)
    if rate_fraction <= 0:
        raise ValueError(f"frame rate must be positive, got {rate}")
    for ntsc in NTSC_RATES:
        if abs(rate_fraction - ntsc) < Fraction(1, 200):
            return ntsc
    return rate_fraction.limit_denominator(1001)


def round_fraction(value: Fraction, rounding: Rounding = "nearest") -> int:
    """Round to an integer; `nearest` rounds halves up so that results do not depend on parity."""
    if rounding == "floor":
        return math.floor(value)
    if rounding == "ceil":
        return math.ceil(value)
    return math.floor(value + Fraction(1, 2))


def pts_to_seconds(pts: int, time_base: Fraction) -> Fraction:
    """The presentation time of a PyAV pts, exactly."""
    return pts * time_base


def seconds_to_pts(seconds: Fraction, time_base: Fraction, rounding: Rounding = "nearest") -> int:
    """The pts in `time_base` for a media time; exact when the time lies on the time base's grid."""
    return round_fraction(seconds / time_base, rounding)


def seconds_to_frames(seconds: Fraction, rate: Fraction, rounding: Rounding = "floor") -> int:
    """The frame index at `rate` showing at `seconds` (floor: the frame on screen at that instant)."""
    return round_fraction(seconds * rate, rounding)


def frames_to_seconds(frames: int, rate: Fraction) -> Fraction:
    return Fraction(frames) / rate


def to_rational_time(seconds: Fraction, rate: Fraction) -> Any:
    """An OTIO `RationalTime` counting frames at `rate`; its value is fractional if `seconds` is off the grid."""
    from opentimelineio.opentime import RationalTime

    return RationalTime(float(seconds * rate), float(rate))


def from_rational_time(rational_time: Any) -> Fraction:
    """Seconds from an OTIO `RationalTime`, reading its float rate as the exact rate it stands for."""
    rate = exact_rate(rational_time.rate)
    value = as_fraction(rational_time.value)
    return value / rate


def seconds_to_ticks(seconds: Fraction, rounding: Rounding = "nearest") -> int:
    """Premiere Pro ticks; exact for every common frame rate, since 254016000000 is divisible by them all."""
    return round_fraction(seconds * PREMIERE_TICKS_PER_SECOND, rounding)


def ticks_to_seconds(ticks: int) -> Fraction:
    return Fraction(ticks, PREMIERE_TICKS_PER_SECOND)


def is_drop_frame_rate(rate: Fraction) -> bool:
    return rate in DROP_FRAME_RATES


_TIMECODE = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


def timecode_to_frames(timecode: str, rate: Fraction | int | float | str) -> int:
    """The frame count that a SMPTE timecode names at `rate`.

    A `;` (or `.`/`,`) before the frames means drop-frame, which exists only at 30000/1001 and 60000/1001.
    Labels that drop-frame skips (frames 00 and 01 of most minutes at 29.97) are rejected, not guessed.
    Non-drop timecode counts the nominal whole rate's frames a second, at any whole or NTSC rate (10, 15, 100 and
    120 fps cameras write it too, and OTIO's `from_timecode` refuses those rates); at 12.5 or 179/6 fps there is
    no such count, and that is a `TimecodeError`.
    """
    from opentimelineio.opentime import from_timecode

    exact = exact_rate(rate)
    match = _TIMECODE.match(timecode.strip())
    if match is None:
        raise TimecodeError(f"{timecode!r} is not a timecode; write it as HH:MM:SS:FF (or HH:MM:SS;FF for drop-frame)")
    hours, minutes, seconds, separator, frames = match.groups()
    drop_frame = separator != ":"
    nominal = round_fraction(exact)
    if int(minutes) > 59 or int(seconds) > 59 or int(frames) >= nominal:
        raise TimecodeError(f"{timecode!r} does not exist at {exact} fps: minutes, seconds or frames out of range")
    if drop_frame:
        if not is_drop_frame_rate(exact):
            raise TimecodeError(
                f"{timecode!r} is drop-frame, which exists only at 30000/1001 and 60000/1001 fps, not {exact}; "
                "use ':' before the frames"
            )
        dropped_per_minute = 2 * nominal // 30
        if int(seconds) == 0 and int(minutes) % 10 != 0 and int(frames) < dropped_per_minute:
            raise TimecodeError(
                f"{timecode!r} is skipped by drop-frame counting at {exact} fps (frames 0–{dropped_per_minute - 1} of "
                "minutes not divisible by 10 do not exist)"
            )
        return int(round(from_timecode(f"{int(hours):02d}:{minutes}:{seconds};{int(frames):02d}", float(exact)).value))
    if exact.denominator != 1 and exact * 1001 % 1000 != 0:
        raise TimecodeError(f"{timecode!r} names no frame at {exact} fps: SMPTE timecode counts whole frames a second")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * nominal + int(frames)


def frames_to_timecode(frames: int, rate: Fraction | int | float | str, drop_frame: bool = False) -> str:
    """SMPTE timecode for a frame count; drop-frame only at 30000/1001 and 60000/1001."""
    from opentimelineio.opentime import RationalTime

    exact = exact_rate(rate)
    if frames < 0:
        raise TimecodeError(f"timecode cannot be negative (frame {frames})")
    if drop_frame and not is_drop_frame_rate(exact):
        raise TimecodeError(f"drop-frame timecode exists only at 30000/1001 and 60000/1001 fps, not {exact}")
    return RationalTime(frames, float(exact)).to_timecode(float(exact), drop_frame)


def parse_clock_time(text: str) -> Fraction:
    """Seconds from what a user types: `90`, `12.5`, `01:30`, `1:02:03.250`."""
    stripped = text.strip()
    parts = stripped.split(":")
    if not stripped or len(parts) > 3:
        raise ValueError(f"{text!r} is not a time; write seconds (12.5) or [hh:]mm:ss[.fff]")
    try:
        values = [Fraction(part) for part in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a time; write seconds (12.5) or [hh:]mm:ss[.fff]") from None
    if any(value < 0 for value in values) or any(value >= 60 for value in values[1:]):
        raise ValueError(f"{text!r} is not a time: each field must be positive and minutes/seconds below 60")
    total = Fraction(0)
    for value in values:
        total = total * 60 + value
    return total


def format_clock_time(seconds: Fraction, decimals: int = 3) -> str:
    """`hh:mm:ss.fff` for display; the value shown is rounded, the value kept is not."""
    scale = 10**decimals
    total = round_fraction(seconds * scale)
    sign = "-" if total < 0 else ""
    whole, fraction = divmod(abs(total), scale)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    tail = f".{fraction:0{decimals}d}" if decimals else ""
    return f"{sign}{hours:02d}:{minutes:02d}:{secs:02d}{tail}"


def time_to_json(seconds: Fraction) -> dict[str, int]:
    """The results model's exact time: `{"value": n, "rate": d}` is n/d seconds, in lowest terms."""
    return {"value": seconds.numerator, "rate": seconds.denominator}


def time_from_json(data: Any, where: str) -> Fraction:
    if not isinstance(data, dict) or set(data) != {"value", "rate"}:
        raise ValueError(f"{where}: expected {{'value': int, 'rate': int}}, got {data!r}")
    value, rate = data["value"], data["rate"]
    if not all(isinstance(part, int) and not isinstance(part, bool) for part in (value, rate)) or rate <= 0:
        raise ValueError(f"{where}: value must be an integer and rate a positive integer, got {data!r}")
    return Fraction(value, rate)


def ratio_to_json(ratio: Fraction) -> str:
    """Rates and time bases as `"30000/1001"`: exact, and readable by `Fraction()` in any language."""
    return f"{ratio.numerator}/{ratio.denominator}"


def ratio_from_json(text: Any, where: str) -> Fraction:
    if not isinstance(text, str):
        raise ValueError(f"{where}: expected a ratio string such as '30000/1001', got {text!r}")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{where}: {text!r} is not a ratio such as '30000/1001'") from None

