"""What the running Resolve offers, decided from its documented version, and calls that never take the script down.

Why not `hasattr`: on Resolve's scripting objects `hasattr()` is True for every name and `getattr()` hands back
None or a fabricated callable (davinci-resolve-mcp `docs/reference/api-limitations.md`, "hasattr() / getattr()
on Resolve API objects"), so it says nothing about what a build has. The scripting README's history gives the
builds instead (DESIGN §10): `Timeline.GetSelectedClips()` from 21.0.4 (also `api-coverage.md`: "Requires a
Resolve 21.0.4 build"), `MediaPool.GetSelectedClips()` from 19.0.2. `GetVersion()` reads `[19, 1, 3, 7, '']`
and `GetVersionString()` "19.1.3.7" on a live 19.1.3 (`api-coverage.md`).
A gated call is made only on a build that has it, and even then through `try_call`, so a build that behaves
otherwise costs a fallback, never a traceback.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

TIMELINE_SELECTED_CLIPS = (21, 0, 4)
MEDIA_POOL_SELECTED_CLIPS = (19, 0, 2)
NTSC_RATES = (Fraction(24000, 1001), Fraction(30000, 1001), Fraction(48000, 1001), Fraction(60000, 1001),
              Fraction(120000, 1001))  # fmt: skip


def parse_version(resolve: Any) -> tuple[int, int, int]:
    """(major, minor, patch) from `GetVersion()` ([major, minor, patch, build, suffix] per the README), else
    from `GetVersionString()` ("major.minor.patch[suffix].build"); (0, 0, 0) when neither answers."""
    fields = try_call(resolve, "GetVersion")
    if not isinstance(fields, (list, tuple)):
        fields = str(try_call(resolve, "GetVersionString") or "").split(".")
    numbers = []
    for field in list(fields)[:3]:
        digits = "".join(char for char in str(field) if char.isdigit())
        numbers.append(int(digits) if digits else 0)
    return tuple((numbers + [0, 0, 0])[:3])  # type: ignore[return-value]


def version_text(version: tuple[int, int, int]) -> str:
    return ".".join(str(part) for part in version)


def try_call(owner: Any, name: str, *args: Any) -> Any:
    """`owner.name(*args)`, or None when the call raises: the caller treats None as "no answer"."""
    try:
        return getattr(owner, name)(*args)
    except Exception:  # noqa: BLE001 - Resolve's bridge raises anything; the caller falls back
        return None


def as_list(value: Any) -> list[Any]:
    """Resolve returns lists, or dicts keyed 1..n from Lua-flavoured calls; None is an empty answer."""
    if isinstance(value, dict):
        return [value[key] for key in sorted(value)]
    return list(value) if isinstance(value, (list, tuple)) else []


def parse_rate(text: Any) -> Fraction | None:
    """A frame rate as Resolve prints it ("29.97", "23.976", "25", "59.94") as an exact rate; NTSC rates
    printed to two or three decimals become n*1000/1001. None when the text is not a positive number."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError):
        return None
    if value <= 0:
        return None
    for exact in NTSC_RATES:
        if abs(value - exact) < Fraction(1, 100):
            return exact
    return value
