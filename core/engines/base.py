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

from reelmark.core.errors import EngineUnavailableError, InvalidRequestError, ReelmarkError
from reelmark.core.results import Analysis
from reelmark.core.tasks import QUERY_TASKS, Task

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
    unavailable: str | None = None
    """Why it cannot run on this machine as things stand, and the fix; None when it can."""


class Engine(Protocol):
    name: str
    version: str

    def capabilities(self) -> EngineCapabilities: ...

    def preflight(self, request: AnalysisRequest) -> None:
        """Raise the error `request` would fail with that needs no work to find: unknown options or tasks, a
        missing query, model or device. The daemon calls it before queueing, so a client learns at once."""
        ...

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis: ...


def checked_tasks(request: AnalysisRequest, engine: str, supported: tuple[Task, ...], default: tuple[Task, ...],
                  elsewhere: str) -> tuple[Task, ...]:  # fmt: skip
    """The tasks `request` asks of `engine` (its defaults when none), or the error saying what to do instead:
    a task it cannot do (`elsewhere` names the engine that can), or a query task without a query."""
    tasks = tuple(dict.fromkeys(request.tasks)) or default
    unsupported = [task.value for task in tasks if task not in supported]
    if unsupported:
        raise EngineUnavailableError(f"engine {engine} cannot do {', '.join(unsupported)}; {elsewhere}")
    needing = [task.value for task in tasks if task in QUERY_TASKS and not request.queries]
    if needing:
        raise InvalidRequestError(f"--task {', '.join(needing)} needs at least one --query")
    return tasks
