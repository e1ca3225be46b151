"""One reader for every engine's options (`--param NAME=VALUE` on the CLI, `AnalysisSpec.params` in the daemon).

Each engine declares its options as one frozen dataclass (faster-whisper's `TranscriptionOptions` habit): field
types say how a value is read, field docstrings say what it means (`param_help`), and the dataclass's own
`__post_init__` checks the limits, so a value is checked once wherever the options object is built. This module
only converts: text from the CLI and JSON values from clients arrive here alike, and an unknown name or an
unreadable value is an `InvalidRequestError` that lists what is accepted (a misspelt option would otherwise
change nothing and look like it worked).

Reading rules, the same for every engine:
- an optional field (`X | None`) takes None, "" or "none" (any case) as None;
- an integer field takes integral numbers written as floats ("3.0", 3.0), and refuses 3.5;
- a Fraction field takes "1/2", "0.5" or a number;
- a tuple field takes comma-separated text or a JSON list;
- a Literal field takes only one of its choices.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, TypeVar

from reelmark.core.errors import InvalidRequestError

Options = TypeVar("Options")


def parse_options(options_type: type[Options], raw: Mapping[str, Any], engine: str) -> Options:
    """`options_type` from option names to values (text or JSON values); defaults fill the rest."""
    hints = typing.get_type_hints(options_type)
    known = [field.name for field in dataclasses.fields(options_type)]  # type: ignore[arg-type]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise InvalidRequestError(f"unknown {engine} option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}")
    return options_type(**{name: _convert(name, value, hints[name]) for name, value in raw.items()})


def options_key(options: object) -> dict[str, Any]:
    """Every option as a JSON-native value (a Fraction as "n/d", a tuple as a list), for an analysis's engine
    params: a stored analysis then compares equal to a fresh one."""
    def native(value: object) -> object:
        if isinstance(value, Fraction):
            return str(value)
        return list(value) if isinstance(value, tuple) else value

    return {field.name: native(getattr(options, field.name)) for field in dataclasses.fields(options)}  # type: ignore[arg-type]


def _convert(name: str, value: Any, kind: Any) -> Any:
    required, optional = _unwrap_optional(kind)
    if optional and (value is None or (isinstance(value, str) and value.strip().lower() in ("", "none"))):
        return None
    try:
        return _convert_to(name, value, required)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        raise InvalidRequestError(f"--param {name}={value!r} is not a valid {_describe(kind)}") from None


def _convert_to(name: str, value: Any, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin is typing.Literal:
        choices = typing.get_args(kind)
        if value not in choices:
            raise InvalidRequestError(f"--param {name} must be one of {', '.join(map(str, choices))}, not {value!r}")
        return value
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(str(item).strip() for item in items if str(item).strip())
    if kind is bool:
        return _boolean(value)
    if kind is Fraction:
        return Fraction(str(value).strip())
    if kind is float:
        return float(value)
    if kind is int:
        number = float(value)
        if not number.is_integer():
            raise ValueError(value)
        return int(number)
    return str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


def _unwrap_optional(kind: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed) for `X | None` and `Optional[X]`."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(kind) if member is not type(None)]
        if len(members) == 1:
            return members[0], len(members) < len(typing.get_args(kind))
    return kind, False


def _describe(kind: Any) -> str:
    required, optional = _unwrap_optional(kind)
    name = getattr(required, "__name__", None) or str(required).replace("typing.", "")
    if typing.get_origin(required) is tuple:
        name = "comma-separated list"
    return f"{name} or none" if optional else name
