"""`reelmark index`: analyse every media file under some folders once, and remember where each one was seen.

A run: scan the roots; fingerprint each file (re-read only when its size or modification time changed); skip what
the store already has under the same config (a renamed or moved copy only gets its new path recorded); probe
the rest for their durations (so progress can say hours and an ETA, and a file that cannot even be opened is
reported at once); analyse them, locally or on Ray (`ray_runner`), each result written to the store as it
arrives (`Catalog.save`, one transaction). A file that fails is reported in the summary and recorded, so the next
run does not try the same bytes again unless asked (`retry_failed`); the run itself goes on.

Killed at any point, a run has lost at most the files in flight: the next one finds the rest already indexed.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelmark.core.errors import ReelmarkError
from reelmark.core.library.analyse import IndexConfig, analyse_file
from reelmark.core.library.catalog import ANALYSED, Catalog
from reelmark.core.library.clock import recording_start
from reelmark.core.library.scan import FoundFile, check_roots, scan
from reelmark.core.media.fingerprinting import fingerprint
from reelmark.core.results import Analysis

log = logging.getLogger("reelmark.library")


@dataclass(frozen=True)
class WorkItem:
    """A distinct file (by content) to analyse, and every path it was found at in this run."""

    fingerprint: str
    files: tuple[FoundFile, ...]
    duration_s: float


@dataclass
class IndexProgress:
    files_total: int
    files_done: int = 0
    media_s_total: float = 0.0
    media_s_done: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def hours_per_hour(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.media_s_done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        rate = self.hours_per_hour
        return (self.media_s_total - self.media_s_done) / rate if rate > 0 else None


@dataclass
class IndexSummary:
    found: int = 0
    analysed: int = 0
    already: int = 0
    """Files whose content the store already had (same config)."""
    new_paths: int = 0
    """Of those, ones seen at a path not recorded before: renamed, moved or copied."""
    failed_before: int = 0
    duplicates: int = 0
    """Files in this run with the same content as another one (analysed once)."""
    moments: int = 0
    media_s: float = 0.0
    wall_s: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_media: int = 0
    """Files under the roots that are not audio or video (by content), so not looked at."""
    cancelled: bool = False

    @property
    def nothing_to_do(self) -> bool:
        return self.analysed == 0 and not self.failures and not self.cancelled


Outcome = tuple[WorkItem, str | None, str | None]
"""A finished item: (item, the analysis's JSON or None, the error or None)."""
Runner = Callable[[Sequence[WorkItem], IndexConfig], Iterator[Outcome]]


def local_runner(items: Sequence[WorkItem], config: IndexConfig) -> Iterator[Outcome]:
    """Analyse one file after another in this process."""
    for item in items:
        try:
            yield item, analyse_file(str(item.files[0].path), config), None
        except ReelmarkError as error:
            yield item, None, str(error)
        except Exception as error:  # a per-file failure must never stop the library run; it is reported
            log.debug("analysing %s failed", item.files[0].path, exc_info=True)
            yield item, None, f"{type(error).__name__}: {error}"


def run_index(
    paths: Sequence[Path],
    config: IndexConfig,
    catalog: Catalog,
    *,
    runner: Runner = local_runner,
    retry_failed: bool = False,
    progress: Callable[[IndexProgress], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    embed: Callable[[list[str]], object] | None = None,
) -> IndexSummary:
    started = time.monotonic()
    roots = check_roots(paths)
    report = scan(roots)
    summary = IndexSummary(found=len(report.files), problems=list(report.problems), not_media=report.skipped_not_media)
    key = config.key
    todo = _plan(report.files, key, catalog, summary, retry_failed)
    state = IndexProgress(len(todo), media_s_total=sum(item.duration_s for item in todo))
    if progress is not None:
        progress(state)
    for item, analysis_json, error in runner(todo, config):
        label = str(item.files[0].path)
        if error is not None:
            catalog.record_failure(item.fingerprint, key, error)
            summary.failures.append((label, error))
        else:
            analysis = Analysis.from_json(analysis_json or "")
            summary.moments += catalog.save(analysis, key, recording_start(analysis.media.probe), embed)
            summary.analysed += 1
            summary.media_s += item.duration_s
        _record_paths(catalog, item)
        state.files_done += 1
        state.media_s_done += item.duration_s
        if progress is not None:
            progress(state)
        if cancelled is not None and cancelled():
            summary.cancelled = True
            break
    summary.wall_s = time.monotonic() - started
    return summary


def _plan(files: Iterable[FoundFile], key: str, catalog: Catalog, summary: IndexSummary,
          retry_failed: bool) -> list[WorkItem]:  # fmt: skip
    """Fingerprint every file, record what is already known, and return the distinct new contents to analyse."""
    from reelmark.core.media.probing import probe

    pending: dict[str, list[FoundFile]] = {}
    for found in files:
        try:
            stat = found.path.stat()
            known_print = catalog.path_fingerprint(str(found.root), found.relative, stat.st_size, stat.st_mtime_ns)
            content = known_print or fingerprint(found.path)
        except (OSError, ReelmarkError) as error:
            summary.failures.append((str(found.path), f"cannot read it: {error}"))
            continue
        known = catalog.known(content)
        if known is not None and known.config == key and (known.state == ANALYSED or not retry_failed):
            if known.state == ANALYSED:
                summary.already += 1
                summary.new_paths += known_print is None and not _path_known(catalog, found, content)
            else:
                summary.failed_before += 1
            catalog.record_path(str(found.root), found.relative, content, stat.st_size, stat.st_mtime_ns)
            continue
        if content in pending:
            summary.duplicates += 1
        pending.setdefault(content, []).append(found)
    todo = []
    for content, found_files in pending.items():
        try:
            duration = probe(found_files[0].path).duration
        except ReelmarkError as error:
            catalog.record_failure(content, key, str(error))
            summary.failures.append((str(found_files[0].path), str(error)))
            _record_paths(catalog, WorkItem(content, tuple(found_files), 0.0))
            continue
        todo.append(WorkItem(content, tuple(found_files), float(duration or 0)))
    return todo


def _path_known(catalog: Catalog, found: FoundFile, content: str) -> bool:
    return found in catalog.paths_of([content])[content]


def _record_paths(catalog: Catalog, item: WorkItem) -> None:
    for found in item.files:
        try:
            stat = os.stat(found.path)
        except OSError:
            continue
        catalog.record_path(str(found.root), found.relative, item.fingerprint, stat.st_size, stat.st_mtime_ns)
