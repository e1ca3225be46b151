"""The signals engine's tasks: one table, one signature.

Every task is a function `run(context, queries) -> list[Moment]` that reads the shared `SignalsContext` (one
video pass, one audio pass) and never decodes the file again. A row names where the function lives (imported
only when the task runs), which shared inputs it reads, which other tasks' results it uses, whether it needs a
query, and whether it is in the default set. The engine computes the union of the chosen tasks' inputs once,
runs the tasks a chosen one uses first (their moments are returned only when they were asked for too), and
loops over the table without naming a task. A new task is its module plus one row here; another package adds one
through the `reelmark.signals.tasks` entry-point group (`name = "package.module:SPEC"`, a `TaskSpec`), and a
program can call `TASKS.register`.

Inputs: `video` (cut scores, motion, background subtraction: `context.video`, `context.shots`), `people`
(detector run during the video pass: `context.people`), `audio` (loudness, speech, silence: `context.audio`),
`cues` (subtitle cues in or beside the file: `context.cues`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from reelmark.core.plugins import PluginTable

if TYPE_CHECKING:
    from reelmark.core.engines.signals.context import SignalsContext
    from reelmark.core.media.audio import AudioBlock
    from reelmark.core.results import Moment

ENTRY_POINT_GROUP = "reelmark.signals.tasks"
Input = Literal["video", "people", "audio", "cues"]
TaskRunner = Callable[["SignalsContext", tuple[str, ...]], list["Moment"]]


@dataclass(frozen=True)
class TaskSpec:
    name: str
    run: str
    """Where `run(context, queries)` lives: "module:function"."""
    inputs: frozenset[Input] = frozenset()
    uses: tuple[str, ...] = ()
    """Tasks whose results this one reads from `context.results` (run first, whether asked for or not)."""
    after: tuple[str, ...] = ()
    """Tasks whose results this one reads when they were asked for too: run first then, never run for it."""
    needs_query: bool = False
    default: bool = False
    needs_video: bool = True
    """Skipped (no moments) when the media has no video stream; False for tasks that also stand on audio or cues."""
    check: str | None = None
    """Where `check(options)` lives, "module:function": raises the error the task would fail with that needs no
    decoding to find (a missing model), so the engine refuses before the long passes, and the daemon before
    queueing."""
    listens: str | None = None
    """Where `listen(context)` lives, "module:function", for a task that hears the audio itself: it returns a
    callable fed every 16 kHz mono block of the one audio pass, kept in `context.listeners` for the task's run."""

    def runner(self) -> TaskRunner:
        return _load(self.run)

    def checker(self) -> Callable[[Any], None] | None:
        return None if self.check is None else _load(self.check)

    def listener(self) -> Callable[[SignalsContext], Callable[[AudioBlock], None]]:
        assert self.listens is not None, f"task {self.name} does not listen to the audio pass"
        return _load(self.listens)


def _load(target: str) -> Callable[..., Any]:
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)


_HERE = "reelmark.core.engines.signals.tasks"
_SPOKEN = ("transcribe",)
"""Tasks that read what was said (`signals.spoken`) run after transcription when it is asked for too."""


def _check_uses(spec: TaskSpec, table: dict[str, TaskSpec]) -> None:
    missing = [used for used in spec.uses if used not in table]
    if missing:
        raise ValueError(f"signals task {spec.name!r} uses unknown task(s) {', '.join(missing)}")


TASKS: PluginTable[TaskSpec] = PluginTable(ENTRY_POINT_GROUP, "signals task", (
    TaskSpec("shots", f"{_HERE}:shots", frozenset({"video"}), default=True),
    TaskSpec("people", f"{_HERE}:people", frozenset({"video", "people"}), default=True),
    TaskSpec("activity", f"{_HERE}:activity", frozenset({"video"}), default=True),
    TaskSpec("highlights", f"{_HERE}:highlights", frozenset({"video", "people", "audio"}), after=_SPOKEN, default=True),
    TaskSpec("split", f"{_HERE}:split", frozenset({"video", "audio"}), after=_SPOKEN),
    TaskSpec("reframe", f"{_HERE}:reframe", frozenset({"video", "people"})),
    TaskSpec("transcript", f"{_HERE}:transcript", frozenset({"cues"}), after=_SPOKEN, needs_query=True,
             needs_video=False),
    TaskSpec("transcribe", "reelmark.core.engines.speech.task:transcribe", frozenset({"audio"}), needs_video=False,
             check="reelmark.core.engines.speech.task:check_model", listens="reelmark.core.engines.speech.task:listen"),
    TaskSpec("ground", f"{_HERE}:ground", frozenset({"video", "people", "audio", "cues"}), uses=("activity",),
             after=_SPOKEN, needs_query=True, needs_video=False),
), check=_check_uses)  # fmt: skip
"""Built-in tasks in the order their moments are listed. Read it through `task_table()`, which adds the tasks
installed packages declare; `TASKS.register` adds one in this process (it may use only tasks already there)."""


def task_table() -> PluginTable[TaskSpec]:
    return TASKS.with_installed()


def run_order(chosen: tuple[str, ...]) -> tuple[str, ...]:
    """The chosen tasks with every task they use placed before them (depth first, each once)."""
    ordered: dict[str, None] = {}

    def visit(name: str) -> None:
        spec = task_table()[name]
        for used in (*spec.uses, *(earlier for earlier in spec.after if earlier in chosen)):
            visit(used)
        ordered.setdefault(name)

    for name in chosen:
        visit(name)
    return tuple(ordered)


# The built-in runners: each adapts the shared context to its task module's own function.


def shots(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.shots import shot_moments

    return shot_moments(context.shots) if context.shots is not None else []


def people(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    return list(context.people)


def activity(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.activity import find_activity

    return find_activity(context.video, context.shots) if context.video is not None else []


def highlights(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.highlights import pick_highlights

    return pick_highlights(context)


def split(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.split import smart_split

    return smart_split(context)


def reframe(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.reframe import reframe as reframe_to

    return [moment for aspect in context.params.reframe_aspects for moment in reframe_to(context, aspect)]


def transcript(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.spoken import searchable_cues
    from reelmark.core.engines.signals.transcript import no_subtitles_reason, search_transcript

    cues = searchable_cues(context)
    found = search_transcript(cues, queries, padding_s=context.params.transcript_padding_s, end=context.end)
    if not cues:
        context.diagnostics.append(no_subtitles_reason(context.info))
    return found


def ground(context: SignalsContext, queries: tuple[str, ...]) -> list[Moment]:
    from reelmark.core.engines.signals.grounding import ground as ground_query

    found: list[Moment] = []
    for query in queries:
        moments, diagnostic = ground_query(context, query, activity=context.results.get("activity", []))
        found += moments
        if diagnostic:
            context.diagnostics.append(diagnostic)
    return found
