"""Talk to a reelmark daemon from Python: the client library, `analyze_via_daemon`, and a daemon subprocess.

    with DaemonClient("127.0.0.1:7330") as client:
        analysis_id, analysis = client.analyze(AnalysisRequest(Path("match.mp4"), (Task.SHOTS,)), progress=print)
        Path("match.otio").write_bytes(client.export(analysis_id, "otio").content)

Errors come back as `StatusError` (a `ReelmarkError`) carrying the daemon's status code name and message, so
callers handle them like any other reelmark error. The token defaults to `$REELMARK_TOKEN`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import grpc

from reelmark.core.api.convert import analysis_from_wire, spec_from_request
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.api.v1 import service_pb2_grpc
from reelmark.core.daemon.errors import StatusError
from reelmark.core.daemon.security import LOCAL_TOKEN_ENV, TOKEN_ENV
from reelmark.core.engines.base import AnalysisRequest, ProgressCallback
from reelmark.core.results import Analysis

log = logging.getLogger("reelmark.client")

MAX_RESPONSE_BYTES = 64 << 20
DAEMON_START_TIMEOUT_S = 60.0
Reply = TypeVar("Reply")


def status_error(error: grpc.RpcError) -> StatusError:
    """The daemon's answer as a reelmark error; an unreachable daemon gets a hint on how to start one."""
    code = error.code()  # type: ignore[attr-defined]
    message = error.details() or code.name  # type: ignore[attr-defined]
    if code == grpc.StatusCode.UNAVAILABLE:
        message = f"cannot reach the reelmark daemon ({message}); start one with `reelmark serve` or check --daemon"
    return StatusError(code.name, message)


class DaemonClient:
    """A connection to one daemon; cheap to keep, safe to share between threads."""

    def __init__(self, address: str, token: str | None = None):
        token = token if token is not None else os.environ.get(TOKEN_ENV)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._address = address
        self._channel = grpc.insecure_channel(address, options=[("grpc.max_receive_message_length", MAX_RESPONSE_BYTES)])
        self._stub = service_pb2_grpc.ReelmarkStub(self._channel)

    def __enter__(self) -> DaemonClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: Callable[..., Reply], request: Any, timeout: float | None = None) -> Reply:
        started = time.perf_counter()
        try:
            reply = method(request, metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as error:
            log.debug("daemon %s: %s failed after %.1f ms (%s)", self._address, type(request).__name__,
                      (time.perf_counter() - started) * 1000, error.code().name)  # type: ignore[attr-defined]
            raise status_error(error) from None
        log.debug("daemon %s: %s answered in %.1f ms", self._address, type(request).__name__,
                  (time.perf_counter() - started) * 1000)  # fmt: skip
        return reply

    def engines(self) -> list[api.EngineInfo]:
        return list(self._call(self._stub.ListEngines, api.ListEnginesRequest()).engines)

    def start(self, request: AnalysisRequest, engine: str = "signals", force: bool = False) -> api.Job:
        """Queue an analysis; the job comes back at once (already succeeded when the store had the result)."""
        return self._call(self._stub.StartAnalysis, api.StartAnalysisRequest(spec=spec_from_request(request, engine),
                                                                             force=force))  # fmt: skip

    def watch(self, job_id: str, timeout: float | None = None) -> Iterator[api.JobEvent]:
        """The job's events until it ends; a job that fails or is cancelled raises its status at the end."""
        log.debug("daemon %s: watching job %s", self._address, job_id)
        try:
            yield from self._stub.WatchJob(api.WatchJobRequest(job_id=job_id), metadata=self._metadata, timeout=timeout)
        except grpc.RpcError as error:
            raise status_error(error) from None

    def analyze(self, request: AnalysisRequest, engine: str = "signals", progress: ProgressCallback | None = None,
                force: bool = False) -> tuple[str, Analysis]:  # fmt: skip
        """Start, follow the watch stream (feeding `progress(stage, fraction)`), and return the stored result's
        id (for `export` and `ground`) with the analysis."""
        job = self.start(request, engine, force)
        for event in self.watch(job.id):
            if progress is not None:
                progress(event.job.stage or api.JobState.Name(event.job.state).removeprefix("JOB_STATE_").lower(),
                         event.job.fraction)  # fmt: skip
            if event.HasField("analysis"):
                return event.job.analysis_id, analysis_from_wire(event.analysis)
        raise StatusError("INTERNAL", f"the daemon ended job {job.id} without a result; see `reelmark jobs`")

    def job(self, job_id: str) -> api.Job:
        return self._call(self._stub.GetJob, api.GetJobRequest(job_id=job_id))

    def jobs(self, limit: int = 50, states: Sequence[int] = ()) -> list[api.Job]:
        return list(self._call(self._stub.ListJobs, api.ListJobsRequest(limit=limit, states=states)).jobs)

    def cancel(self, job_id: str) -> api.Job:
        return self._call(self._stub.CancelJob, api.CancelJobRequest(job_id=job_id))

    def analysis(self, analysis_id: str) -> Analysis:
        return analysis_from_wire(self._call(self._stub.GetAnalysis, api.GetAnalysisRequest(analysis_id=analysis_id)))

    def lookup(self, request: AnalysisRequest, engine: str = "signals", timeout: float | None = None) -> Analysis:
        """The stored analysis for this request, without running anything (NOT_FOUND when there is none)."""
        message = api.GetAnalysisRequest(spec=spec_from_request(request, engine))
        return analysis_from_wire(self._call(self._stub.GetAnalysis, message, timeout))

    def ground(self, analysis_id: str, queries: Sequence[str], timeout: float | None = None) -> Analysis:
        request = api.GroundRequest(analysis_id=analysis_id, queries=list(queries))
        return analysis_from_wire(self._call(self._stub.Ground, request, timeout).analysis)

    def export(self, analysis_id: str, fmt: str, timeline: str = "analysis") -> api.ExportResponse:
        return self._call(self._stub.Export, api.ExportRequest(analysis_id=analysis_id, format=fmt, timeline=timeline))


def analyze_via_daemon(address: str, request: AnalysisRequest, engine: str = "signals",
                       progress: ProgressCallback | None = None, token: str | None = None) -> Analysis:  # fmt: skip
    """`engine.analyze(request)`, done by the daemon at `address`: start, follow the progress, return the result."""
    with DaemonClient(address, token) as client:
        return client.analyze(request, engine, progress)[1]


@dataclass(frozen=True)
class DaemonProcess:
    """A daemon running as a child process, and where it listens."""

    process: subprocess.Popen[bytes]
    address: str
    http_address: str | None
    local_token_file: Path | None = None
    """The file holding the local token its JSON API wants from browser-like callers."""


@contextmanager
def start_daemon_subprocess(store: Path, args: Sequence[str] = (), env: dict[str, str] | None = None,
                            timeout: float = DAEMON_START_TIMEOUT_S,
                            log: int | IO[bytes] | None = None) -> Iterator[DaemonProcess]:  # fmt: skip
    """Run `python -m reelmark.core.cli serve` on free loopback ports with its own store, until the block ends
    (then SIGTERM, a graceful stop). `args` adds serve options (e.g. --address, --media-root); `log` is where
    its log lines go (a file, or subprocess.DEVNULL; default: this process's stderr). Its local token is kept
    beside the store unless `env` or this process names a file in $REELMARK_LOCAL_TOKEN_FILE."""
    environment = dict(os.environ if env is None else env)
    environment.setdefault(LOCAL_TOKEN_ENV, str(store.with_name(f"{store.name}.local-token")))
    with tempfile.TemporaryDirectory(prefix="reelmark-daemon-") as scratch:
        ready = Path(scratch) / "ready.json"
        command = [
            sys.executable, "-m", "reelmark.core.cli", "serve", "--store", str(store), "--ready-file", str(ready),
            "--address", "127.0.0.1:0", "--http-address", "127.0.0.1:0", *args,
        ]  # fmt: skip
        process = subprocess.Popen(command, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            info = _wait_until_ready(process, ready, timeout)
            yield DaemonProcess(process, info["address"], info["http_address"], Path(environment[LOCAL_TOKEN_ENV]))
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], ready: Path, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if process.poll() is not None:
            raise StatusError("UNAVAILABLE", f"the daemon exited with status {process.returncode} before it was ready; "
                              "its error is above")  # fmt: skip
        if time.monotonic() > deadline:
            raise StatusError("DEADLINE_EXCEEDED", f"the daemon was not ready within {timeout:g} s")
        time.sleep(0.05)
    return json.loads(ready.read_text(encoding="utf-8"))
