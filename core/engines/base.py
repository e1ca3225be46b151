"""What every engine is to the rest of reelmark: a name, a version, capabilities, and `analyze`.

The CLI, the daemon and the round-trip tool talk to engines only through this interface, so an engine can be
swapped, cached (by name + version + params) and run in a worker with progress and cooperative cancellation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from reelmark.core.errors import EngineUnavailableError, InvalidRangeError, InvalidRequestError, ReelmarkError
from reelmark.core.results import Analysis, EngineRef, MediaRef, Moment, TimeSpan

if TYPE_CHECKING:
    from reelmark.core.media.types import MediaInfo

ProgressCallback = Callable[[str, float], None]
"""Called with a stage name and the overall fraction done, 0.0 to 1.0."""
CancelCheck = Callable[[], bool]
"""Returns True when the caller wants the work stopped; engines check it between units of work."""


class AnalysisCancelled(ReelmarkError):
    status = "CANCELLED"


@dataclass(frozen=True)
class AnalysisRequest:
    media: Path
    tasks: tuple[str, ...]
    """Task names (`reelmark.core.tasks.Task` names the built-in ones); each engine's table says which it does."""
    queries: tuple[str, ...] = ()
    start: Fraction | None = None
    end: Fraction | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    """Engine-specific options (documented by each engine); part of the cache key."""


@dataclass(frozen=True)
class EngineCapabilities:
    tasks: tuple[str, ...]
    default_tasks: tuple[str, ...]
    needs_gpu: bool
    max_duration_s: float | None
    """The longest media it handles in one request; None when only time limits it."""
    device: str
    unavailable: str | None = None
    """Why it cannot run on this machine as things stand, and the fix; None when it can."""


class Engine(Protocol):
    """An engine declares what it can do as class attributes (read without building it: the CLI's choices, the
    daemon's engine list and the "use the other engine" hints come from them), and does the work in `analyze`."""

    name: str
    version: str
    summary: str
    """One line for `--help`: what it needs and what it is for."""
    tasks: tuple[str, ...]
    default_tasks: tuple[str, ...]
    query_tasks: frozenset[str]
    """The tasks that read `--query` (and need one)."""
    options: type
    """The options dataclass (`reelmark.core.engines.options`); its field docstrings are the `--param` help."""

    def capabilities(self) -> EngineCapabilities: ...

    def preflight(self, request: AnalysisRequest) -> None:
        """Raise the error `request` would fail with that needs no work to find: unknown options or tasks, a
        missing query, model or device. The daemon calls it before queueing, so a client learns at once."""
        ...

    def analyze(
        self, request: AnalysisRequest, progress: ProgressCallback | None = None, cancelled: CancelCheck | None = None
    ) -> Analysis: ...


def requested_tasks(tasks: Sequence[str], queries: Sequence[str], engine: type[Engine] | Engine) -> tuple[str, ...]:
    """The tasks a user asked `engine` for: with queries and no task, ground; a query task without a query, or
    queries that no chosen task reads, is refused rather than silently ignored."""
    chosen = tuple(dict.fromkeys(tasks))
    if queries and not chosen:
        return ("ground",)
    _require_queries(chosen, queries, engine)
    if queries and not any(task in engine.query_tasks for task in chosen):
        raise InvalidRequestError(f"--query is read only by --task {', '.join(sorted(engine.query_tasks))}; "
                                  "add one of them, or drop --query")  # fmt: skip
    return chosen


def checked_tasks(request: AnalysisRequest, engine: type[Engine] | Engine) -> tuple[str, ...]:
    """The tasks `request` asks of `engine` (its defaults when none), or the error saying what to do instead:
    a task it cannot do (naming the engines that can), or a query task without a query."""
    from reelmark.core.engines.registry import check_task_names, other_engines_hint

    tasks = tuple(dict.fromkeys(str(task) for task in request.tasks)) or tuple(engine.default_tasks)
    unsupported = [task for task in tasks if task not in engine.tasks]
    if unsupported:
        check_task_names(unsupported)
        raise EngineUnavailableError(
            f"engine {engine.name} cannot do {', '.join(unsupported)}; {other_engines_hint(unsupported, engine.name)}"
        )
    _require_queries(tasks, request.queries, engine)
    return tasks


def _require_queries(tasks: Sequence[str], queries: Sequence[str], engine: type[Engine] | Engine) -> None:
    needing = [task for task in tasks if task in engine.query_tasks and not queries]
    if needing:
        raise InvalidRequestError(f"--task {', '.join(needing)} needs at least one --query")


def analysed_range(info: MediaInfo, request: AnalysisRequest) -> TimeSpan:
    """The part of the media `request` asks for, clamped to the media (`media.ranges` rules); a file whose
    length no header gives needs an explicit end."""
    from reelmark.core.media.ranges import checked_range, media_end

    start, end = checked_range(info, request.start, request.end)
    end = end if end is not None else media_end(info)
    if end is None:
        raise InvalidRangeError(f"{info.path}: its duration is unknown; give --end to say how much to analyse")
    return TimeSpan(start, end)


def build_analysis(engine: Engine, request: AnalysisRequest, info: MediaInfo, analysed: TimeSpan,
                   options: object, tasks: Sequence[str], moments: Iterable[Moment], diagnostics: Iterable[str],
                   extra_params: Mapping[str, Any] | None = None, model_id: str | None = None) -> Analysis:  # fmt: skip
    """The `Analysis` every engine returns: the media's fingerprint, the engine with every option that changed
    the result, the moments without exact repeats (the same finding reached by two tasks), and the range when
    only part of the media was asked for."""
    from reelmark.core.engines.options import options_key
    from reelmark.core.media.fingerprinting import fingerprint

    params = {**options_key(options), "tasks": list(tasks), **(extra_params or {})}
    whole = request.start is None and request.end is None
    return Analysis(
        media=MediaRef(info.path, fingerprint(info.path), info),
        engine=EngineRef(engine.name, engine.version, params, model_id),
        moments=tuple({moment.id: moment for moment in moments}.values()),
        source_range=None if whole else analysed,
        diagnostics=tuple(diagnostics),
    )


def request_key(request: AnalysisRequest, engine: type[Engine] | Engine | None, fingerprint: str) -> str:
    """The one key of what `request` asks of `engine` on the media `fingerprint` identifies (its content
    fingerprint for the daemon's store; path, size and mtime within one round trip, whose engine is fixed, so
    None): everything that changes the result. Stores written before this function existed used the same
    material, so their keys still match."""
    tasks = sorted(set(map(str, request.tasks)))
    material = {
        "fingerprint": fingerprint,
        "engine": None if engine is None else engine.name,
        "engine_version": None if engine is None else engine.version,
        "tasks": tasks or (sorted(engine.default_tasks) if engine is not None else []),
        "queries": list(request.queries),
        "start": None if request.start is None else str(request.start),
        "end": None if request.end is None else str(request.end),
        "params": {name: str(value) for name, value in sorted(request.params.items())},
    }
    digest = hashlib.sha256(json.dumps(material, sort_keys=True).encode("utf-8")).hexdigest()
    return f"a-{digest[:32]}"
