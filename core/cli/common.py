"""What the CLI's commands share: one-line errors, exact clock times, options whose choices come from the
engines', tasks' and formats' tables, the progress bar, and writing a result in any format.

Only click and reelmark's light modules load here; the tables are read when a choice is checked or help is
shown, so start-up stays fast and a task, engine or format registered by a plug-in is offered like a built-in.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reelmark.bridge.formats import FCPXML_BUNDLE, all_formats, document_path, format_for_path
from reelmark.core.errors import InvalidRequestError, ReelmarkError
from reelmark.core.files import write_atomically
from reelmark.core.times import parse_clock_time

if TYPE_CHECKING:
    from reelmark.core.engines.base import AnalysisRequest
    from reelmark.core.results import Analysis

log = logging.getLogger("reelmark.cli")


class UserError(click.ClickException):
    """A `ReelmarkError` shown the way the CLI promises: one line on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"reelmark: error: {self.format_message()}", err=True)


class ReelmarkGroup(click.Group):
    """Turns reelmark's typed errors into one-line messages instead of tracebacks, and so any other error too: a
    file no test foresaw (a raw DV capture once ended `reelmark probe` in an OTIO traceback) gets one line that
    names the error and says how to see where it came from; `-v` logs the traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReelmarkError as error:
            raise UserError(str(error)) from None
        except (click.ClickException, click.exceptions.Abort, click.exceptions.Exit):
            raise
        except Exception as error:
            log.debug("unexpected error", exc_info=True)
            where = (
                "the traceback above says where it happened"
                if log.isEnabledFor(logging.DEBUG)
                else "run the same command with -v (reelmark -v ...) to see where it happened"
            )
            said = " ".join(str(error).split()).rstrip(".")  # one line, whatever the exception's text holds
            raise UserError(
                f"unexpected {type(error).__name__}: {said}. This is a bug in reelmark; {where}, and report it with"
                " that output"
            ) from None


class OutputFile(click.Path):
    """A file to write (never a folder), except a Final Cut Pro bundle: a `.fcpxmld` is a folder, and the
    document goes inside it (`formats.document_path`), so writing it again is fine."""

    def __init__(self) -> None:
        super().__init__(path_type=Path, dir_okay=False)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if Path(value).suffix.lower() == FCPXML_BUNDLE:
            return Path(value)
        return super().convert(value, param, ctx)


OUTPUT_FILE = OutputFile()


class ClockTimeType(click.ParamType):
    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Fraction:
        if isinstance(value, Fraction):
            return value
        try:
            return parse_clock_time(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class ParamsHelpCommand(click.Command):
    """A command whose help ends with every engine option (`--param`) and its default, read from the engines'
    options dataclasses when help is shown (they import numpy and PyAV, too slow for every start-up)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from reelmark.core.param_help import engine_options

        for engine, options in engine_options().items():
            with formatter.section(f"{engine} engine options (--param NAME=VALUE), with defaults"):
                formatter.write_dl([(f"{name}={default}", meaning) for name, default, meaning in options])
        super().format_epilog(ctx, formatter)


class TableChoice(click.Choice):
    """A choice read from a table when first needed (a value to check, or help to show)."""

    def __init__(self, names: Callable[[], Sequence[str]]):
        self._names = names
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self._names())


class TableHelpOption(click.Option):
    """An option whose help text is built when help is shown (it names what the tables hold)."""

    def __init__(self, *args: Any, help_from: Callable[[], str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._help_from = help_from

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self._help_from()
        return super().get_help_record(ctx)


def _engine_names() -> tuple[str, ...]:
    from reelmark.core.engines.registry import engine_names

    return engine_names()


def task_names() -> tuple[str, ...]:
    from reelmark.core.engines.registry import task_names

    return task_names()


def _engine_help() -> str:
    from reelmark.core.engines.registry import DEFAULT_ENGINE, engine_class

    summaries = " ".join(f"{name}: {engine_class(name).summary}." for name in _engine_names())
    return f"Which engine analyses (default {DEFAULT_ENGINE}). {summaries}"


def _task_help() -> str:
    from reelmark.core.engines.registry import DEFAULT_ENGINE, engine_class

    defaults = ", ".join(engine_class(DEFAULT_ENGINE).default_tasks)
    return (f"What to find; repeat for several. Default: the engine's standard set ({DEFAULT_ENGINE}: {defaults}), "
            "or ground when --query is given.")  # fmt: skip


def _format_help(formats: Callable[[], Sequence[str]]) -> Callable[[], str]:
    def text() -> str:
        table = all_formats()
        listed = "; ".join(f"{name} ({table[name].summary}, {' '.join(table[name].extensions)})" for name in formats())
        return f"Output format. Default: from the output file's extension, json on standard output. {listed}."

    return text


ENGINE = click.option("--engine", cls=TableHelpOption, help_from=_engine_help, type=TableChoice(_engine_names),
                      default="signals", show_default=True)  # fmt: skip
TASKS = click.option("--task", "tasks", multiple=True, cls=TableHelpOption, help_from=_task_help,
                     type=TableChoice(task_names))  # fmt: skip


def format_option(formats: Callable[[], Sequence[str]] = lambda: list(all_formats())) -> Callable[[Any], Any]:
    """`--format`, offering `formats()` (every format by default)."""
    return click.option("--format", "output_format", cls=TableHelpOption, help_from=_format_help(formats),
                        type=TableChoice(formats))  # fmt: skip


CLOCK_TIME = ClockTimeType()
QUERY_HELP = ("What to look for, in words; repeat for several. Read by --task ground, track, transcript and ask; "
              "with no --task, --query means --task ground, and with tasks that read no query it is refused.")  # fmt: skip
MODEL = click.option("--model", metavar="PATH_OR_ID",
                     help="The model: for --engine vlm, and for --task transcribe (a CTranslate2 Whisper). A local folder "
                          "or a Hugging Face id already fetched (`reelmark models pull`).")
DAEMON = click.option("--daemon", metavar="HOST:PORT",
                      help="Analyse through a running daemon (`reelmark serve`, gRPC address, e.g. 127.0.0.1:7330; "
                           "its token from $REELMARK_TOKEN) instead of in this process.")
PARAMS = click.option("--param", "params", multiple=True, metavar="NAME=VALUE", callback=lambda _c, _p, v: parse_params(v),
                      help="An engine option, e.g. highlight_count=3 or reframe_aspects=9:16,1:1; repeat for several. "
                           "A wrong name lists the valid ones; every option and its default is listed below.")  # fmt: skip


def tasks_for(engine: str, tasks: tuple[str, ...], queries: tuple[str, ...]) -> tuple[str, ...]:
    """The tasks asked for; with queries and no task, ground. A query task without a query, or queries that no
    chosen task reads, is a usage error rather than a silently ignored option (`engines.base.requested_tasks`)."""
    from reelmark.core.engines.base import requested_tasks
    from reelmark.core.engines.registry import engine_class

    try:
        return requested_tasks(tasks, queries, engine_class(engine))
    except InvalidRequestError as error:
        raise click.UsageError(str(error)) from None


def chosen_format(output: Path | None, output_format: str | None) -> str:
    """--format, else the output file's extension, else json on standard output; an extension that names no
    format is refused, so `-o out.txt` never silently gets JSON."""
    if output_format is not None or output is None:
        return output_format or "json"
    found = format_for_path(output, default="")
    if not found:
        extensions = " ".join(sorted({extension for record in all_formats().values() for extension in record.extensions}))
        raise click.UsageError(f"cannot tell the format from {output.name!r}: use one of {extensions}, or name it "
                               "with --format")  # fmt: skip
    return found


def emit(analysis: Analysis, output: Path | None, fmt: str, timeline: str) -> None:
    """Write the analysis (or the timeline built from it) to `output` atomically, or print it; then say what
    the file holds: for an NLE format, the markers it got and what that format keeps."""
    from reelmark.core.report import plural

    record = all_formats()[fmt]
    data = record.write(analysis, timeline)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    write_atomically(document_path(output), data)
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(m.kind.value for m in analysis.moments).items()))
    if record.timeline_writer is None:
        click.echo(f"wrote {plural(len(analysis.moments), 'moment')} ({counts or 'none'}) to {output}"
                   + ("" if fmt == "json" else f" as {fmt}"), err=True)  # fmt: skip
        if fmt != "json":
            click.echo(f"  {fmt} keeps {record.keeps}", err=True)
        return
    from reelmark.bridge.timelines import MARKER_KINDS, TIMELINES

    root = TIMELINES[timeline](analysis)
    marked = [clip for clip in root.find_clips() if clip.markers]
    markers = sum(len(clip.markers) for clip in marked)
    unmarked = sum(moment.kind not in MARKER_KINDS for moment in analysis.moments)
    click.echo(f"wrote {plural(markers, 'marker')} on {plural(len(marked), 'clip')} ({timeline} timeline) to {output} as {fmt}, "
               f"from {plural(len(analysis.moments), 'moment')} ({counts or 'none'})", err=True)  # fmt: skip
    click.echo(f"  {fmt} keeps {record.keeps}", err=True)
    if unmarked:
        verb = "is not a marker" if unmarked == 1 else "are not markers"
        click.echo(f"  {plural(unmarked, 'reframe path')} {verb}: write json or otio to keep them", err=True)


def with_model(engine: str, model: str | None, params: dict[str, str]) -> dict[str, str]:
    """The model as the engine's `model` option, so it reaches a daemon and keys the cache like any option."""
    if engine == "vlm" and model is None and "model" not in params:
        raise click.UsageError("--engine vlm needs --model PATH_OR_ID")
    return params if model is None else {**params, "model": model}


def analyser(engine: str, daemon: str | None, progress: Callable[[str, float], None] | None) -> Callable[[AnalysisRequest], Analysis]:
    """Analyse in this process, or through the daemon at `daemon` (its token from $REELMARK_TOKEN)."""
    if daemon:
        from reelmark.core.client import analyze_via_daemon
        from reelmark.core.daemon.security import TOKEN_ENV

        token = os.environ.get(TOKEN_ENV)
        return lambda request: analyze_via_daemon(daemon, request, engine, progress, token)
    from reelmark.core.engines import get_engine

    selected = get_engine(engine)
    return lambda request: selected.analyze(request, progress=progress)


def parse_params(values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        parsed[name.strip()] = value.strip()
    return parsed


@contextmanager
def progress_bar() -> Iterator[Callable[[str, float], None]]:
    """A progress bar on stderr with the stage name and ETA; silent when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description:<16}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
               TextColumn("ETA"), TimeRemainingColumn())
    timer = _StageTimer()
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("starting", total=1.0)

        def update(stage: str, fraction: float) -> None:
            timer(stage)
            progress.update(bar, description=stage, completed=fraction)

        yield update
    timer.finish()


class _StageTimer:
    """Logs (at -v) each stage the engine or the daemon reports, with how long it took."""

    def __init__(self) -> None:
        self.started = self.stage_started = time.perf_counter()
        self.stage = ""

    def __call__(self, stage: str) -> None:
        if stage == self.stage:
            return
        now = time.perf_counter()
        if self.stage:
            log.debug("stage %r done in %.2f s", self.stage, now - self.stage_started)
        if stage:
            log.debug("stage %r started", stage)
        self.stage, self.stage_started = stage, now

    def finish(self) -> None:
        self("")
        log.debug("finished in %.2f s", time.perf_counter() - self.started)
