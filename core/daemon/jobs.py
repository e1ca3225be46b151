"""The job queue: analyses run in engine worker processes, never on the threads that answer RPCs.

Each engine gets its own pool of workers (a GPU engine exactly one, since two jobs would fight over its memory)
fed from its own queue; each worker is a long-lived, niced process (see `workers`) driven by one thread here, and
jobs hold a plain, picklable `JobRequest` (protobuf stays at the service). The number of jobs waiting across all
pools is bounded, and a full queue refuses new work at once instead of piling it up. Progress comes from the
engine's own callback; cancellation is cooperative (the engine polls a flag between units of work), and a worker
that ignores it is killed. A worker that dies fails its job with the reason, and the next job gets a fresh one.
Every state change is written to the store, so a restart finds every job; progress steps live in memory only.

Watchers (WatchJob streams, Ground calls) wait on one condition variable and compare a job's `version`, which
moves on each state change and each progress step of at least 1 %.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from collections.abc import Callable

from reelmark.core.daemon.errors import NotFoundError, QueueFullError, ShuttingDownError, log_unexpected
from reelmark.core.daemon.workers import (
    EngineFactory, ProcessWorker, Runner, ThreadRunner, can_run_in_process, unexpected_failure,
)  # fmt: skip
from reelmark.core.engines.base import AnalysisCancelled, AnalysisRequest, Engine, request_key
from reelmark.core.errors import ReelmarkError
from reelmark.core.store import (
    CANCELLED, FAILED, FINISHED_STATES, QUEUED, RUNNING, SUCCEEDED, JobRecord, Store, now,
)  # fmt: skip

log = logging.getLogger("reelmark.daemon.jobs")

RETAINED_FINISHED = 256
"""Finished jobs kept in memory for fast polling; older ones are read from the store."""
PROGRESS_STEP = 0.01
CANCEL_WAIT_S = 10.0
"""How long cancelled jobs get to reach the engine's next check at shutdown."""
SHUTDOWN_NOTE = "re-queued: the daemon was stopped during the job; it runs again when the daemon restarts"



@dataclass(frozen=True)
class JobStatus:
    """A consistent snapshot of one job: its stored record plus the live progress."""

    record: JobRecord
    fraction: float = 0.0
    stage: str = ""
    eta_seconds: float | None = None
    version: int = 0

    @property
    def finished(self) -> bool:
        return self.record.state in FINISHED_STATES


@dataclass(frozen=True)
class JobRequest:
    """What a job runs, as plain picklable values (a worker process or a cluster node can take it): the engine,
    its request, and the request as the service stored it (which a restart re-reads and the API echoes back;
    only the service reads that text, so wire types stay at the edge)."""

    engine: str
    request: AnalysisRequest
    spec_json: str


@dataclass
class _LiveJob:
    record: JobRecord
    job: JobRequest
    key: str = ""
    """The analysis key it will produce ("" for jobs recovered from the store)."""
    cancel: threading.Event = field(default_factory=threading.Event)
    cancel_reason: str = ""
    fraction: float = 0.0
    published_fraction: float = 0.0
    stage: str = ""
    eta_seconds: float | None = None
    started: float = 0.0
    version: int = 0

    def status(self) -> JobStatus:
        return JobStatus(self.record, self.fraction, self.stage, self.eta_seconds, self.version)


@dataclass
class _Pool:
    engine: Engine
    runners: list[Runner]
    queue: queue.Queue[str | None] = field(default_factory=queue.Queue)
    threads: list[threading.Thread] = field(default_factory=list)


JobDecoder = Callable[[str], JobRequest]
"""Turns a stored `spec_json` back into a job; the service provides it, since it wrote the text."""


class Scheduler:
    def __init__(self, store: Store, engine_factory: EngineFactory, cpu_workers: int, max_queued: int):
        self._store = store
        self._engine_factory = engine_factory
        self._cpu_workers = cpu_workers
        self._max_queued = max_queued
        self._cond = threading.Condition()
        self._jobs: dict[str, _LiveJob] = {}
        self._finished: deque[str] = deque()
        self._pools: dict[str, _Pool] = {}
        self._pools_lock = threading.Lock()
        self._in_flight: dict[str, str] = {}
        """Analysis key → the queued or running job that will produce it, so a repeated request joins it."""
        self._queued = 0
        self._closing = False

    # --- engines ----------------------------------------------------------------------------------------------

    def engine(self, name: str) -> Engine:
        """The engine called `name`, with its workers started; raises `EngineUnavailableError` if it cannot run."""
        return self._pool(name).engine

    def workers(self, name: str) -> int:
        return len(self._pool(name).runners)

    def runners(self, name: str) -> list[Runner]:
        """The pool's worker slots (a test kills a `ProcessWorker`'s process through its pid)."""
        return list(self._pool(name).runners)

    def _pool(self, name: str) -> _Pool:
        # A lock of its own: making an engine can import heavy modules, and job updates must not wait for it.
        with self._pools_lock:
            pool = self._pools.get(name)
            if pool is None:
                engine = self._engine_factory(name)
                workers = 1 if engine.capabilities().needs_gpu else self._cpu_workers
                isolated = can_run_in_process(self._engine_factory)
                runners: list[Runner] = [ProcessWorker(self._engine_factory, name) if isolated else ThreadRunner(engine)
                                         for _ in range(workers)]  # fmt: skip
                log.info("engine %s: %d worker %s", name, workers, "process(es)" if isolated else
                         "thread(s) in the daemon (its factory cannot be sent to a process)")  # fmt: skip
                pool = self._pools[name] = _Pool(engine, runners)
                for index, runner in enumerate(runners):
                    thread = threading.Thread(target=self._work, args=(pool, runner), name=f"engine-{name}-{index}",
                                              daemon=True)  # fmt: skip
                    pool.threads.append(thread)
                    thread.start()
            return pool

    # --- life cycle -------------------------------------------------------------------------------------------

    def recover(self, decode: JobDecoder) -> int:
        """Re-queue what a previous daemon left unfinished; returns how many jobs were queued again."""
        jobs = self._store.recover()
        for record in jobs:
            try:
                pool = self._pool(record.engine)
                job = decode(record.spec_json)
            except ReelmarkError as error:
                self._store.save_job(replace(record, state=FAILED, finished_at=now(), error_code=error.status,
                                             error_message=str(error)))  # fmt: skip
                continue
            with self._cond:
                self._jobs[record.id] = _LiveJob(record, job)
                self._queued += 1
            pool.queue.put(record.id)
        log.info("recovered %d unfinished job(s) from the store", len(jobs))
        return len(jobs)

    def shutdown(self, grace: float) -> bool:
        """Stop taking work; give running jobs `grace` seconds, then ask them to stop and re-queue them.

        Returns whether every worker has stopped (an engine that ignores cancellation may still be running)."""
        with self._cond:
            self._closing = True
        with self._pools_lock:
            pools = list(self._pools.values())
        for pool in pools:
            for _ in pool.threads:
                pool.queue.put(None)
        deadline = time.monotonic() + grace
        for pool in pools:
            for thread in pool.threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            running = [job for job in self._jobs.values() if job.record.state == RUNNING]
            for job in running:
                job.cancel_reason = SHUTDOWN_NOTE
                job.cancel.set()
        deadline = time.monotonic() + CANCEL_WAIT_S
        for pool in pools:
            for thread in pool.threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            for runner in pool.runners:
                runner.close()
        return not any(thread.is_alive() for pool in pools for thread in pool.threads)

    # --- submitting and querying ------------------------------------------------------------------------------

    def submit(self, request: JobRequest, key: str, force: bool) -> JobStatus:
        """Queue a job that will produce analysis `key`; unless forced, a request for a result already being
        produced gets that job instead of a second one."""
        pool = self._pool(request.engine)
        record = JobRecord(id=f"j-{uuid.uuid4().hex[:16]}", engine=request.engine, spec_json=request.spec_json,
                           force=force)  # fmt: skip
        with self._cond:
            if self._closing:
                raise ShuttingDownError("the daemon is shutting down; start the job again once it is back")
            joined = self._jobs.get(self._in_flight.get(key, ""))
            if joined is not None and not force:
                return joined.status()
            if self._queued >= self._max_queued:
                raise QueueFullError(
                    f"the job queue is full ({self._queued} jobs waiting); wait for some to finish or cancel some "
                    "(reelmark jobs, reelmark cancel), or restart the daemon with a larger --max-queue"
                )
            self._store.add_job(record)
            job = self._jobs[record.id] = _LiveJob(record, request, key)
            self._in_flight[key] = record.id
            self._queued += 1
        pool.queue.put(record.id)
        log.info("job %s queued (engine %s)", record.id, record.engine)
        return job.status()

    def add_cached(self, request: JobRequest, analysis_id: str) -> JobStatus:
        """A job that is done before it starts: the store already holds its result."""
        stamp = now()
        record = JobRecord(
            id=f"j-{uuid.uuid4().hex[:16]}", engine=request.engine, spec_json=request.spec_json, state=SUCCEEDED,
            analysis_id=analysis_id, cached=True, created_at=stamp, started_at=stamp, finished_at=stamp,
        )  # fmt: skip
        self._store.add_job(record)
        with self._cond:
            job = self._jobs[record.id] = _LiveJob(record, request, fraction=1.0)
            self._retire(job)
        return job.status()

    def status(self, job_id: str) -> JobStatus:
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None:
                return job.status()
        record = self._store.get_job(job_id)
        if record is None:
            raise NotFoundError(f"no job {job_id!r} on this daemon; list jobs with `reelmark jobs`")
        return JobStatus(record, 1.0 if record.state == SUCCEEDED else 0.0)

    def recent(self, limit: int, states: tuple[str, ...]) -> list[JobStatus]:
        records = self._store.list_jobs(limit, states)
        with self._cond:
            return [self._jobs[r.id].status() if r.id in self._jobs else JobStatus(r) for r in records]

    def wait(self, job_id: str, after_version: int, timeout: float) -> JobStatus:
        """The job once its version passes `after_version`, or as it is after `timeout` seconds."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None:
                self._cond.wait_for(lambda: job.version > after_version, timeout=timeout)
                return job.status()
        return self.status(job_id)

    def cancel(self, job_id: str, reason: str) -> JobStatus:
        """Stop a job: a queued one ends now, a running one at the engine's next check; a finished one stays."""
        with self._cond:
            job = self._jobs.get(job_id)
            if job is None:
                return self.status(job_id)
            if job.record.state == QUEUED:
                self._queued -= 1
                self._finish(job, CANCELLED, error=("CANCELLED", reason))
            elif job.record.state == RUNNING:
                job.cancel_reason = reason
                job.cancel.set()
            return job.status()

    # --- running ----------------------------------------------------------------------------------------------

    def _work(self, pool: _Pool, runner: Runner) -> None:
        while (job_id := pool.queue.get()) is not None:
            with self._cond:
                job = self._jobs.get(job_id)
                if self._closing or job is None or job.record.state != QUEUED:
                    continue
                self._queued -= 1
                job.record = replace(job.record, state=RUNNING, started_at=now(), attempts=job.record.attempts + 1)
                job.started = time.monotonic()
                self._bump(job)
            self._store.save_job(job.record)
            log.info("job %s running (attempt %d)", job.record.id, job.record.attempts)
            self._run(pool.engine, runner, job)

    def _run(self, engine: Engine, runner: Runner, job: _LiveJob) -> None:
        try:
            finished = runner.run(job.job.request, lambda stage, fraction: self._progress(job, stage, fraction),
                                  job.cancel.is_set)  # fmt: skip
            key = request_key(job.job.request, engine, finished.fingerprint)
            self._store.put_analysis(key, finished.fingerprint, engine.name, engine.version, job.job.spec_json,
                                     finished.analysis_json)  # fmt: skip
        except AnalysisCancelled:
            with self._cond:
                if job.cancel_reason == SHUTDOWN_NOTE:
                    self._finish(job, QUEUED, note=SHUTDOWN_NOTE)
                else:
                    self._finish(job, CANCELLED, error=("CANCELLED", job.cancel_reason or "cancelled"))
        except ReelmarkError as error:
            log.debug("job %s failed: %s", job.record.id, error)
            with self._cond:
                self._finish(job, FAILED, error=(error.status, str(error)))
        except Exception as error:  # an engine bug: keep the daemon alive and say so
            log_unexpected(log, f"job {job.record.id} ({engine.name} engine)")
            with self._cond:
                self._finish(job, FAILED, error=("INTERNAL", unexpected_failure(engine.name, error)))
        else:
            with self._cond:
                job.fraction = 1.0
                self._finish(job, SUCCEEDED, analysis_id=key)

    def _progress(self, job: _LiveJob, stage: str, fraction: float) -> None:
        with self._cond:
            job.fraction = min(max(fraction, 0.0), 1.0)
            elapsed = time.monotonic() - job.started
            job.eta_seconds = elapsed * (1 - job.fraction) / job.fraction if job.fraction >= PROGRESS_STEP else None
            if stage != job.stage or job.fraction - job.published_fraction >= PROGRESS_STEP:
                job.stage = stage
                job.published_fraction = job.fraction
                self._bump(job)

    def _finish(self, job: _LiveJob, state: str, *, error: tuple[str, str] = ("", ""), analysis_id: str = "",
                note: str = "") -> None:  # fmt: skip
        """Record a job's end (or its return to the queue at shutdown); call with the condition held."""
        job.record = replace(
            job.record, state=state, error_code=error[0], error_message=error[1], analysis_id=analysis_id,
            note=note or job.record.note, finished_at=None if state == QUEUED else now(),
        )  # fmt: skip
        job.eta_seconds = None
        self._store.save_job(job.record)
        self._bump(job)
        log.info("job %s %s%s", job.record.id, state, f" ({error[0]})" if error[0] else "")
        if state != QUEUED:
            if self._in_flight.get(job.key) == job.record.id:
                del self._in_flight[job.key]
            self._retire(job)

    def _retire(self, job: _LiveJob) -> None:
        """Keep the newest finished jobs in memory; older ones are answered from the store."""
        self._finished.append(job.record.id)
        while len(self._finished) > RETAINED_FINISHED:
            self._jobs.pop(self._finished.popleft(), None)

    def _bump(self, job: _LiveJob) -> None:
        job.version += 1
        self._cond.notify_all()
