"""What every engine is to the rest of reelmark: a name, a version, capabilities, and `analyze`.

The CLI, the daemon and the round-trip tool talk to engines only through this interface, so an engine can be
swapped, cached (by name + version + params) and run in a worker with progress and cooperative cancellation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Protocol

from reelmark.core.errors import ReelmarkError
from reelmark.core.results import Analysis
from reelmark.core.tasks import Task

ProgressCallback = Callable[[str, float], None]
"""Called with a stage name and the overall fraction done, 0.0 to 1.0."""
CancelCheck = Callable[[], bool]
"""Returns True when the caller wants the work stopped; engines check it between units of work."""


class AnalysisCancelled(ReelmarkError):
    status = "CANCELLED"


@dataclass(frozen=True)
class AnalysisRequest:
    media: Path
    tasks: tuple[Task, ...]
    queries: tuple[str, ...] = ()
    start: Fraction | None = None
    end: Fraction | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    """Engine-specific options (documented by each engine); part of the cache key."""


@dataclass(frozen=True)
class EngineCapabilities:
    tasks: tuple[Task, ...]
    default_tasks: tuple[Task, ...]
    needs_gpu: bool
    max_duration_s: float | None
    """The longest media it handles in one request; None when only time limits it."""
    device: str


class Engine(Protocol):
    name: str
    version: str

    def capabilities(self) -> EngineCapabilities: ...

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis: ...
