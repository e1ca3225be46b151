"""The engines, by name: one table of `"module:Class"` targets, imported only when an engine is used.

Like OpenTimelineIO's adapter manifest, the table names where each engine lives, not the engine itself, so
listing engines costs nothing and an engine's heavy imports (torch, transformers) wait until it runs. Other
packages add engines through the `reelmark.engines` entry-point group (`name = "package.module:Class"`).
Everything that names engines or their tasks reads this table: the CLI's `--engine` and `--task` choices, the
daemon's engine list, and the hint that says which engine can do a task the chosen one cannot.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import cache
from importlib.metadata import entry_points

from reelmark.core.engines.base import Engine
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError

ENTRY_POINT_GROUP = "reelmark.engines"
DEFAULT_ENGINE = "signals"
ENGINES: dict[str, str] = {
    "signals": "reelmark.core.engines.signals:SignalsEngine",
    "vlm": "reelmark.core.engines.vlm:VlmEngine",
}
"""Built-in engines; entry points add more (a built-in name cannot be replaced)."""


def engine_names() -> tuple[str, ...]:
    return tuple(_installed())


def engine_class(name: str) -> type[Engine]:
    """The class of the engine called `name`, imported now."""
    targets = _installed()
    if name not in targets:
        raise EngineUnavailableError(f"unknown engine {name!r}; choose one of {', '.join(targets)}")
    module, _, attribute = targets[name].partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as error:
        raise EngineUnavailableError(f"engine {name!r} ({targets[name]}) cannot be loaded: {error}; reinstall the "
                                     "package that provides it") from None  # fmt: skip


def get_engine(name: str) -> Engine:
    """A new engine called `name` (an importable function: the daemon sends it to its worker processes)."""
    return engine_class(name)()


def task_names() -> tuple[str, ...]:
    """Every task some engine does, in table order."""
    return tuple(dict.fromkeys(task for name in engine_names() for task in engine_class(name).tasks))


def check_task_names(names: Sequence[str]) -> None:
    """Refuse a task name no engine does (a typo, or a plug-in that is not installed)."""
    known = task_names()
    unknown = [name for name in names if name not in known]
    if unknown:
        raise InvalidRequestError(f"unknown task {unknown[0]!r}; choose from {', '.join(known)}")


def other_engines_hint(tasks: list[str], current: str) -> str:
    """What to do when `current` cannot do `tasks`: the engines that can, in their own words."""
    able = [name for name in engine_names() if name != current and all(task in engine_class(name).tasks for task in tasks)]
    if able:
        return "; ".join(f"use --engine {name} ({engine_class(name).summary}) for that" for name in able)
    return f"{current} does: {', '.join(engine_class(current).tasks)}"


@cache
def _installed() -> dict[str, str]:
    found = dict(ENGINES)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(point.name, point.value)
    return found
