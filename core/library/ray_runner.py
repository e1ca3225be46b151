"""`reelmark index --cluster`: each file's analysis is a Ray task; the driver keeps the one store.

Why Ray: it schedules tasks by declared resources over many machines (one CPU per signals file, one GPU per vlm
file), retries a task whose worker process or node died, and its client (`ray://HOST:PORT`) lets a laptop drive
a cluster. The task is `analyse.analyse_file`, the same function a local run calls, and it returns the analysis
as JSON; the driver writes each result to the store as it arrives (`index.run_index`), so results are the same
as a local run's, moment ids included, and a driver killed mid-run loses only the files in flight.

A task whose worker dies is retried `MAX_RETRIES` times by Ray, then reported as that file's failure; an error
the analysis raises (a truncated file) is not retried, since the same bytes fail the same way.

Paths: workers open the file at the path the driver found it at, unless `path_map` rewrites the start of it
(`--map-path /Volumes/footage=/mnt/footage`), for nodes that mount the library elsewhere.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from reelmark.core.errors import InvalidRequestError, ReelmarkError
from reelmark.core.library.analyse import IndexConfig, analyse_file
from reelmark.core.library.index import Outcome, Runner, WorkItem

log = logging.getLogger("reelmark.library")
MAX_RETRIES = 2
CONNECT_TIMEOUT_S = 5.0
CLIENT_START_ATTEMPTS = 3
LOCAL_START_ATTEMPTS = 2
LOCAL_NODE_TIMEOUT = "timed out during startup"
"""How Ray words a local node whose raylet did not register in time."""
RETRY_PAUSE_S = 2.0


def check_address(address: str) -> str:
    """`auto`, `ray://HOST:PORT` (a head's client server) or `HOST:PORT` (a head's GCS, from a cluster node) whose
    port answers; anything else is refused with what to write."""
    if address == "auto":
        return address
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    if parts.scheme not in ("ray", "gcs") or not parts.hostname or not parts.port:
        raise InvalidRequestError(f"--cluster {address!r}: write auto, ray://HOST:PORT (the head's client port, "
                                  "10001 unless set with `ray start --ray-client-server-port`) or HOST:PORT (the "
                                  "head's GCS port, from a machine in the cluster)")  # fmt: skip
    try:
        socket.create_connection((parts.hostname, parts.port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as error:
        raise InvalidRequestError(f"cannot reach the Ray cluster at {address} ({error.strerror or error}); start its "
                                  "head with `ray start --head`, or check the address") from None  # fmt: skip
    return address


def ray_runner(address: str, path_map: Mapping[str, str] | None = None) -> Runner:
    """A runner that analyses on the Ray cluster at `address` (checked now, before any file is scanned)."""
    if address.startswith("ray://") and "RAY_AUTH_MODE" not in os.environ and _has_ray_token():
        # A cluster started by Ray >= 2.59 wants its token, but Ray Client (2.60) sends it only in token mode, and
        # Ray reads the mode once, when it is imported: so here, before the import.
        os.environ["RAY_AUTH_MODE"] = "token"
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InvalidRequestError("--cluster needs Ray: pip install 'reelmark[cluster]'") from None
    checked = check_address(address)
    mapping = dict(path_map or {})

    def run(items: Sequence[WorkItem], config: IndexConfig) -> Iterator[Outcome]:
        yield from _run_on_ray(checked, items, config, mapping)

    return run


def _run_on_ray(address: str, items: Sequence[WorkItem], config: IndexConfig,
                path_map: Mapping[str, str]) -> Iterator[Outcome]:  # fmt: skip
    import ray
    from ray.exceptions import RayError, RayTaskError

    from reelmark.core.engines.registry import get_engine

    if not items:
        return
    needs_gpu = get_engine(config.engine).capabilities().needs_gpu
    started_here = not ray.is_initialized()
    if started_here:
        _connect(address)
    try:
        task = ray.remote(num_cpus=1, num_gpus=1 if needs_gpu else 0, max_retries=MAX_RETRIES,
                          retry_exceptions=False)(analyse_file)  # fmt: skip
        pending = {task.remote(map_path(str(item.files[0].path), path_map), config): item for item in items}
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(ready[0])
            try:
                yield item, ray.get(ready[0]), None
            except RayTaskError as error:  # the analysis raised: the same bytes would fail again
                cause = error.cause
                yield item, None, str(cause) if isinstance(cause, ReelmarkError) else f"{type(cause).__name__}: {cause}"
            except RayError as error:
                yield item, None, (f"the Ray worker analysing it died {MAX_RETRIES + 1} times "
                                   f"({type(error).__name__}); look at that node's logs, then index again")  # fmt: skip
    finally:
        if started_here:
            ray.shutdown()


def _connect(address: str) -> None:
    import ray

    options = {"logging_level": "WARNING", "log_to_driver": False}
    if address != "auto":
        try:
            _init_retrying_client_start(address, options)
        except (ConnectionError, RuntimeError) as error:
            raise InvalidRequestError(
                f"cannot connect to the Ray cluster at {address} ({str(error).splitlines()[0]}); check the address, "
                "that this machine's Ray and Python match the cluster's, and, where the cluster uses token "
                "authentication, that RAY_AUTH_MODE=token and its token (~/.ray/auth_token or RAY_AUTH_TOKEN) are set"
            ) from None  # fmt: skip
        return
    try:
        ray.init(address="auto", **options)
    except ConnectionError:  # no cluster on this machine: a local one, for this run
        start_local_cluster(include_dashboard=False, **options)


def start_local_cluster(**options: object) -> None:
    """`ray.init(address="local", **options)`, tried once more when the new node does not come up: Ray gives its
    raylet 30 s to register (fixed in ray/_private/node.py), which ran out twice in one day's test runs on a busy
    2-core machine, with no raylet log at all, while the next start came up at once. A second failure is one line
    that says what to do."""
    try:
        _init_retrying("local", options, Exception, LOCAL_NODE_TIMEOUT, LOCAL_START_ATTEMPTS)
    except Exception as error:  # Ray raises a bare Exception for a node that did not start
        if LOCAL_NODE_TIMEOUT not in str(error):
            raise
        raise InvalidRequestError(
            "could not start a local Ray cluster: its node did not come up within Ray's 30 s (a busy machine?); "
            "index again, or without --cluster"
        ) from None


def _init_retrying_client_start(address: str, options: dict[str, object]) -> None:
    """`ray.init(address)`, tried again `CLIENT_START_ATTEMPTS` times when Ray Client's head could not start this
    driver's server: on a loaded head (2 busy cores here) that start sometimes fails ("Initialization failure from
    server" in 3 of 7 test runs without this retry; 3 of 3 passed with it)."""
    _init_retrying(address, options, ConnectionError, "Initialization failure", CLIENT_START_ATTEMPTS)


def _init_retrying(
    address: str, options: Mapping[str, object], failure: type[Exception], marker: str, attempts: int
) -> None:
    """`ray.init(address, **options)`, tried up to `attempts` times while it raises `failure` with `marker` in its
    message (a start that a busy machine let time out); anything else, or the last failure, is raised."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(address=address, **options)
            return
        except failure as error:
            if attempt == attempts or marker not in str(error):
                raise
            ray.shutdown()
            log.info("Ray did not start (%s); trying again", error)
            time.sleep(RETRY_PAUSE_S)


def _has_ray_token() -> bool:
    """Whether this machine holds a Ray token: $RAY_AUTH_TOKEN, $RAY_AUTH_TOKEN_PATH, or Ray's default file."""
    return bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                or (Path.home() / ".ray" / "auth_token").is_file())  # fmt: skip


def map_path(path: str, path_map: Mapping[str, str]) -> str:
    """`path` with the longest matching prefix of `path_map` replaced (folder boundaries only)."""
    for local in sorted(path_map, key=len, reverse=True):
        if path == local or path.startswith(local.rstrip("/") + "/"):
            return path_map[local].rstrip("/") + path[len(local.rstrip("/")):]
    return path
