"""`reelmark probe`, `analyze`, `export` and `roundtrip`: one file or one timeline, in and out."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import click

from reelmark.bridge.formats import TIMELINE_KINDS, all_formats, timeline_formats
from reelmark.core.cli.common import (
    CLOCK_TIME, DAEMON, ENGINE, MODEL, OUTPUT_FILE, PARAMS, QUERY_HELP, TASKS, ParamsHelpCommand, analyser, emit,
    format_option, chosen_format, progress_bar, tasks_for, with_model,
)  # fmt: skip


@click.command()
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


@click.command(cls=ParamsHelpCommand)
@click.argument("media", type=click.Path(path_type=Path))
@ENGINE
@TASKS
@click.option("--query", "queries", multiple=True, metavar="TEXT",
              help=QUERY_HELP + " signals knows: person, face, speech, silence, loud, activity, shot change, "
                   "'says: <text>'.")
@click.option("--start", type=CLOCK_TIME, help="Analyse from this media time: seconds or [hh:]mm:ss[.fff].")
@click.option("--end", type=CLOCK_TIME, help="Analyse up to this media time (past the end means to the end).")
@PARAMS
@MODEL
@DAEMON
@click.option("-o", "--output", type=OUTPUT_FILE,
              help="Write the result here instead of standard output.")
@format_option()
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
      reelmark analyze talk.mp4 --task transcribe --model Systran/faster-whisper-small  # word-timed speech
      reelmark analyze interview.mov -o interview.xml                 # FCP7 XML for Premiere Pro
      reelmark analyze interview.mov --format resolve-otio -o iv.otio # for DaVinci Resolve
      reelmark analyze match.mp4 --task highlights --timeline highlights -o reel.otio
      reelmark analyze match.mp4 --daemon 127.0.0.1:7330 -o match.json  # through a running `reelmark serve`
    """
    from reelmark.core.engines import AnalysisRequest

    fmt = chosen_format(output, output_format)
    params = with_model(engine, model, params)
    from reelmark.bridge.subtitles import subtitle_request_problem
    from reelmark.core.errors import InvalidRequestError

    request = AnalysisRequest(media, tasks_for(engine, tasks, queries), queries, start, end, params)
    if problem := subtitle_request_problem(all_formats()[fmt].holds, [str(task) for task in request.tasks], timeline):
        raise InvalidRequestError(problem)
    with progress_bar() as progress:
        analysis = analyser(engine, daemon, progress)(request)
    emit(analysis, output, fmt, timeline)
    for diagnostic in analysis.diagnostics:
        click.echo(f"note: {diagnostic}", err=True)


@click.command()
@click.argument("analysis_file", metavar="ANALYSIS", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", required=True, type=OUTPUT_FILE,
              help="The file to write; its extension picks the format unless --format says.")
@format_option()
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
    emit(analysis, output, chosen_format(output, output_format), timeline)


@click.command(cls=ParamsHelpCommand)
@click.argument("timeline_in", metavar="TIMELINE_IN", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=OUTPUT_FILE,
              help="Where to write the marked timeline; by default in the input's format.")
@ENGINE
@TASKS
@click.option("--query", "queries", multiple=True, metavar="TEXT", help=QUERY_HELP)
@PARAMS
@MODEL
@DAEMON
@click.option("--media-root", "media_roots", multiple=True, type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="A folder to search for media the timeline names but this machine keeps elsewhere; repeat.")
@format_option(timeline_formats)
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

    chosen_tasks = tasks_for(engine, tasks, queries)
    try:
        rate = exact_rate(edl_rate) if edl_rate else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--edl-rate") from None
    analyse = analyser(engine, daemon, None)
    params = with_model(engine, model, params)
    with progress_bar() as progress:
        report = run_roundtrip(
            timeline_in, output, analyse, tasks=chosen_tasks, queries=queries, params=params,
            media_roots=media_roots, output_format=output_format, edl_rate=rate,
            ignore_timecode_mismatch=ignore_timecode_mismatch, progress=progress,
        )  # fmt: skip
    click.echo(report.summary(), err=True)
