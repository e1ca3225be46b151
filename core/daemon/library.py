"""The library over the daemon: Index jobs (progress, cancel, status) and Search, for both plugins.

An index job runs `library.index.run_index` in one thread of the daemon, against the daemon's own store, one job
at a time (a second StartIndex while one runs is RESOURCE_EXHAUSTED, naming the running job). Its progress
lives in memory; what it indexed is in the store the moment each file is done, so a daemon stopped mid-job
loses only the file in flight, and the next StartIndex goes on from there. Paths pass the same guard as media
paths (absolute, inside the media roots).

`LibraryService` is mixed into `ReelmarkService`, which owns `_store` and `_guard`.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from reelmark.bridge.formats import all_formats
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.daemon.errors import NotFoundError, QueueFullError
from reelmark.core.daemon.security import Guard
from reelmark.core.errors import InvalidRequestError, ReelmarkError
from reelmark.core.engines.registry import engine_class
from reelmark.core.library.analyse import IndexConfig
from reelmark.core.library.catalog import Catalog
from reelmark.core.library.index import IndexProgress, IndexSummary, run_index
from reelmark.core.library.scan import check_roots
from reelmark.core.library.search import Searcher, embed
from reelmark.core.store import Store

DEFAULT_HITS = 20
MAX_HITS = 10_000


@dataclass
class _IndexJob:
    id: str
    state: int = api.JOB_STATE_RUNNING
    progress: IndexProgress | None = None
    summary: IndexSummary | None = None
    error: str = ""
    cancel: threading.Event = field(default_factory=threading.Event)

    def to_wire(self) -> api.IndexJob:
        job = api.IndexJob(id=self.id, state=self.state, error=self.error)
        if self.progress is not None:
            job.files_total, job.files_done = self.progress.files_total, self.progress.files_done
            job.media_seconds_total, job.media_seconds_done = self.progress.media_s_total, self.progress.media_s_done
            job.hours_per_hour = self.progress.hours_per_hour
            if self.progress.eta_s is not None and self.state == api.JOB_STATE_RUNNING:
                job.eta_seconds = self.progress.eta_s
        if self.summary is not None:
            job.analysed, job.already_indexed = self.summary.analysed, self.summary.already
            job.failures.extend(api.IndexFailure(path=path, error=error) for path, error in self.summary.failures)
        return job


@dataclass
class _LibraryState:
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, _IndexJob] = field(default_factory=dict)
    searcher: Searcher | None = None


class LibraryService:
    _store: Store
    _guard: Guard

    @property
    def _library(self) -> _LibraryState:
        """This service's index jobs and searcher, made on first use (the service's __init__ stays as it is)."""
        return self.__dict__.setdefault("_library_state", _LibraryState())

    def StartIndex(self, request: api.StartIndexRequest, context: object) -> api.IndexJob:
        if not request.paths:
            raise InvalidRequestError("paths is empty; give the absolute folders to index")
        paths = check_roots([self._guard.media_path(raw) for raw in request.paths])  # refused now, not in the job
        config = IndexConfig(request.engine or "signals", tuple(request.tasks), dict(request.params))
        engine_class(config.engine)  # an unknown engine is refused now, not in the thread
        with self._library.lock:
            running = [job for job in self._library.jobs.values() if job.state == api.JOB_STATE_RUNNING]
            if running:
                raise QueueFullError(f"index job {running[0].id} is running; wait for it or cancel it first")
            job = _IndexJob(f"ix-{secrets.token_hex(6)}")
            self._library.jobs[job.id] = job
        threading.Thread(target=self._run_index, args=(job, paths, config, request.retry_failed),
                         name=f"index-{job.id}", daemon=True).start()  # fmt: skip
        return job.to_wire()

    def _run_index(self, job: _IndexJob, paths: list[Path], config: IndexConfig, retry_failed: bool) -> None:
        def progress(state: IndexProgress) -> None:
            job.progress = state

        try:
            job.summary = run_index(paths, config, Catalog(self._store), retry_failed=retry_failed,
                                    progress=progress, cancelled=job.cancel.is_set, embed=embed)  # fmt: skip
            job.state = api.JOB_STATE_CANCELLED if job.summary.cancelled else api.JOB_STATE_SUCCEEDED
        except ReelmarkError as error:
            job.error, job.state = str(error), api.JOB_STATE_FAILED
        except Exception as error:  # the daemon must outlive any failure of a job
            job.error, job.state = f"the index job failed inside the daemon ({type(error).__name__}); see its log", api.JOB_STATE_FAILED
            raise

    def GetIndexJob(self, request: api.GetIndexJobRequest, context: object) -> api.IndexJob:
        return self._index_job(request.job_id).to_wire()

    def CancelIndexJob(self, request: api.GetIndexJobRequest, context: object) -> api.IndexJob:
        job = self._index_job(request.job_id)
        job.cancel.set()
        return job.to_wire()

    def _index_job(self, job_id: str) -> _IndexJob:
        job = self._library.jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no index job {job_id!r} in this daemon; start one with StartIndex")
        return job

    def Search(self, request: api.SearchRequest, context: object) -> api.SearchResponse:
        from reelmark.core.library.clock import parse_date, parse_time_of_day
        from reelmark.core.library.region import Region
        from reelmark.core.library.search import Filters, folder_filters
        from reelmark.core.library.selects import write_selects

        catalog = Catalog(self._store)
        if catalog.counts()["files"] == 0:
            raise InvalidRequestError("no library indexed yet; start an index job (StartIndex) first")
        try:
            between = None
            if request.between_start or request.between_end:
                between = (parse_time_of_day(request.between_start), parse_time_of_day(request.between_end))
            date = parse_date(request.on_date) if request.on_date else None
        except ValueError as error:
            raise InvalidRequestError(str(error)) from None
        folders = folder_filters([str(self._guard.media_path(folder)) for folder in request.folders])
        region = Region.parse(request.region) if request.region else None
        filters = Filters(tuple(request.kinds), folders, between, date, region, request.motion or "enters")
        limit = min(request.limit or DEFAULT_HITS, MAX_HITS)
        hits = self._searcher(catalog).search(request.query, filters, limit)
        response = api.SearchResponse(hits=[
            api.SearchHit(path=hit.path, fingerprint=hit.fingerprint, moment_id=hit.moment_id, kind=hit.kind,
                          start_s=hit.start_s, end_s=hit.end_s, clock=hit.clock or "", text=hit.text, score=hit.score)
            for hit in hits
        ])  # fmt: skip
        if request.selects_format:
            if request.selects_format not in all_formats():
                raise InvalidRequestError(f"unknown selects_format {request.selects_format!r}; use one of "
                                          f"{', '.join(all_formats())}")  # fmt: skip
            response.selects = write_selects(hits, catalog, request.selects_format)
        return response

    def _searcher(self, catalog: Catalog) -> Searcher:
        """One searcher per daemon, so the embeddings are loaded once (and again only when texts were added)."""
        with self._library.lock:
            if self._library.searcher is None:
                self._library.searcher = Searcher(catalog)
            return self._library.searcher
