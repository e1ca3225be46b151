"""What a user can ask an engine to do. Each engine declares the subset it supports."""

from __future__ import annotations

from enum import StrEnum


class Task(StrEnum):
    SHOTS = "shots"
    """Hard cuts and gradual transitions."""
    PEOPLE = "people"
    """People and faces, with tubes and presence spans."""
    ACTIVITY = "activity"
    """Movement inside a static shot."""
    HIGHLIGHTS = "highlights"
    """The best clips, with clean in and out points."""
    SPLIT = "split"
    """Segments of a target length cut at natural points."""
    REFRAME = "reframe"
    """A crop path for vertical or square delivery."""
    TRANSCRIPT = "transcript"
    """Search subtitle cues for the queries."""
    GROUND = "ground"
    """When does the query happen: time ranges."""
    TRACK = "track"
    """Where is the query over time: a tube of boxes."""
    DESCRIBE = "describe"
    """Timestamped descriptions."""
    ASK = "ask"
    """A free question about the clip."""


QUERY_TASKS = frozenset({Task.TRANSCRIPT, Task.GROUND, Task.TRACK, Task.ASK})
"""Tasks that need at least one --query."""
