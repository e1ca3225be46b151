"""Reading analyses written by older reelmark versions: one upgrade step per schema version.

Saved analyses outlive the code that wrote them (JSON files beside media, the daemon's store, NLE plugins'
side files). Like OpenTimelineIO's schema upgrades, each entry of `UPGRADES` turns a dict of version N into
version N + 1; `upgrade` chains them, so a reader only ever validates the current form. A newer or unknown
version is refused with one line, since guessing at fields we do not know would lose data silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from reelmark.core.errors import ResultsFormatError

SCHEMA_NAME = "reelmark.analysis"
CURRENT_VERSION = 2
SCHEMA = f"{SCHEMA_NAME}/{CURRENT_VERSION}"

_SCHEMA_PATTERN = re.compile(rf"{re.escape(SCHEMA_NAME)}/(\d+)")


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 added word timings (`moments[].words`); a version 1 moment has none."""
    moments = [{**moment, "words": []} if isinstance(moment, dict) else moment for moment in data.get("moments", [])]
    return {**data, "moments": moments, "schema": f"{SCHEMA_NAME}/2"}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}
"""Version N -> the function turning a version N dict into version N + 1."""


def schema_version(schema: Any) -> int:
    """The version number in a `schema` field; anything that is not ours is refused."""
    match = _SCHEMA_PATTERN.fullmatch(schema) if isinstance(schema, str) else None
    if match is None:
        raise ResultsFormatError(
            f"unknown analysis schema {schema!r}; this reelmark reads {SCHEMA_NAME}/1 to {SCHEMA}. "
            "Re-run the analysis with this version"
        )
    return int(match.group(1))


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """`data` in the current schema, upgraded step by step from whichever older version it was written in."""
    version = schema_version(data.get("schema"))
    if version > CURRENT_VERSION or (version < CURRENT_VERSION and version not in UPGRADES):
        raise ResultsFormatError(
            f"unknown analysis schema {data.get('schema')!r}: this reelmark reads {SCHEMA_NAME}/1 to {SCHEMA}; "
            "open it with a newer reelmark, or re-run the analysis with this one"
        )
    while version < CURRENT_VERSION:
        data = UPGRADES[version](data)
        version += 1
    return data
