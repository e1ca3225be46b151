"""Engine work in worker processes, so that analyses never hold the daemon's GIL and a crash in native code (a
decoder on a hostile file, a model) costs one job instead of the daemon and every job in it.

Each slot of an engine's pool is one long-lived child process, spawned (never forked: the daemon's gRPC threads
must not be copied) and niced to the lowest priority, that builds its engine once and then runs one job at a time; a
GPU engine's single worker therefore keeps its model loaded between jobs. The daemon's thread for the slot sends
the job as a plain `AnalysisRequest`, relays progress, turns a cancel into the engine's cooperative flag (and
kills the process if the engine does not stop in time), and sees a dead process at once through its sentinel;
the next job gets a fresh process.

Engines the daemon cannot send to another process (test doubles built in place, holding threading events) run on
the slot's thread instead, through `ThreadRunner`, with the same interface.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, Protocol

from reelmark.core.daemon.errors import StatusError, log_unexpected
from reelmark.core.engines.base import AnalysisCancelled, AnalysisRequest, CancelCheck, Engine, ProgressCallback
from reelmark.core.errors import ReelmarkError
from reelmark.core.results import Analysis

log = logging.getLogger("reelmark.daemon.workers")

WORKER_NICENESS = 19
"""The lowest CPU priority: RPCs are answered first when the cores are busy, analyses get every spare cycle."""
IDLE_POLICY: int | None = getattr(os, "SCHED_IDLE", None)
"""Linux's idle scheduling class for workers, on top of nice 19: a waking RPC thread preempts a worker at once.
Measured with tests/bench/daemon.py (5 analyses running, 500 look-ups/s on 2 cores): p99 8.9, 17.0 and 15.8 ms at
nice 19 alone, 6.4 and 5.8 ms with it, the analyses as fast (47 s). The cost: on a machine whose every core is busy
with other work, analyses wait until a core is free."""
CANCEL_KILL_S = 5.0
"""How long an engine gets to reach its next cancellation check before its worker is killed."""
POLL_S = 0.1
"""How often the slot's thread looks at the job's cancel flag while it waits for the worker."""
STOP_WAIT_S = 2.0
PROGRESS_STEP = 0.005
"""Progress is sent to the daemon when the stage changes or the fraction moves at least this much."""

EngineFactory = Callable[[str], Engine]


class WorkerDiedError(ReelmarkError):
    """The worker process ended in the middle of a job (killed, or crashed in native code)."""

    status = "INTERNAL"


@dataclass(frozen=True)
class Finished:
    """A job's result as the store keeps it: the analysis as JSON text (made once, where the engine ran, and never
    parsed again in the daemon) and its media's fingerprint (for the analysis key)."""

    analysis_json: str
    fingerprint: str

    @classmethod
    def of(cls, analysis: Analysis) -> Finished:
        return cls(analysis.to_json(indent=None), analysis.media.fingerprint)


class Runner(Protocol):
    """Runs one job at a time for one slot of an engine's pool."""

    def run(self, request: AnalysisRequest, progress: ProgressCallback, cancelled: CancelCheck) -> Finished: ...

    def close(self) -> None: ...


def unexpected_failure(engine: str, error: BaseException) -> str:
    """What a job that hit an engine bug reports, wherever the engine ran."""
    return (f"the {engine} engine failed unexpectedly ({type(error).__name__}: {error}); "
            "please report it with the daemon's -v log")  # fmt: skip


def can_run_in_process(factory: EngineFactory) -> bool:
    """Whether `factory` can be sent to a spawned worker (an importable function such as `get_engine` can)."""
    try:
        pickle.dumps(factory)
    except Exception:  # pickle raises several unrelated types for objects it cannot send
        return False
    return True


class ThreadRunner:
    """The engine on the slot's own thread, inside the daemon's process."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def run(self, request: AnalysisRequest, progress: ProgressCallback, cancelled: CancelCheck) -> Finished:
        return Finished.of(self._engine.analyze(request, progress=progress, cancelled=cancelled))

    def close(self) -> None:
        """Nothing to stop: the slot's thread ends with the scheduler's queue."""


class ProcessWorker:
    """One long-lived worker process for engine `name`, started at its first job and again after it dies."""

    def __init__(self, factory: EngineFactory, name: str):
        self._factory = factory
        self.name = name
        self._context = multiprocessing.get_context("spawn")
        self._cancel = self._context.Event()
        self._process: Any = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (for tests and logs)."""
        return None if self._process is None or not self._process.is_alive() else self._process.pid

    def run(self, request: AnalysisRequest, progress: ProgressCallback, cancelled: CancelCheck) -> Finished:
        connection = self._started()
        self._cancel.clear()
        try:
            connection.send(request)
        except OSError:  # it died between jobs
            raise self._died() from None
        cancel_asked: float | None = None
        while True:
            ready = wait([connection, self._process.sentinel], timeout=POLL_S)
            if connection in ready or (ready and connection.poll()):
                try:
                    message = connection.recv()
                except EOFError:
                    raise self._died() from None
                if message[0] != "progress":
                    return _outcome(message)
                progress(message[1], message[2])
            elif ready:
                raise self._died()
            if cancel_asked is None and cancelled():
                cancel_asked = time.monotonic()
                self._cancel.set()
            elif cancel_asked is not None and time.monotonic() - cancel_asked > CANCEL_KILL_S:
                log.info("%s worker %d did not stop within %g s of a cancel; killing it", self.name, self._process.pid,
                         CANCEL_KILL_S)  # fmt: skip
                self._kill()
                raise AnalysisCancelled("cancelled (the engine did not stop in time, so its worker was stopped)")

    def close(self) -> None:
        """Ask an idle worker to exit; kill one that does not (it may be inside native code)."""
        if self._process is None or self._connection is None:
            return
        try:
            self._connection.send(None)
        except OSError:  # already gone
            pass
        self._process.join(STOP_WAIT_S)
        self._kill()

    def _started(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection is not None:
            return self._connection
        ours, theirs = self._context.Pipe()
        level = log.getEffectiveLevel()
        self._process = self._context.Process(
            target=_worker_main, args=(self._factory, self.name, theirs, self._cancel, level, os.getpid()),
            name=f"reelmark-{self.name}-worker", daemon=True,
        )  # fmt: skip
        self._process.start()
        theirs.close()
        self._connection = ours
        log.info("started %s worker process %d (nice +%d)", self.name, self._process.pid, WORKER_NICENESS)
        return ours

    def _died(self) -> WorkerDiedError:
        self._process.join(STOP_WAIT_S)
        code = self._process.exitcode
        how = (f"killed by {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exit status {code}")  # fmt: skip
        log.error("%s worker process %d died mid-job (%s); the next job starts a new one", self.name,
                  self._process.pid, how)  # fmt: skip
        self._forget()
        return WorkerDiedError(
            f"the {self.name} engine's worker process died during this job ({how}); the daemon and other jobs "
            "carried on. If this file makes it happen again, it may be damaged: check it with `reelmark probe`"
        )

    def _kill(self) -> None:
        if self._process is not None and self._process.is_alive():
            self._process.kill()
            self._process.join(STOP_WAIT_S)
        self._forget()

    def _forget(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._process, self._connection = None, None


def _outcome(message: tuple[Any, ...]) -> Finished:
    """The job's result, or its error raised as the type the scheduler expects."""
    kind = message[0]
    if kind == "done":
        return message[1]
    if kind == "cancelled":
        raise AnalysisCancelled(message[1])
    raise StatusError(message[1], message[2])


def _worker_main(factory: EngineFactory, name: str, connection: Connection, cancel: Any, log_level: int,
                 daemon_pid: int) -> None:  # fmt: skip
    """The worker process: build the engine once, then run the jobs it is sent until told to stop."""
    os.nice(WORKER_NICENESS)
    if IDLE_POLICY is not None:  # threads the engine starts later (decoders, ONNX) inherit both
        os.sched_setscheduler(0, IDLE_POLICY, os.sched_param(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the daemon decides for us
    logging.basicConfig(level=logging.WARNING, format=f"%(asctime)s %(levelname)s %(name)s[worker {os.getpid()}]: %(message)s")
    logging.getLogger("reelmark").setLevel(log_level)  # the daemon's level for reelmark, libraries stay quiet
    engine = factory(name)

    def cancelled() -> bool:
        return cancel.is_set() or os.getppid() != daemon_pid  # an orphan stops at the engine's next check

    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        try:
            connection.send(_analyse(engine, request, connection, cancelled))
        except (BrokenPipeError, ConnectionResetError):
            return


def _analyse(engine: Engine, request: AnalysisRequest, connection: Connection, cancelled: CancelCheck) -> tuple[Any, ...]:
    sent = {"stage": "", "fraction": -1.0}

    def progress(stage: str, fraction: float) -> None:
        if stage != sent["stage"] or fraction - sent["fraction"] >= PROGRESS_STEP or fraction >= 1.0:
            sent.update(stage=stage, fraction=fraction)
            connection.send(("progress", stage, fraction))

    try:
        return ("done", Finished.of(engine.analyze(request, progress=progress, cancelled=cancelled)))
    except AnalysisCancelled as error:
        return ("cancelled", str(error))
    except ReelmarkError as error:
        return ("failed", error.status, str(error))
    except Exception as error:  # an engine bug: the job fails, the worker lives on
        log_unexpected(log, f"a {engine.name} job")
        return ("failed", "INTERNAL", unexpected_failure(engine.name, error))
