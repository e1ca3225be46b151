"""The daemon as a whole: store, job scheduler, service, gRPC server and HTTP gateway, started and stopped in order.

`serve` runs it until SIGTERM or SIGINT, then shuts down gracefully: health turns NOT_SERVING and new jobs are
refused at once (UNAVAILABLE), while job status is still answered; running jobs get the grace period to
finish, then are asked to stop and go back to the queue (the next start runs them); last, the transports close,
letting calls in flight end.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from reelmark.core.daemon.gateway import GatewayServer
from reelmark.core.daemon.grpc_server import GrpcServer
from reelmark.core.daemon.jobs import EngineFactory, Scheduler
from reelmark.core.daemon.ports import PortInUseError, check_port_free
from reelmark.core.daemon.security import DEFAULT_GRPC_ADDRESS, DEFAULT_HTTP_ADDRESS, make_guard, split_address
from reelmark.core.daemon.service import ReelmarkService, stored_job
from reelmark.core.engines import engine_names as registered_engines, get_engine
from reelmark.core.store import Store, default_store_path

log = logging.getLogger("reelmark.daemon")

RPC_STOP_GRACE_S = 2.0
"""How long calls still in flight (watch streams) get once the jobs have been settled."""


@dataclass(frozen=True)
class DaemonConfig:
    address: str = DEFAULT_GRPC_ADDRESS
    http_address: str | None = DEFAULT_HTTP_ADDRESS
    """None: no HTTP gateway."""
    store_path: Path = field(default_factory=default_store_path)
    token: str | None = None
    media_roots: tuple[Path, ...] = ()
    cors_origins: tuple[str, ...] = ()
    """Web origins that may call the JSON API without a credential, matched exactly ('null' only if listed)."""
    local_token: str | None = None
    """The per-install token browser-like callers must send when no `token` is set (security.py)."""
    cpu_workers: int = 2
    """Workers per CPU engine; a GPU engine always gets one."""
    max_queue: int = 16
    """Jobs waiting for a worker, across engines; one more is refused with RESOURCE_EXHAUSTED."""
    grace_s: float = 30.0


class Daemon:
    def __init__(self, config: DaemonConfig, engine_factory: EngineFactory = get_engine,
                 engine_names: Sequence[str] | None = None):  # fmt: skip
        self.config = config
        addresses = [config.address] + ([config.http_address] if config.http_address else [])
        self.guard = make_guard(addresses, config.token, config.media_roots, config.local_token)
        self.store = Store(config.store_path)
        self.scheduler = Scheduler(self.store, engine_factory, config.cpu_workers, config.max_queue)
        self.service = ReelmarkService(self.scheduler, self.store, self.guard, engine_names or registered_engines())
        self._grpc: GrpcServer | None = None
        self._http: GatewayServer | None = None
        self._stopped = False

    @property
    def address(self) -> str:
        """The gRPC address actually bound (port 0 in the config becomes the port the system chose)."""
        assert self._grpc is not None, "start the daemon first"
        return self._grpc.address

    @property
    def http_address(self) -> str | None:
        return None if self._http is None else self._http.address

    def start(self) -> Daemon:
        """Bind both ports (a taken one raises `PortInUseError`, one line naming the port and the flag), re-queue
        unfinished jobs, then serve."""
        try:
            check_port_free(self.config.address, "gRPC", "--address")
            if self.config.http_address:
                check_port_free(self.config.http_address, "JSON over HTTP", "--http-address")
            self._grpc = GrpcServer(self.service, self.guard, self.config.address)
            if self.config.http_address:
                host, port = split_address(self.config.http_address)
                self._http = GatewayServer(self.service, self.guard, host, port, self.config.cors_origins)
        except OSError as error:  # taken between the check and the bind
            self.store.close()
            raise PortInUseError(f"cannot start the daemon: {error}; choose other ports with --address and "
                                 "--http-address") from None  # fmt: skip
        except PortInUseError:
            self.store.close()
            raise
        self.scheduler.recover(stored_job)
        if self._http is not None:
            self._http.start()
        self._grpc.start()
        log.info("serving gRPC on %s%s; store schema v%d", self.address,
                 f", JSON on http://{self.http_address}" if self._http else "", self.store.schema_version)  # fmt: skip
        log.debug("store at %s", self.store.path)
        return self

    def stop(self, grace: float | None = None) -> bool:
        """Stop everything; returns whether every engine worker stopped (see `Scheduler.shutdown`)."""
        if self._stopped:
            return True
        self._stopped = True
        grace = self.config.grace_s if grace is None else grace
        log.info("shutting down: refusing new jobs, giving running ones %g s", grace)
        if self._grpc is not None:
            self._grpc.drain()
        settled = self.scheduler.shutdown(grace)  # both transports still answer status calls meanwhile
        if self._http is not None:
            self._http.stop()
        if self._grpc is not None:
            self._grpc.stop(RPC_STOP_GRACE_S)
        self.store.close()
        log.info("stopped" if settled else "stopped; an engine did not stop when asked, its job is re-queued at restart")
        return settled


SIGNAL_POLL_S = 0.5
"""How often the main thread wakes to run Python signal handlers: CPython runs them only in the main thread, and a
SIGTERM delivered to an RPC or worker-pool thread does not interrupt the main thread's wait."""


def write_ready_file(path: Path, daemon: Daemon) -> None:
    """Tell a parent process where the daemon listens: written whole, then renamed, so it is never half there."""
    partial = path.with_name(f".{path.name}.partial")
    info = {"address": daemon.address, "http_address": daemon.http_address, "pid": os.getpid()}
    partial.write_text(json.dumps(info), encoding="utf-8")
    partial.replace(path)


def serve(config: DaemonConfig, ready_file: Path | None = None) -> None:
    """Run a daemon until SIGTERM or SIGINT, then stop it gracefully."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda _signum, _frame: stop.set())
    daemon = Daemon(config).start()
    if ready_file is not None:
        write_ready_file(ready_file, daemon)
    while not stop.wait(SIGNAL_POLL_S):
        pass  # a signal the kernel hands to another thread wakes no untimed wait; the handler runs on the next tick
    if not daemon.stop():
        # A worker is still inside native engine code; finalising the interpreter under it can abort the
        # process. The store is closed and the job will be re-queued, so leave at once.
        logging.shutdown()
        os._exit(0)
