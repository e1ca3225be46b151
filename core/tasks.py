"""The built-in task names. Each engine's own table declares the tasks it does, which need a query, and its
defaults (`signals.tasks.TASKS`, `vlm.engine.SUPPORTED_TASKS`); a plug-in engine or task may add names."""

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

