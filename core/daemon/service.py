"""The API's logic, free of any transport: gRPC and the HTTP JSON gateway both call these methods.

Each method takes the request message and a `CallContext` (deadline and liveness of the call) and returns the
response message, or raises a `ReelmarkError` whose `status` the transport puts on the wire. Authentication
happens in the transports, before a method is called; media paths are checked here, against the same guard.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from google.protobuf import json_format

from reelmark.core.api.convert import analysis_to_wire, engine_name, request_from_spec, timestamp
from reelmark.core.api.v1 import analysis_pb2 as wire
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.daemon.cache import Fingerprints
from reelmark.core.daemon.errors import DeadlineExceededError, NotFoundError, QueueFullError, StatusError
from reelmark.core.daemon.jobs import JobRequest, JobStatus, Scheduler
from reelmark.core.engines.base import request_key
from reelmark.core.daemon.security import Guard
from reelmark.core.errors import EngineUnavailableError, InvalidRequestError, ReelmarkError
from reelmark.core.results import Analysis
from reelmark.core.store import CANCELLED, FAILED, QUEUED, RUNNING, SUCCEEDED, Store

WATCH_POLL_S = 0.5
"""How often a waiting call re-checks that its caller is still there and its deadline not passed."""
DEFAULT_JOB_LIMIT = 50
WIRE_CACHE_SIZE = 32
MAX_WAITING_CALLS = 16
"""WatchJob streams and Ground calls each hold a transport thread while they wait; capped well below the gRPC
thread pool (grpc_server.RPC_THREADS) so that watchers can never leave other calls without a thread."""

STATE_TO_WIRE = {
    QUEUED: api.JOB_STATE_QUEUED, RUNNING: api.JOB_STATE_RUNNING, SUCCEEDED: api.JOB_STATE_SUCCEEDED,
    FAILED: api.JOB_STATE_FAILED, CANCELLED: api.JOB_STATE_CANCELLED,
}  # fmt: skip
STATE_FROM_WIRE = {value: key for key, value in STATE_TO_WIRE.items()}


class CallContext(Protocol):
    """What the logic needs to know about the call it serves (grpc.ServicerContext has both)."""

    def time_remaining(self) -> float | None: ...

    def is_active(self) -> bool: ...


def spec_to_json(spec: api.AnalysisSpec) -> str:
    return json_format.MessageToJson(spec, indent=None)


def spec_from_json(text: str) -> api.AnalysisSpec:
    return json_format.Parse(text, api.AnalysisSpec())


def job_from_spec(spec: api.AnalysisSpec) -> JobRequest:
    """The scheduler's picklable job for a checked spec (its media path already resolved and allowed): the wire
    type stops here."""
    return JobRequest(engine_name(spec), request_from_spec(spec, Path(spec.media_path)), spec_to_json(spec))


def stored_job(spec_json: str) -> JobRequest:
    """A job the store kept (`JobRecord.spec_json`), for the scheduler to re-queue after a restart."""
    return job_from_spec(spec_from_json(spec_json))


def job_to_wire(status: JobStatus) -> api.Job:
    record = status.record
    job = api.Job(
        id=record.id, state=STATE_TO_WIRE[record.state], spec=spec_from_json(record.spec_json),
        fraction=status.fraction, stage=status.stage, analysis_id=record.analysis_id,
        created_at=timestamp(record.created_at), attempts=record.attempts, cached=record.cached, note=record.note,
    )  # fmt: skip
    if status.eta_seconds is not None:
        job.eta_seconds = status.eta_seconds
    if record.error_code:
        job.error.CopyFrom(api.JobError(code=record.error_code, message=record.error_message))
    if record.started_at is not None:
        job.started_at.CopyFrom(timestamp(record.started_at))
    if record.finished_at is not None:
        job.finished_at.CopyFrom(timestamp(record.finished_at))
    return job


class ReelmarkService:
    def __init__(self, scheduler: Scheduler, store: Store, guard: Guard, engine_names: Sequence[str]):
        self._scheduler = scheduler
        self._store = store
        self._guard = guard
        self._engine_names = tuple(engine_names)
        self._fingerprints = Fingerprints()
        self._wire_cache: OrderedDict[str, tuple[str, wire.Analysis]] = OrderedDict()
        self._wire_lock = threading.Lock()
        self._waiting_calls = threading.BoundedSemaphore(MAX_WAITING_CALLS)

    # --- engines ----------------------------------------------------------------------------------------------

    def ListEngines(self, request: api.ListEnginesRequest, context: CallContext) -> api.ListEnginesResponse:
        engines = []
        for name in self._engine_names:
            try:
                engine = self._scheduler.engine(name)
            except ReelmarkError as error:
                engines.append(api.EngineInfo(name=name, available=False, unavailable_reason=str(error)))
                continue
            capabilities = engine.capabilities()
            info = api.EngineInfo(
                name=name, version=engine.version, available=True,
                tasks=list(capabilities.tasks),
                default_tasks=list(capabilities.default_tasks),
                needs_gpu=capabilities.needs_gpu, device=capabilities.device, workers=self._scheduler.workers(name),
            )  # fmt: skip
            if capabilities.max_duration_s is not None:
                info.max_duration_s = capabilities.max_duration_s
            if capabilities.unavailable:
                info.available, info.unavailable_reason = False, capabilities.unavailable
            engines.append(info)
        return api.ListEnginesResponse(engines=engines)

    # --- jobs -------------------------------------------------------------------------------------------------

    def StartAnalysis(self, request: api.StartAnalysisRequest, context: CallContext) -> api.Job:
        return job_to_wire(self._start(self._checked(request.spec), request.force))

    def WatchJob(self, request: api.WatchJobRequest, context: CallContext) -> Iterator[api.JobEvent]:
        """Events until the job ends; a job that failed or was cancelled ends the stream with its status."""
        with self._waiting_slot("WatchJob"):
            status = self._scheduler.status(request.job_id)
            while not status.finished:
                yield api.JobEvent(job=job_to_wire(status))
                status = self._await_change(status, context)
            yield self._final_event(status)
        if status.record.state != SUCCEEDED:
            raise StatusError(status.record.error_code or "UNKNOWN", status.record.error_message)

    def GetJob(self, request: api.GetJobRequest, context: CallContext) -> api.Job:
        return job_to_wire(self._scheduler.status(request.job_id))

    def ListJobs(self, request: api.ListJobsRequest, context: CallContext) -> api.ListJobsResponse:
        unknown = [state for state in request.states if state not in STATE_FROM_WIRE]
        if unknown:
            raise InvalidRequestError(f"unknown job state(s) {unknown}; give QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED")
        states = tuple(STATE_FROM_WIRE[state] for state in request.states)
        jobs = self._scheduler.recent(request.limit or DEFAULT_JOB_LIMIT, states)
        return api.ListJobsResponse(jobs=[job_to_wire(status) for status in jobs])

    def CancelJob(self, request: api.CancelJobRequest, context: CallContext) -> api.Job:
        return job_to_wire(self._scheduler.cancel(request.job_id, "cancelled on request"))

    # --- analyses ---------------------------------------------------------------------------------------------

    def GetAnalysis(self, request: api.GetAnalysisRequest, context: CallContext) -> wire.Analysis:
        if request.WhichOneof("key") == "spec":
            job = self._checked(request.spec)
            key = self._key(job)
            if not self._store.has_analysis(key):
                raise NotFoundError(
                    "this media has not been analysed with these settings yet; start it with StartAnalysis "
                    "(reelmark analyze --daemon ADDR)"
                )
            return self._analysis(key)
        if not request.analysis_id:
            raise InvalidRequestError("GetAnalysis needs an analysis_id or a spec")
        return self._analysis(request.analysis_id)

    def Ground(self, request: api.GroundRequest, context: CallContext) -> api.GroundResponse:
        """Ground queries with the analysis's media, range and options; the call's deadline bounds the job."""
        if not request.queries:
            raise InvalidRequestError("Ground needs at least one query, e.g. 'person' or 'says: hello'")
        stored = self._store.get_analysis(request.analysis_id)
        if stored is None:
            raise NotFoundError(f"no analysis {request.analysis_id!r} in the store; analyse the clip first")
        spec = spec_from_json(stored.spec_json)
        del spec.tasks[:]
        spec.tasks.append("ground")
        del spec.queries[:]
        spec.queries.extend(request.queries)
        with self._waiting_slot("Ground"):
            status = self._start(self._checked(spec), force=False)
            while not status.finished:
                remaining = context.time_remaining()
                if (remaining is not None and remaining <= 0) or not context.is_active():
                    self._scheduler.cancel(status.record.id, "the Ground call's deadline passed before grounding finished")
                    raise DeadlineExceededError(
                        "grounding did not finish within the call's deadline and was cancelled; allow more time"
                    )
                status = self._await_change(status, context)
        if status.record.state != SUCCEEDED:
            raise StatusError(status.record.error_code, status.record.error_message)
        return api.GroundResponse(job_id=status.record.id, analysis=self._analysis(status.record.analysis_id))

    def Export(self, request: api.ExportRequest, context: CallContext) -> api.ExportResponse:
        try:
            from reelmark.bridge import writers
            from reelmark.bridge.formats import all_formats
        except ImportError:
            raise EngineUnavailableError(
                "this reelmark has no OTIO bridge yet, so it cannot export NLE formats; use GetAnalysis for JSON"
            ) from None
        if request.format not in all_formats():
            raise InvalidRequestError(f"unknown export format {request.format!r}; choose one of {', '.join(all_formats())}")
        stored = self._store.get_analysis(request.analysis_id)
        if stored is None:
            raise NotFoundError(f"no analysis {request.analysis_id!r} in the store; analyse the clip first")
        analysis = Analysis.from_json(stored.analysis_json)
        extension = all_formats()[request.format].extension
        return api.ExportResponse(
            format=request.format, extension=extension, content=writers.render(analysis, request.format, request.timeline or "analysis"),
            suggested_name=Path(analysis.media.path).stem + extension,
        )  # fmt: skip

    # --- helpers ----------------------------------------------------------------------------------------------

    def _checked(self, spec: api.AnalysisSpec) -> JobRequest:
        """The job `spec` asks for, with the path resolved and allowed, the engine named, and every field valid
        (unknown tasks and bad times raise here)."""
        checked = api.AnalysisSpec()
        checked.CopyFrom(spec)
        checked.media_path = str(self._guard.media_path(spec.media_path))
        checked.engine = engine_name(spec)
        return job_from_spec(checked)

    def _key(self, job: JobRequest) -> str:
        return request_key(job.request, self._scheduler.engine(job.engine), self._fingerprints(job.request.media))

    def _start(self, job: JobRequest, force: bool) -> JobStatus:
        """A cached job when the store has the result, else a queued one, or the one already producing it (after
        the engine's preflight and a quick look at the media, so a bad option, a missing model or GPU, or a missing
        or undecodable file is refused now rather than in the queue)."""
        from reelmark.core.media.probing import probe

        self._scheduler.engine(job.engine).preflight(job.request)
        key = self._key(job)
        if not force and self._store.has_analysis(key):
            # The same request again gets the cached job it got before, rather than a new row each time.
            earlier = self._store.cached_job(key, job.spec_json)
            return self._scheduler.status(earlier.id) if earlier is not None else self._scheduler.add_cached(job, key)
        probe(job.request.media)
        return self._scheduler.submit(job, key, force)

    @contextmanager
    def _waiting_slot(self, method: str) -> Iterator[None]:
        """Hold one of the `MAX_WAITING_CALLS` slots for a call that waits on a job, or refuse it at once."""
        if not self._waiting_calls.acquire(blocking=False):
            raise QueueFullError(
                f"{MAX_WAITING_CALLS} calls are already waiting on jobs, so this {method} is refused; poll the job "
                "with GetJob instead, or close other watchers"
            )
        try:
            yield
        finally:
            self._waiting_calls.release()

    def _await_change(self, status: JobStatus, context: CallContext) -> JobStatus:
        remaining = context.time_remaining()
        timeout = WATCH_POLL_S if remaining is None else max(0.0, min(WATCH_POLL_S, remaining))
        if not context.is_active():
            raise DeadlineExceededError("the caller went away or its deadline passed")
        return self._scheduler.wait(status.record.id, status.version, timeout)

    def _final_event(self, status: JobStatus) -> api.JobEvent:
        event = api.JobEvent(job=job_to_wire(status))
        if status.record.state == SUCCEEDED:
            event.analysis.CopyFrom(self._analysis(status.record.analysis_id))
        return event

    def _analysis(self, key: str) -> wire.Analysis:
        """A stored analysis as a message; the conversion is remembered while the stored text is unchanged."""
        stored = self._store.get_analysis(key)
        if stored is None:
            raise NotFoundError(f"no analysis {key!r} in the store; analyse the clip first")
        with self._wire_lock:
            cached = self._wire_cache.get(key)
            if cached is not None and cached[0] == stored.analysis_json:
                self._wire_cache.move_to_end(key)
                return cached[1]
        message = analysis_to_wire(Analysis.from_json(stored.analysis_json), key)
        with self._wire_lock:
            self._wire_cache[key] = (stored.analysis_json, message)
            while len(self._wire_cache) > WIRE_CACHE_SIZE:
                self._wire_cache.popitem(last=False)
        return message
