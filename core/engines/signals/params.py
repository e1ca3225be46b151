"""Reading `SignalsParams` from what a user or a client sends, by the one rule set all engines share
(`reelmark.core.engines.options`); the limits live in `SignalsParams` itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reelmark.core.engines.options import parse_options
from reelmark.core.engines.signals.context import SignalsParams


def parse_params(raw: Mapping[str, Any]) -> SignalsParams:
    """`SignalsParams` from a mapping of option names to values; defaults fill the rest."""
    return parse_options(SignalsParams, raw, "signals")
