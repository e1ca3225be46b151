"""The `reelmark` command line.

Only click and reelmark's light modules load at start-up; PyAV loads when a command touches media, and torch or
transformers only inside the engines that need them, so `reelmark probe` starts fast. A user error prints one
line (`reelmark: error: …`) and exits 1; a usage error prints click's usage message and exits 2.
"""

from __future__ import annotations

import json
import logging
import sys
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
              help="What to find; repeat for several. Default: the engine's standard set.")
@click.option("--query", "queries", multiple=True, metavar="TEXT",
              help="What to look for, in words (ground, track, transcript, ask); repeat for several.")
@click.option("--start", type=CLOCK_TIME, help="Analyse from this media time: seconds or [hh:]mm:ss[.fff].")
@click.option("--end", type=CLOCK_TIME, help="Analyse up to this media time (past the end means to the end).")
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
    model: str | None,
    output: Path | None,
    output_format: str | None,
) -> None:
    """Find moments in MEDIA and write them as JSON or as an NLE timeline.

    \b
    Examples:
      reelmark analyze match.mp4 --task highlights -o reel.otio
      reelmark analyze lecture.mp4 --engine vlm --model ~/models/qwen --task ground --query "the speaker draws a graph"
    """
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.media.ranges import checked_range

    chosen_format = output_format or _format_from_extension(output)
    needs_query = sorted(task for task in tasks if Task(task) in QUERY_TASKS)
    if needs_query and not queries:
        raise click.UsageError(f"--task {needs_query[0]} needs at least one --query")
    if engine == "vlm" and model is None:
        raise click.UsageError("--engine vlm needs --model PATH_OR_ID")
    info = probe_media(media)
    checked_range(info, start, end)
    if chosen_format != "json":
        raise EngineUnavailableError(
            f"--format {chosen_format} needs the OTIO bridge, which this version ({__version__}) does not include yet; "
            "use --format json"
        )
    raise EngineUnavailableError(
        f"the {engine} engine is not part of this version ({__version__}) yet; "
        "`reelmark probe` works today, and the README's roadmap lists what comes next"
    )


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
              show_default=True, help="Where to write the demo clip.")
def demo(output_dir: Path) -> None:
    """Make a demo clip with known content and run reelmark on it (today: probe)."""
    from reelmark.core.demo import make_demo_clip
    from reelmark.core.media.probing import probe as probe_media
    from reelmark.core.report import format_probe

    truth = make_demo_clip(output_dir)
    click.echo(f"wrote {truth.path} ({float(truth.duration):g} s, cuts at "
               + ", ".join(f"{float(time):g} s" for time in truth.cut_times) + ")\n")
    click.echo(format_probe(probe_media(truth.path)))


def main() -> None:
    """Console entry point."""
    try:
        cli.main(prog_name="reelmark")
    except KeyboardInterrupt:
        click.echo("reelmark: interrupted", err=True)
        sys.exit(130)
