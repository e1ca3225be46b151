"""The `reelmark` command line.

Only click and reelmark's light modules load at start-up; PyAV loads when a command touches media, and torch or
transformers only inside the engines that need them, so `reelmark probe` starts fast. A user error prints one
line (`reelmark: error: …`) and exits 1; a usage error prints click's usage message and exits 2.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import click

from reelmark.core import __version__
from reelmark.core.errors import EngineUnavailableError, ReelmarkError
from reelmark.core.tasks import QUERY_TASKS, Task
from reelmark.core.times import parse_clock_time

ENGINES = ("signals", "vlm")
# What `--format` will offer once the bridge (issue #4) writes NLE files; json is the results model itself.
OUTPUT_FORMATS = {
    "json": ".json",
    "otio": ".otio",
    "resolve-otio": ".otio",
    "fcp7xml": ".xml",
    "edl": ".edl",
    "fcpxml": ".fcpxml",
}


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


CLOCK_TIME = ClockTimeType()


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
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


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


@cli.command()
@click.argument("media", type=click.Path(path_type=Path))
@click.option("--engine", type=click.Choice(ENGINES), default="signals", show_default=True,
              help="signals: any CPU, nothing to download. vlm: a vision-language model on a GPU (needs --model).")
@click.option("--task", "tasks", multiple=True, type=click.Choice([task.value for task in Task]),
              help="What to find; repeat for several. Default: the engine's standard set "
                   "(signals: shots, people, activity, highlights).")
@click.option("--query", "queries", multiple=True, metavar="TEXT",
              help="What to look for, in words (ground, track, transcript, ask); repeat for several. "
                   "signals knows: person, face, speech, silence, loud, activity, shot change, 'says: <text>'.")
@click.option("--start", type=CLOCK_TIME, help="Analyse from this media time: seconds or [hh:]mm:ss[.fff].")
@click.option("--end", type=CLOCK_TIME, help="Analyse up to this media time (past the end means to the end).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", callback=lambda _c, _p, v: _parse_params(v),
              help="An engine option, e.g. highlight_count=3 or reframe_aspects=9:16,1:1; repeat for several. "
                   "A wrong name lists the valid ones.")
@click.option("--model", metavar="PATH_OR_ID", help="vlm engine: a local model directory or a cached Hugging Face id.")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the result here instead of standard output.")
@click.option("--format", "output_format", type=click.Choice(list(OUTPUT_FORMATS)),
              help="Output format. Default: from the output file's extension, else json.")
def analyze(
    media: Path,
    engine: str,
    tasks: tuple[str, ...],
    queries: tuple[str, ...],
    start: Fraction | None,
    end: Fraction | None,
    params: dict[str, str],
    model: str | None,
    output: Path | None,
    output_format: str | None,
) -> None:
    """Find moments in MEDIA and write them as JSON (NLE formats arrive with the OTIO bridge).

    \b
    Examples:
      reelmark analyze match.mp4 -o match.json
      reelmark analyze match.mp4 --task highlights --param highlight_count=3 -o reel.json
      reelmark analyze cam.mp4 --task ground --query person --query activity
      reelmark analyze talk.mp4 --task transcript --query "pricing"
    """
    from reelmark.core.engines import AnalysisRequest, get_engine

    chosen_format = output_format or _format_from_extension(output)
    needs_query = sorted(task for task in tasks if Task(task) in QUERY_TASKS)
    if needs_query and not queries:
        raise click.UsageError(f"--task {needs_query[0]} needs at least one --query")
    if engine == "vlm" and model is None:
        raise click.UsageError("--engine vlm needs --model PATH_OR_ID")
    if chosen_format != "json":
        raise EngineUnavailableError(
            f"--format {chosen_format} needs the OTIO bridge, which this version ({__version__}) does not include yet; "
            "use --format json"
        )
    request = AnalysisRequest(media, tuple(Task(task) for task in tasks), queries, start, end, params)
    selected = get_engine(engine)
    with _progress_bar() as progress:
        analysis = selected.analyze(request, progress=progress)
    text = analysis.to_json()
    if output is None:
        click.echo(text)
        return
    _write_atomically(output, text)
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(Counter(m.kind.value for m in analysis.moments).items()))
    click.echo(f"wrote {len(analysis.moments)} moments ({counts or 'none'}) to {output}", err=True)
    for diagnostic in analysis.diagnostics:
        click.echo(f"note: {diagnostic}", err=True)


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
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        bar = progress.add_task("starting", total=1.0)
        yield lambda stage, fraction: progress.update(bar, description=stage, completed=fraction)


def _write_atomically(path: Path, text: str) -> None:
    """Write beside the target, then rename: an interrupted run never leaves half a file in place of a good one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text + "\n", encoding="utf-8")
    partial.replace(path)


def _format_from_extension(output: Path | None) -> str:
    if output is None:
        return "json"
    suffix = output.suffix.lower()
    for name, extension in OUTPUT_FORMATS.items():
        if extension == suffix:
            return name
    return "json"


@cli.command()
@click.option("--output-dir", type=click.Path(path_type=Path, file_okay=False), default=Path("build/demo"),
              show_default=True, help="Where to write the demo clip and its analysis.")
def demo(output_dir: Path) -> None:
    """Make a demo clip with known content, probe it, and analyse it with the signals engine."""
    from reelmark.core.demo import DEMO_TASKS, make_demo_clip, summarise
    from reelmark.core.engines import AnalysisRequest, get_engine
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.report import format_probe

    truth = make_demo_clip(output_dir)
    click.echo(f"wrote {truth.path} ({float(truth.duration):g} s, cuts at "
               + ", ".join(f"{float(time):g} s" for time in truth.cut_times) + ")\n")
    click.echo(format_probe(probe_media(truth.path)) + "\n")
    request = AnalysisRequest(truth.path, DEMO_TASKS, ("loud", "silence", "says: subject"), params={"split_target_s": 4})
    with _progress_bar() as progress:
        analysis = get_engine("signals").analyze(request, progress=progress)
    result_path = output_dir / "reelmark-demo.json"
    _write_atomically(result_path, analysis.to_json())
    click.echo(summarise(analysis))
    click.echo(f"\nwrote {result_path}")


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="reelmark")
    except KeyboardInterrupt:
        click.echo("reelmark: interrupted", err=True)
        sys.exit(130)
