"""`reelmark index` and `reelmark search`: a whole library analysed once, then searched across every file.

The logic lives in `reelmark.core.library`; these verbs parse options, print progress and the summary, and turn
bad input into one line (exit 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reelmark.bridge.formats import document_path
from reelmark.core.cli.common import ENGINE, MODEL, OUTPUT_FILE, PARAMS, TASKS, TableChoice, with_model
from reelmark.core.errors import InvalidRequestError
from reelmark.core.files import write_atomically

if TYPE_CHECKING:
    from reelmark.core.library.catalog import Catalog
    from reelmark.core.library.index import IndexProgress, IndexSummary

STORE = click.option("--store", "store_path", type=click.Path(path_type=Path, dir_okay=False),
                     help="The SQLite store the library lives in (default: the daemon's, in your user data folder, "
                          "or $REELMARK_STORE).")  # fmt: skip


def _catalog(store_path: Path | None, must_exist: bool) -> Catalog:
    from reelmark.core.library.catalog import Catalog
    from reelmark.core.store import Store, default_store_path

    path = store_path or default_store_path()
    if must_exist and not path.exists():
        raise InvalidRequestError(f"no library indexed yet ({path} does not exist); run `reelmark index FOLDER` first")
    return Catalog(Store(path))


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@ENGINE
@TASKS
@PARAMS
@MODEL
@STORE
@click.option("--cluster", metavar="auto|ray://HOST:PORT",
              help="Analyse on a Ray cluster (pip install 'reelmark[cluster]'): auto joins the one this machine "
                   "belongs to (or starts a local one); ray://HOST:PORT a head's client server.")
@click.option("--map-path", "path_maps", multiple=True, metavar="HERE=THERE",
              help="With --cluster: workers find files under THERE where this machine has them under HERE "
                   "(repeat for several roots).")  # fmt: skip
@click.option("--retry-failed", is_flag=True, help="Analyse again files that failed before (same bytes).")
def index(paths: tuple[Path, ...], engine: str, tasks: tuple[str, ...], params: dict[str, str], model: str | None,
          store_path: Path | None, cluster: str | None, path_maps: tuple[str, ...], retry_failed: bool) -> None:  # fmt: skip
    """Analyse every media file under PATHS once, for `reelmark search`.

    Files are found by content (not extension); hidden and system folders are skipped. A file already indexed
    (even renamed or moved) is not analysed again; an edited one is. Interrupt it at any time: the next run
    goes on from there.

    \b
    Examples:
      reelmark index ~/footage
      reelmark index /mnt/cams --task people --task activity
      reelmark index /mnt/cams --cluster ray://10.0.0.5:10001
    """
    from reelmark.core.library.analyse import IndexConfig
    from reelmark.core.library.index import local_runner, run_index
    from reelmark.core.library.search import embed

    from reelmark.core.library.scan import check_roots

    check_roots(list(paths))  # before the store is opened (or made): bad input loses nothing
    config = IndexConfig(engine, tuple(tasks), with_model(engine, model, params))
    runner = local_runner
    if cluster:
        from reelmark.core.library.ray_runner import ray_runner

        runner = ray_runner(cluster, _path_map(path_maps))
    catalog = _catalog(store_path, must_exist=False)
    summary = run_index(list(paths), config, catalog, runner=runner, retry_failed=retry_failed,
                        progress=_print_progress, embed=embed)  # fmt: skip
    _print_summary(summary, catalog)


def _path_map(items: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for item in items:
        here, separator, there = item.partition("=")
        if not separator or not here or not there:
            raise click.BadParameter(f"{item!r} is not HERE=THERE", param_hint="--map-path")
        mapping[str(Path(here).resolve())] = there
    return mapping


def _print_progress(state: IndexProgress) -> None:
    if state.files_total == 0:
        return
    from reelmark.core.library.clock import format_time_of_day

    eta = state.eta_s
    eta_text = "?" if eta is None else format_time_of_day(eta)
    click.echo(f"[{state.files_done}/{state.files_total} files] {state.media_s_done / 3600:.3f} of "
               f"{state.media_s_total / 3600:.3f} h of media, {state.hours_per_hour:.1f} h per hour, ETA {eta_text}",
               err=True)  # fmt: skip


def _print_summary(summary: IndexSummary, catalog: Catalog) -> None:
    from reelmark.core.report import plural

    for problem in summary.problems:
        click.echo(f"skipped: {problem}", err=True)
    if summary.nothing_to_do:
        click.echo(f"nothing to do: all {plural(summary.found, 'media file')} already indexed"
                   + (f" ({summary.failed_before} failed before; --retry-failed tries them again)" if summary.failed_before else "")
                   + (f"; recorded {plural(summary.new_paths, 'new path')} of known files" if summary.new_paths else ""),
                   err=True)  # fmt: skip
    else:
        click.echo(f"indexed {plural(summary.analysed, 'file')} ({summary.media_s / 3600:.3f} h of media, "
                   f"{plural(summary.moments, 'moment')}) in {summary.wall_s:.1f} s; {summary.already} already indexed "
                   f"({plural(summary.new_paths, 'renamed or moved file')} recognised), "
                   f"{plural(summary.duplicates, 'duplicate')} in this run", err=True)  # fmt: skip
    if summary.failures:
        click.echo(f"{plural(len(summary.failures), 'file')} failed (the rest went on):", err=True)
        for path, error in summary.failures:
            click.echo(f"  {path}: {error}", err=True)
    if summary.not_media:
        click.echo(f"not audio or video, so not indexed: {plural(summary.not_media, 'other file')}", err=True)
    counts = catalog.counts()
    click.echo(f"library: {plural(counts['files'], 'file')}, {plural(counts['moments'], 'moment')}", err=True)


def _moment_kinds() -> list[str]:
    from reelmark.core.results import MomentKind

    return [kind.value for kind in MomentKind]


@click.command()
@click.argument("query", required=False, default="")
@click.option("--kind", "kinds", multiple=True, metavar="KIND", type=TableChoice(_moment_kinds), help="Only moments of this kind (shot, person, "
              "speech, activity, …); repeat for several.")  # fmt: skip
@click.option("--in", "folders", multiple=True, type=click.Path(path_type=Path),
              help="Only files under this folder; repeat for several.")
@click.option("--between", nargs=2, metavar="HH:MM HH:MM",
              help="Only moments whose clock time (recording start + media time) is in this range of the day.")
@click.option("--on", "on_date", metavar="YYYY-MM-DD", help="Only moments recorded on this date.")
@click.option("--region", metavar="X,Y,W,H", help="A region of the picture in [0, 1]: people or activity tubes "
              "that --enters (default), --leaves or stay --inside it.")  # fmt: skip
@click.option("--enters", "motion", flag_value="enters", default=True, help="With --region: tubes that come into it.")
@click.option("--leaves", "motion", flag_value="leaves", help="With --region: tubes that go out of it.")
@click.option("--inside", "motion", flag_value="inside", help="With --region: tubes that stay in it.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000), help="At most this many hits.")
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@click.option("-o", "--output", type=OUTPUT_FILE,
              help="Write the hits as a selects timeline (.otio .xml .edl .fcpxml) or JSON (.json).")
@STORE
def search(query: str, kinds: tuple[str, ...], folders: tuple[Path, ...], between: tuple[str, str] | None,
           on_date: str | None, region: str | None, motion: str, limit: int, as_json: bool, output: Path | None,
           store_path: Path | None) -> None:  # fmt: skip
    """Find moments across the indexed library by words ("a phrase", pre*), meaning, time of day and place.

    \b
    Examples:
      reelmark search "how much does it cost"
      reelmark search person --between 18:00 23:59 --in /mnt/cams/side-door
      reelmark search --region 0.4,0,0.45,0.6 --enters --between 18:00 23:59
      reelmark search "first dance" -o selects.xml          # a sequence of the hits for Premiere Pro
    """
    import json

    from reelmark.core.library.clock import parse_date, parse_time_of_day
    from reelmark.core.library.region import Region
    from reelmark.core.library.search import Filters, Searcher, folder_filters
    from reelmark.core.library.selects import write_selects

    try:
        window = None if between is None else (parse_time_of_day(between[0]), parse_time_of_day(between[1]))
        date = None if on_date is None else parse_date(on_date)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    for folder in folders:
        if not folder.exists():
            raise InvalidRequestError(f"--in {folder}: no such folder; give one that was indexed")
    fmt = _selects_format(output)
    catalog = _catalog(store_path, must_exist=True)
    if catalog.counts()["files"] == 0:
        raise InvalidRequestError("no library indexed yet in this store; run `reelmark index FOLDER` first")
    filters = Filters(tuple(kinds), folder_filters([str(folder) for folder in folders]), window, date,
                      None if region is None else Region.parse(region), motion)  # fmt: skip
    hits = Searcher(catalog).search(query, filters, limit)
    if output is not None:
        write_atomically(document_path(output), write_selects(hits, catalog, fmt))
        click.echo(f"wrote {len(hits)} hit(s) to {output} as {fmt}", err=True)
    if as_json:
        click.echo(json.dumps([hit.to_dict() for hit in hits], indent=2, ensure_ascii=False))
    elif output is None:
        _print_table(hits)


def _selects_format(output: Path | None) -> str:
    from reelmark.core.cli.common import chosen_format

    return chosen_format(output, None) if output is not None else "json"


def _print_table(hits: list) -> None:
    if not hits:
        click.echo("no moments match", err=True)
        return
    click.echo(f"{'file':<40} {'time':<19} {'clock':<23} {'kind':<9} {'score':>5}  text")
    for hit in hits:
        times = f"{_media_time(hit.start_s)}-{_media_time(hit.end_s)}"
        click.echo(f"{_short(hit.path, 40):<40} {times:<19} {hit.clock or 'unknown':<23} {hit.kind:<9} "
                   f"{hit.score:5.2f}  {hit.text[:80]}")  # fmt: skip


def _media_time(seconds: float) -> str:
    return f"{int(seconds // 3600)}:{int(seconds // 60 % 60):02d}:{seconds % 60:04.1f}"


def _short(path: str, width: int) -> str:
    return path if len(path) <= width else "…" + path[-(width - 1):]
