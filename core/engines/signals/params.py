"""Reading `SignalsParams` from what a user or a client sends: strings from the CLI, JSON values from the daemon.

Unknown names and unreadable values are `ReelmarkError`s that list what is accepted, never silently ignored:
a misspelt option would otherwise change nothing and look like it worked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from reelmark.core.engines.signals.context import SignalsParams
from reelmark.core.errors import InvalidRequestError

# Annotations stay strings (postponed evaluation), e.g. "float | None": conversion dispatches on their text.
_FIELD_TYPES = {field.name: str(field.type) for field in dataclasses.fields(SignalsParams)}


def _convert(name: str, value: Any) -> Any:
    kind = _FIELD_TYPES[name]
    try:
        if value is None and "None" in kind:
            return None
        if isinstance(value, str) and value.strip().lower() == "none" and "None" in kind:
            return None
        if kind.startswith("Fraction"):
            return Fraction(str(value))
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("int"):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if kind.startswith("tuple"):
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(item).strip() for item in items if str(item).strip())
        if kind.startswith("Literal"):
            choices = _literal_choices(kind)
            if value not in choices:
                raise InvalidRequestError(f"--param {name} must be one of {', '.join(choices)}, not {value!r}")
            return value
    except (TypeError, ValueError, ZeroDivisionError):
        raise InvalidRequestError(f"--param {name}={value!r} is not a valid {kind}") from None
    return value


def _literal_choices(kind: str) -> tuple[str, ...]:
    """The choices of a `Literal['a', 'b']` annotation (annotations are strings under postponed evaluation)."""
    inside = kind[kind.index("[") + 1 : kind.rindex("]")]
    return tuple(part.strip().strip("'\"") for part in inside.split(","))


def parse_params(raw: Mapping[str, Any]) -> SignalsParams:
    """`SignalsParams` from a mapping of option names to values; defaults fill the rest."""
    unknown = sorted(set(raw) - set(_FIELD_TYPES))
    if unknown:
        known = ", ".join(sorted(_FIELD_TYPES))
        raise InvalidRequestError(f"unknown signals option(s) {', '.join(unknown)}; known options: {known}")
    params = SignalsParams(**{name: _convert(name, value) for name, value in raw.items()})
    _check(params)
    return params


def _check(params: SignalsParams) -> None:
    if not 0 <= params.shot_sensitivity <= 1:
        raise InvalidRequestError("--param shot_sensitivity must lie between 0 and 1")
    if not 0 < params.detect_fps <= 30:
        raise InvalidRequestError("--param detect_fps must lie in (0, 30]")
    if params.detect_side < 64:
        raise InvalidRequestError("--param detect_side must be at least 64 pixels")
    if params.highlight_count < 1:
        raise InvalidRequestError("--param highlight_count must be at least 1")
    if not 0 < params.highlight_min_s <= params.highlight_max_s:
        raise InvalidRequestError("--param highlight_min_s must be positive and at most highlight_max_s")
    if params.split_target_s is not None and params.split_target_s <= 0:
        raise InvalidRequestError("--param split_target_s must be positive (or none to choose from the clip's length)")
    if params.highlight_budget_s is not None and params.highlight_budget_s < params.highlight_min_s:
        raise InvalidRequestError("--param highlight_budget_s must be at least highlight_min_s")
