"""The `reelmark` command line.

Only click and reelmark's light modules load at start-up; PyAV loads when a command touches media, and torch or
transformers only inside the engines that need them, so `reelmark probe` starts fast. A user error prints one
line (`reelmark: error: …`) and exits 1; a usage error prints click's usage message and exits 2.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reelmark.bridge.formats import FORMATS, TIMELINE_KINDS, format_for_path
from reelmark.core import __version__
from reelmark.core.daemon.commands import cancel, jobs, serve
from reelmark.core.engines.vlm.commands import models
from reelmark.core.errors import ReelmarkError
from reelmark.core.files import write_atomically
from reelmark.core.tasks import QUERY_TASKS, Task
from reelmark.core.times import parse_clock_time

if TYPE_CHECKING:
    from reelmark.core.engines.base import AnalysisRequest
    from reelmark.core.resolve_install import Planned
    from reelmark.core.results import Analysis

ENGINES = ("signals", "vlm")
log = logging.getLogger("reelmark.cli")


class UserError(click.ClickException):
    """A `ReelmarkError` shown the way the CLI promises: one line on stderr, exit status 1."""

    def show(self, file: Any = None) -> None:
        click.echo(f"reelmark: error: {self.format_message()}", err=True)


class ReelmarkGroup(click.Group):
    """Turns reelmark's typed errors into one-line messages instead of tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ReelmarkError as error:
            raise UserError(str(error)) from None


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


CLOCK_TIME = ClockTimeType()
QUERY_HELP = ("What to look for, in words; repeat for several. Read by --task ground, track, transcript and ask; "
              "with no --task, --query means --task ground, and with tasks that read no query it is refused.")  # fmt: skip
MODEL = click.option("--model", metavar="PATH_OR_ID",
                     help="vlm engine: a local model folder or a Hugging Face id already fetched (`reelmark models pull`).")
DAEMON = click.option("--daemon", metavar="HOST:PORT",
                      help="Analyse through a running daemon (`reelmark serve`, gRPC address, e.g. 127.0.0.1:7330; "
                           "its token from $REELMARK_TOKEN) instead of in this process.")


@click.group(cls=ReelmarkGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="reelmark")
@click.option("-v", "--verbose", is_flag=True, help="Log what reelmark does, step by step (debug level).")
def cli(verbose: bool) -> None:
    """reelmark finds moments in footage (cuts, highlights, people, answers to queries) and delivers them
    to DaVinci Resolve and Premiere Pro as markers and timelines.

    \b
    Examples:
      reelmark probe interview.mov
      reelmark probe interview.mov --json
      reelmark demo --output-dir /tmp/reelmark-demo
    """
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(relativeCreated)7.0f ms %(levelname)s %(name)s: %(message)s"))
    if verbose:  # reelmark's own steps only: libraries' debug chatter would bury them
        handler.addFilter(lambda record: record.levelno >= logging.WARNING or record.name.startswith("reelmark"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])


@cli.command()
@click.argument("media", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full probe as JSON (exact times as value/rate).")
@click.option(
    "--count-frames",
    is_flag=True,
    help="Read every video packet for an exact frame count (slower on long files; otherwise the container's count).",
)
def probe(media: Path, as_json: bool, count_frames: bool) -> None:
    """Describe MEDIA: container, duration, exact frame rate, CFR/VFR, start offset, frame count, rotation,
    source timecode, audio and subtitle streams, sidecar subtitles."""
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.report import format_probe

    info = probe_media(media, count_frames=count_frames)
    click.echo(json.dumps(info.to_dict(), indent=2) if as_json else format_probe(info))


@cli.command(cls=ParamsHelpCommand)
@click.argument("media", type=click.Path(path_type=Path))
@click.option("--engine", type=click.Choice(ENGINES), default="signals", show_default=True,
              help="signals: any CPU, nothing to download. vlm: a vision-language model on a GPU (needs --model).")
@click.option("--task", "tasks", multiple=True, type=click.Choice([task.value for task in Task]),
              help="What to find; repeat for several. Default: the engine's standard set "
                   "(signals: shots, people, activity, highlights), or ground when --query is given.")
@click.option("--query", "queries", multiple=True, metavar="TEXT",
              help=QUERY_HELP + " signals knows: person, face, speech, silence, loud, activity, shot change, "
                   "'says: <text>'.")
@click.option("--start", type=CLOCK_TIME, help="Analyse from this media time: seconds or [hh:]mm:ss[.fff].")
@click.option("--end", type=CLOCK_TIME, help="Analyse up to this media time (past the end means to the end).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", callback=lambda _c, _p, v: _parse_params(v),
              help="An engine option, e.g. highlight_count=3 or reframe_aspects=9:16,1:1; repeat for several. "
                   "A wrong name lists the valid ones; every option and its default is listed below.")
@MODEL
@DAEMON
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the result here instead of standard output.")
@click.option("--format", "output_format", type=click.Choice(list(FORMATS)),
              help="Output format. Default: from the output file's extension (.json .otio .xml .edl .fcpxml; "
                   "another extension needs --format), json on standard output. NLE formats: otio, "
                   "resolve-otio (DaVinci Resolve), fcp7xml (Premiere Pro), edl, fcpxml.")
@click.option("--timeline", type=click.Choice(TIMELINE_KINDS), default="analysis", show_default=True,
              help="For NLE formats: the clip with a marker per moment, the highlight reel, or the split segments.")
def analyze(
    media: Path,
    engine: str,
    tasks: tuple[str, ...],
    queries: tuple[str, ...],
    start: Fraction | None,
    end: Fraction | None,
    params: dict[str, str],
    model: str | None,
    daemon: str | None,
    output: Path | None,
    output_format: str | None,
    timeline: str,
) -> None:
    """Find moments in MEDIA; write them as JSON, or as markers and timelines for an NLE.

    \b
    Examples:
      reelmark analyze match.mp4 -o match.json
      reelmark analyze match.mp4 --task highlights --param highlight_count=3 -o reel.json
      reelmark analyze cam.mp4 --task ground --query person --query activity
      reelmark analyze talk.mp4 --task transcript --query "pricing"
      reelmark analyze interview.mov -o interview.xml                 # FCP7 XML for Premiere Pro
      reelmark analyze interview.mov --format resolve-otio -o iv.otio # for DaVinci Resolve
      reelmark analyze match.mp4 --task highlights --timeline highlights -o reel.otio
      reelmark analyze match.mp4 --daemon 127.0.0.1:7330 -o match.json  # through a running `reelmark serve`
    """
    from reelmark.core.engines import AnalysisRequest

    chosen_format = _output_format(output, output_format)
    params = _with_model(engine, model, params)
    request = AnalysisRequest(media, _tasks_for(tasks, queries), queries, start, end, params)
    with _progress_bar() as progress:
        analysis = _analyser(engine, daemon, progress)(request)
    _emit(analysis, output, chosen_format, timeline)
    for diagnostic in analysis.diagnostics:
        click.echo(f"note: {diagnostic}", err=True)


def _tasks_for(tasks: tuple[str, ...], queries: tuple[str, ...]) -> tuple[Task, ...]:
    """The tasks asked for; with queries and no task, ground. A query task without a query, or queries that no
    chosen task reads, is a usage error rather than a silently ignored option."""
    chosen = tuple(Task(task) for task in tasks)
    if queries and not chosen:
        return (Task.GROUND,)
    readers = [task.value for task in chosen if task in QUERY_TASKS]
    if readers and not queries:
        raise click.UsageError(f"--task {readers[0]} needs at least one --query")
    if queries and not readers:
        raise click.UsageError(f"--query is read only by --task {', '.join(sorted(t.value for t in QUERY_TASKS))}; "
                               "add one of them, or drop --query")  # fmt: skip
    return chosen


def _output_format(output: Path | None, output_format: str | None) -> str:
    """--format, else the output file's extension, else json on standard output; an extension that names no
    format is refused, so `-o out.txt` never silently gets JSON."""
    if output_format is not None or output is None:
        return output_format or "json"
    found = format_for_path(output, default="")
    if not found:
        extensions = " ".join(sorted(set(FORMATS.values())))
        raise click.UsageError(f"cannot tell the format from {output.name!r}: use one of {extensions}, or name it "
                               "with --format")  # fmt: skip
    return found


def _emit(analysis: Analysis, output: Path | None, fmt: str, timeline: str) -> None:
    """Write the analysis (or the timeline built from it) to `output` atomically, or print it; then say what
    the file holds: for an NLE format, the markers it got and what that format keeps."""
    from reelmark.core.report import FORMAT_KEEPS, plural

    if fmt == "json":
        data = (analysis.to_json() + "\n").encode("utf-8")
    else:
        from reelmark.bridge.timelines import MARKER_KINDS, TIMELINES
        from reelmark.bridge.writers import render_timeline

        if timeline not in TIMELINES:
            raise ReelmarkError(f"unknown timeline {timeline!r}; choose one of {', '.join(TIMELINES)}")
        root = TIMELINES[timeline](analysis)
        data = render_timeline(root, fmt)
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    write_atomically(output, data)
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(m.kind.value for m in analysis.moments).items()))
    if fmt == "json":
        click.echo(f"wrote {plural(len(analysis.moments), 'moment')} ({counts or 'none'}) to {output}", err=True)
        return
    marked = [clip for clip in root.find_clips() if clip.markers]
    markers = sum(len(clip.markers) for clip in marked)
    unmarked = sum(moment.kind not in MARKER_KINDS for moment in analysis.moments)
    click.echo(f"wrote {plural(markers, 'marker')} on {plural(len(marked), 'clip')} ({timeline} timeline) to {output} as {fmt}, "
               f"from {plural(len(analysis.moments), 'moment')} ({counts or 'none'})", err=True)  # fmt: skip
    click.echo(f"  {fmt} keeps {FORMAT_KEEPS[fmt]}", err=True)
    if unmarked:
        verb = "is not a marker" if unmarked == 1 else "are not markers"
        click.echo(f"  {plural(unmarked, 'reframe path')} {verb}: write json or otio to keep them", err=True)


def _with_model(engine: str, model: str | None, params: dict[str, str]) -> dict[str, str]:
    """The model as the engine's `model` option, so it reaches a daemon and keys the cache like any option."""
    if engine == "vlm" and model is None and "model" not in params:
        raise click.UsageError("--engine vlm needs --model PATH_OR_ID")
    return params if model is None else {**params, "model": model}


def _analyser(engine: str, daemon: str | None, progress: Callable[[str, float], None] | None) -> Callable[[AnalysisRequest], Analysis]:
    """Analyse in this process, or through the daemon at `daemon` (its token from $REELMARK_TOKEN)."""
    if daemon:
        from reelmark.core.client import analyze_via_daemon
        from reelmark.core.daemon.security import TOKEN_ENV

        token = os.environ.get(TOKEN_ENV)
        return lambda request: analyze_via_daemon(daemon, request, engine, progress, token)
    from reelmark.core.engines import get_engine

    selected = get_engine(engine)
    return lambda request: selected.analyze(request, progress=progress)


def _parse_params(values: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in values:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        parsed[name.strip()] = value.strip()
    return parsed


@contextmanager
def _progress_bar() -> Iterator[Callable[[str, float], None]]:
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


@cli.command()
@click.argument("analysis_file", metavar="ANALYSIS", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The file to write; its extension picks the format unless --format says.")
@click.option("--format", "output_format", type=click.Choice(list(FORMATS)),
              help="otio, resolve-otio (DaVinci Resolve), fcp7xml (Premiere Pro), edl, fcpxml, or json.")
@click.option("--timeline", type=click.Choice(TIMELINE_KINDS), default="analysis", show_default=True,
              help="The clip with a marker per moment, the highlight reel, or the split segments.")
def export(analysis_file: Path, output: Path, output_format: str | None, timeline: str) -> None:
    """Turn a saved analysis (reelmark analyze -o x.json) into an NLE file, without analysing again.

    \b
    Examples:
      reelmark export match.json -o match.xml                       # Premiere Pro: File > Import
      reelmark export match.json --format resolve-otio -o match.otio # Resolve: File > Import > Timeline
      reelmark export match.json --timeline highlights -o reel.otio
    """
    from reelmark.core.results import Analysis

    if not analysis_file.is_file():
        raise click.BadParameter(f"{analysis_file} is not a file", param_hint="ANALYSIS")
    analysis = Analysis.from_json(analysis_file.read_text(encoding="utf-8"))
    _emit(analysis, output, _output_format(output, output_format), timeline)


@cli.command(cls=ParamsHelpCommand)
@click.argument("timeline_in", metavar="TIMELINE_IN", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the marked timeline; by default in the input's format.")
@click.option("--engine", type=click.Choice(ENGINES), default="signals", show_default=True, help="Which engine analyses.")
@click.option("--task", "tasks", multiple=True, type=click.Choice([task.value for task in Task]),
              help="What to find in each clip; repeat for several. Default: the engine's standard set, or ground "
                   "when --query is given.")
@click.option("--query", "queries", multiple=True, metavar="TEXT", help=QUERY_HELP)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", callback=lambda _c, _p, v: _parse_params(v),
              help="An engine option, as for `analyze` (every option and its default is listed below).")
@MODEL
@DAEMON
@click.option("--media-root", "media_roots", multiple=True, type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="A folder to search for media the timeline names but this machine keeps elsewhere; repeat.")
@click.option("--format", "output_format", type=click.Choice([name for name in FORMATS if name != "json"]),
              help="Write another format than the input's (e.g. resolve-otio from an FCP7 XML).")
@click.option("--edl-rate", type=str, metavar="RATE",
              help="Frame rate of an EDL input, e.g. 25 or 30000/1001 (EDLs do not say; default: from its timecodes).")
@click.option("--ignore-timecode-mismatch", is_flag=True,
              help="Read EDL events whose source and record durations differ, trusting the record side.")
def roundtrip(
    timeline_in: Path,
    output: Path,
    engine: str,
    tasks: tuple[str, ...],
    queries: tuple[str, ...],
    params: dict[str, str],
    model: str | None,
    daemon: str | None,
    media_roots: tuple[Path, ...],
    output_format: str | None,
    edl_rate: str | None,
    ignore_timecode_mismatch: bool,
) -> None:
    """Analyse every clip of a timeline and write it back with markers; nothing else in it changes.

    Reads OTIO, FCP7 XML, EDL, FCPXML and AAF. Each clip is analysed over the part of its media it uses; a
    second run replaces reelmark's markers and never touches yours. Clips whose media cannot be found are
    listed and left as they were.

    \b
    Examples:
      reelmark roundtrip edit.xml -o edit-marked.xml --media-root /Volumes/RAID/footage
      reelmark roundtrip edit.otio -o edit-resolve.otio --format resolve-otio
      reelmark roundtrip edit.edl -o edit.otio --edl-rate 25 --task shots
    """
    from reelmark.bridge.roundtrip import roundtrip as run_roundtrip
    from reelmark.core.times import exact_rate

    chosen_tasks = _tasks_for(tasks, queries)
    try:
        rate = exact_rate(edl_rate) if edl_rate else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--edl-rate") from None
    analyse = _analyser(engine, daemon, None)
    params = _with_model(engine, model, params)
    with _progress_bar() as progress:
        report = run_roundtrip(
            timeline_in, output, analyse, tasks=chosen_tasks, queries=queries, params=params,
            media_roots=media_roots, output_format=output_format, edl_rate=rate,
            ignore_timecode_mismatch=ignore_timecode_mismatch, progress=progress,
        )  # fmt: skip
    click.echo(report.summary(), err=True)


@cli.group()
def install() -> None:
    """Install reelmark's script into an NLE (see plugin/*/README.md)."""


@cli.group()
def uninstall() -> None:
    """Remove what `reelmark install` put into an NLE."""


SCRIPTS_DIR = click.option("--scripts-dir", type=click.Path(path_type=Path, file_okay=False),
                           help="Resolve's Fusion/Scripts folder. Default: the per-user folder on this OS.")
DRY_RUN = click.option("--dry-run", is_flag=True, help="Say what would be written or removed, and change nothing.")


@install.command("resolve")
@SCRIPTS_DIR
@DRY_RUN
@click.option("--address", default="127.0.0.1:7331", show_default=True, metavar="HOST:PORT",
              help="The daemon's JSON (HTTP) address the script talks to; it starts a daemon there if none runs.")
@click.option("--task", "tasks", multiple=True, type=click.Choice([task.value for task in Task]),
              help="What the script finds; repeat for several. Default: shots, people, highlights.")
@click.option("--no-highlight-reel", is_flag=True, help="Do not import the highlight reel as a new timeline.")
def install_resolve(scripts_dir: Path | None, dry_run: bool, address: str, tasks: tuple[str, ...], no_highlight_reel: bool) -> None:
    """Add "reelmark Analyze Clip" to DaVinci Resolve's Workspace > Scripts menu (per user).

    \b
    Examples:
      reelmark install resolve --dry-run
      reelmark install resolve --task shots --task highlights
    """
    from reelmark.core.resolve_install import DEFAULT_TASKS, install_plan, python_notes, scripts_folder

    plan = install_plan(scripts_dir or scripts_folder(), address, tasks or DEFAULT_TASKS, not no_highlight_reel)
    _run_plan(plan, dry_run, done="installed: restart Resolve, then Workspace > Scripts > reelmark Analyze Clip")
    for note in python_notes():
        click.echo(note)


@uninstall.command("resolve")
@SCRIPTS_DIR
@DRY_RUN
def uninstall_resolve(scripts_dir: Path | None, dry_run: bool) -> None:
    """Remove "reelmark Analyze Clip" and its install record from Resolve's Scripts folder."""
    from reelmark.core.resolve_install import scripts_folder, uninstall_plan

    plan = uninstall_plan(scripts_dir or scripts_folder())
    if not plan:
        click.echo("reelmark is not installed in Resolve's Scripts folder; nothing to remove")
        return
    _run_plan(plan, dry_run, done="removed")


def _run_plan(plan: list[Planned], dry_run: bool, done: str) -> None:
    from reelmark.core.resolve_install import carry_out

    for step in plan:
        click.echo(("would " if dry_run else "") + step.describe())
    if not dry_run:
        carry_out(plan)
        click.echo(done)


@cli.command()
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build/demo"),
              show_default=True, help="Where to write the demo clip, its analysis and the daemon's store and log.")
def demo(output_dir: Path) -> None:
    """Make a demo clip with known content, start a daemon, analyse the clip through it with the signals engine,
    write the result as JSON, OTIO for DaVinci Resolve and FCP7 XML for Premiere Pro, and stop the daemon."""
    from reelmark.core.client import DaemonClient, start_daemon_subprocess
    from reelmark.core.demo import DEMO_TASKS, make_demo_clip, summarise
    from reelmark.core.engines import AnalysisRequest
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.report import format_probe

    truth = make_demo_clip(output_dir)
    click.echo(f"wrote {truth.path} ({float(truth.duration):g} s, cuts at "
               + ", ".join(f"{float(time):g} s" for time in truth.cut_times) + ")\n")
    click.echo(format_probe(probe_media(truth.path)) + "\n")
    request = AnalysisRequest(truth.path, DEMO_TASKS, ("loud", "silence", "says: subject"), params={"split_target_s": 4})
    log_path = output_dir / "reelmark-daemon.log"
    with log_path.open("ab") as log, start_daemon_subprocess(output_dir / "reelmark-demo.sqlite3", log=log) as daemon:
        click.echo(f"daemon: gRPC {daemon.address}, JSON {daemon.http_address} (log: {log_path})")
        with DaemonClient(daemon.address) as client, _progress_bar() as progress:
            analysis_id, analysis = client.analyze(request, "signals", progress, force=True)
            written = []
            for name, fmt in (("reelmark-demo.json", "json"), ("reelmark-demo-resolve.otio", "resolve-otio"),
                              ("reelmark-demo.xml", "fcp7xml")):  # fmt: skip
                written.append((write_atomically(output_dir / name, client.export(analysis_id, fmt).content), fmt))
    click.echo("daemon stopped\n")
    click.echo(summarise(analysis) + "\n")
    for path, fmt in written:
        click.echo(f"wrote {path} ({fmt})")


for _command in (serve, jobs, cancel, models):
    cli.add_command(_command)


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="reelmark")
    except KeyboardInterrupt:
        click.echo("reelmark: interrupted", err=True)
        sys.exit(130)
