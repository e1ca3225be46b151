"""The attack review of issue #21, repeated against a real daemon on loopback: each test is one attack, bounded in
count and time, asserting the fixed behaviour.

Daemons here are in-process (real gRPC server and HTTP gateway on ephemeral 127.0.0.1 ports, a real SQLite store,
the real signals engine). Raw sockets are used where the attack is about HTTP framing, so nothing in between
fixes the request up. Every loop has a fixed count, and every socket a timeout, so a regression fails instead of
hanging.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import sqlite3
import struct
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
import pytest
from test_daemon_http import call
from test_daemon_security import roots
from test_daemon_support import GatedEngine, engine_factory, shots_request, start_daemon, tiny_clip

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.api.v1 import service_pb2_grpc
from reelmark.core.client import DaemonClient
from reelmark.core.daemon import gateway
from reelmark.core.daemon.errors import MAX_MESSAGE_CHARS, StatusError
from reelmark.core.daemon.security import MAX_PATH_BYTES, MAX_PATH_COMPONENTS
from reelmark.core.daemon.service import MAX_WAITING_CALLS
from reelmark.core.engines import AnalysisRequest
from reelmark.core.tasks import Task

__all__ = ["roots", "start_daemon", "tiny_clip"]  # fixtures, imported for pytest

SERVICE = "/reelmark.v1.Reelmark"
LOCAL_TOKEN = "local-token-0123456789abcdefghij"
TOKEN = "test-token-0123456789abcdef"
SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-not-a-real-key"
SOCKET_TIMEOUT_S = 20.0
"""No single read in these tests waits longer; a daemon that holds a connection open fails the test."""


def raw_exchange(address: str, request: bytes) -> bytes:
    """Send bytes as they are, half-close, and read the whole answer until the daemon closes the connection."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=SOCKET_TIMEOUT_S) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def status_line(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def local_daemon(start_daemon):
    """A daemon as `reelmark serve` starts it by default: loopback, no token, a local token, no listed origin."""
    return start_daemon(local_token=LOCAL_TOKEN)


# --- 1. Origin: null and other unlisted origins -------------------------------------------------------------------


def test_an_unlisted_origin_cannot_drive_the_daemon_without_the_local_token(local_daemon, tiny_clip: Path) -> None:
    """A sandboxed iframe or data: page sends `Origin: null`: it must not start, cancel, export or list jobs."""
    address = local_daemon.http_address
    with DaemonClient(local_daemon.address) as client:
        job = client.start(shots_request(tiny_clip))
        list(client.watch(job.id))
    spec = {"mediaPath": str(tiny_clip), "tasks": ["shots", "highlights"]}
    for origin in ("null", "https://evil.example"):
        for method, body in (("StartAnalysis", {"spec": spec}), ("CancelJob", {"jobId": job.id}),
                             ("Export", {"analysisId": job.analysis_id or "a", "format": "json"}), ("ListJobs", {})):  # fmt: skip
            status, _, answer = call(address, f"{SERVICE}/{method}", body, {"Origin": origin})
            assert status == 401, (origin, method, answer)
            assert b"local token" in answer and str(tiny_clip).encode() not in answer
            wrong = {"Origin": origin, "Authorization": "Bearer not-the-local-token-000000"}
            assert call(address, f"{SERVICE}/{method}", body, wrong)[0] == 401
    with DaemonClient(local_daemon.address) as client:
        assert [listed.id for listed in client.jobs()] == [job.id], "no refused call started a job"

    status, headers, answer = call(address, f"{SERVICE}/ListJobs", {},
                                        {"Origin": "null", "Authorization": f"Bearer {LOCAL_TOKEN}"})  # fmt: skip
    assert status == 200 and headers["access-control-allow-origin"] == "null"
    assert [listed["id"] for listed in json.loads(answer)["jobs"]] == [job.id]


def test_private_network_preflights_are_granted_only_to_listed_origins(start_daemon) -> None:
    daemon = start_daemon(local_token=LOCAL_TOKEN, cors_origins=("https://app.example",))
    asking = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true"}
    for origin in ("null", "https://evil.example"):
        status, headers, _ = call(daemon.http_address, f"{SERVICE}/ListJobs", method="OPTIONS", headers={"Origin": origin, **asking})
        assert status == 403 and "access-control-allow-private-network" not in headers, origin
        assert "access-control-allow-origin" not in headers
    status, headers, _ = call(daemon.http_address, f"{SERVICE}/ListJobs", method="OPTIONS",
                                   headers={"Origin": "https://app.example", **asking})  # fmt: skip
    assert status == 204 and headers["access-control-allow-private-network"] == "true"
    assert headers["access-control-allow-origin"] == "https://app.example"


def test_null_is_never_allowed_by_default(start_daemon) -> None:
    """Without a local token (an embedded daemon) and without listing 'null', a null origin gets nothing at all."""
    daemon = start_daemon()
    status, headers, _ = call(daemon.http_address, f"{SERVICE}/StartAnalysis", method="OPTIONS",
                                   headers={"Origin": "null", "Access-Control-Request-Method": "POST"})  # fmt: skip
    assert status == 403 and "access-control-allow-origin" not in headers
    status, _, answer = call(daemon.http_address, f"{SERVICE}/ListJobs", {}, {"Origin": "null"})
    assert status == 403 and b"--cors-origin" in answer


def test_a_wildcard_origin_is_refused_at_start(start_daemon) -> None:
    from reelmark.core.daemon.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="list exact origins"):
        start_daemon(cors_origins=("*",))


# --- 2. sidecar subtitles that lead elsewhere ---------------------------------------------------------------------


@pytest.fixture
def linked_sidecar(roots: dict[str, Path]) -> dict[str, Path]:
    """The media root of test_daemon_security, its clip's .srt a link to a secret outside the root, formatted so
    an SRT parser would quote it."""
    secret = roots["outside"].with_name("credentials.txt")
    secret.write_text(f"alice:x:1000:1000::/home/alice:/bin/sh\n{SECRET}\n", encoding="utf-8")
    (roots["root"] / "clip.srt").symlink_to(secret)
    return {"root": roots["root"], "clip": roots["inside"], "secret": secret}


@pytest.mark.parametrize("mode", ["token and roots", "loopback"])
def test_a_sidecar_linking_outside_is_skipped_and_never_quoted(start_daemon, linked_sidecar: dict[str, Path], mode: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level(logging.INFO, logger="reelmark")
    settings: dict[str, Any] = {"local_token": LOCAL_TOKEN}
    if mode == "token and roots":
        settings = {"address": "127.0.0.2:0", "http_address": None, "token": TOKEN, "media_roots": (linked_sidecar["root"],)}
    daemon = start_daemon(**settings)
    with DaemonClient(daemon.address, token=TOKEN if "token" in mode else "") as client:
        job = client.start(AnalysisRequest(linked_sidecar["clip"], (Task.TRANSCRIPT,), queries=("hello",)))
        final = list(client.watch(job.id))[-1]
        listed = client.jobs()
    assert final.job.state == api.JOB_STATE_SUCCEEDED, final.job.error
    everything = str(final) + "".join(str(job) for job in listed)
    for leaked in (SECRET, "alice:x", "wJalrXUtnFEMI"):
        assert leaked not in everything
    assert any("skipped a sidecar" in record.getMessage() and record.levelno == logging.WARNING for record in caplog.records)
    assert not any(str(linked_sidecar["secret"]) in record.getMessage() for record in caplog.records if record.levelno > logging.DEBUG)


def test_a_malformed_sidecar_fails_the_job_without_quoting_it(start_daemon, tmp_path: Path, tiny_clip: Path) -> None:
    clip = tmp_path / "talk.mp4"
    clip.write_bytes(tiny_clip.read_bytes())
    (tmp_path / "talk.srt").write_text(f"alice:x:1000:1000::/home/alice:/bin/sh\n{SECRET}\n", encoding="utf-8")
    daemon = start_daemon()
    with DaemonClient(daemon.address) as client:
        job = client.start(AnalysisRequest(clip, (Task.TRANSCRIPT,), queries=("hello",)))
        with pytest.raises(StatusError) as failed:
            list(client.watch(job.id))
        listed = client.jobs()
    assert failed.value.status == "INVALID_ARGUMENT" and "not valid SRT" in str(failed.value)
    assert SECRET not in str(failed.value) and all(SECRET not in job.error.message for job in listed)


# --- 3. HTTP framing ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("length", "status"), [("-1", 400), ("abc", 400), ("1e3", 400), ("2, 2", 400), (None, 411)])
def test_a_bad_content_length_is_refused_at_once(local_daemon, length: str | None, status: int,
                                                 caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    """`Content-Length: -1` used to read to EOF (memory grew with what the client sent); now the daemon answers
    before reading any body, and a bounded amount the client sends after is never waited for."""
    caplog.set_level(logging.DEBUG, logger="reelmark")
    framing = b"" if length is None else f"Content-Length: {length}\r\n".encode()
    request = (f"POST {SERVICE}/ListJobs HTTP/1.1\r\nHost: {local_daemon.http_address}\r\n"
               "Content-Type: application/json\r\n").encode() + framing + b"\r\n" + b"{}" + b" " * 65536  # fmt: skip
    answer = raw_exchange(local_daemon.http_address, request)
    assert status_line(answer) == status, answer[:200]
    assert b"Content-Length" in answer.split(b"\r\n\r\n", 1)[1]
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_transfer_encoding_is_refused(local_daemon) -> None:
    request = (f"POST {SERVICE}/ListJobs HTTP/1.1\r\nHost: {local_daemon.http_address}\r\nContent-Type: application/json\r\n"
               "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n").encode()  # fmt: skip
    answer = raw_exchange(local_daemon.http_address, request)
    assert status_line(answer) == 400 and b"Transfer-Encoding" in answer


# --- 4 and 10. long paths, NUL bytes ------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["900 KB of components", "over the byte limit", "too many folders", "a NUL byte"])
def test_hostile_paths_are_invalid_argument_before_any_work(local_daemon, shape: str) -> None:
    path = {
        "900 KB of components": "/a" * 450_000,
        "over the byte limit": "/" + "x" * (MAX_PATH_BYTES + 1),
        "too many folders": "/d" * (MAX_PATH_COMPONENTS + 1) + ".mp4",
        "a NUL byte": "/tmp/clip\x00.mp4",
    }[shape]
    spec = api.StartAnalysisRequest(spec=api.AnalysisSpec(media_path=path, tasks=["shots"]))
    with grpc.insecure_channel(local_daemon.address) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            service_pb2_grpc.ReelmarkStub(channel).StartAnalysis(spec, timeout=SOCKET_TIMEOUT_S)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert len(refused.value.details()) <= MAX_MESSAGE_CHARS
    status, _, answer = call(local_daemon.http_address, f"{SERVICE}/StartAnalysis", {"spec": {"mediaPath": path}})
    assert status == 400 and json.loads(answer)["code"] == "invalid_argument"


def test_four_long_paths_at_once_are_all_answered(local_daemon) -> None:
    """The review's 4 concurrent 900 KB paths went unanswered after 120 s; each now gets its answer."""
    spec = api.StartAnalysisRequest(spec=api.AnalysisSpec(media_path="/a" * 450_000, tasks=["shots"]))

    def attack(_: int) -> grpc.StatusCode:
        with grpc.insecure_channel(local_daemon.address) as channel:
            try:
                service_pb2_grpc.ReelmarkStub(channel).StartAnalysis(spec, timeout=60)
            except grpc.RpcError as error:
                return error.code()
        return grpc.StatusCode.OK

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(attack, range(4))) == [grpc.StatusCode.INVALID_ARGUMENT] * 4


# --- 5. watch streams and the gRPC pool ---------------------------------------------------------------------------


def test_watch_streams_cannot_exhaust_the_rpc_pool(start_daemon, tiny_clip: Path) -> None:
    gated = GatedEngine()
    daemon = start_daemon(engines=engine_factory(gated))
    channels = [grpc.insecure_channel(daemon.address) for _ in range(32)]
    streams: list[Any] = []
    try:
        with DaemonClient(daemon.address) as client:
            job = client.start(shots_request(tiny_clip))
            assert gated.held.wait(60), "the job reached the engine"
            refused = 0
            for channel in channels:  # the review's 32 streams
                stream = service_pb2_grpc.ReelmarkStub(channel).WatchJob(api.WatchJobRequest(job_id=job.id), timeout=60)
                try:
                    next(stream)
                    streams.append(stream)
                except grpc.RpcError as error:
                    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and "GetJob" in error.details()
                    refused += 1
            assert len(streams) == MAX_WAITING_CALLS and refused == 32 - MAX_WAITING_CALLS
            # Other calls still get a thread, and quickly: a deadline far shorter than the streams'.
            for _ in range(20):
                assert [listed.id for listed in client.jobs()] == [job.id]
            status, _, body = call(daemon.http_address, f"{SERVICE}/WatchJob", {"jobId": job.id})
            assert status == 429 and json.loads(body)["code"] == "resource_exhausted"
            for stream in streams:
                stream.cancel()
            streams.clear()
            gated.release.set()
            assert watch_once_slots_return(client, job.id).job.state == api.JOB_STATE_SUCCEEDED
    finally:
        gated.release.set()
        for stream in streams:
            stream.cancel()
        for channel in channels:
            channel.close()


def watch_once_slots_return(client: DaemonClient, job_id: str) -> api.JobEvent:
    """The last event of a watch, once the cancelled watchers' slots are back (each notices within a poll)."""
    for _ in range(100):
        try:
            return list(client.watch(job_id))[-1]
        except StatusError as error:
            if error.status != "RESOURCE_EXHAUSTED":
                raise
            threading.Event().wait(0.1)
    raise AssertionError("the cancelled watchers' slots never came back")


# --- 6. slowloris -------------------------------------------------------------------------------------------------


def closed_by_peer(connection: socket.socket) -> bool:
    """Whether the daemon has closed this connection (waits at most the socket's timeout)."""
    try:
        return connection.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def test_slow_half_sent_requests_are_capped_and_dropped(local_daemon, monkeypatch: pytest.MonkeyPatch) -> None:
    """The review's 1,000 one-byte-a-second connections made 1,046 threads; here 40 more than the cap."""
    monkeypatch.setattr(gateway, "HEADER_TIMEOUT_S", 1.0)
    host, port = local_daemon.http_address.rsplit(":", 1)
    before = threading.active_count()
    connections: list[socket.socket] = []
    try:
        for _ in range(gateway.MAX_CONNECTIONS + 40):
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall(b"P")
            connections.append(connection)
        peak = threading.active_count()
        assert peak <= before + gateway.MAX_CONNECTIONS, f"{peak - before} threads for {len(connections)} connections"
        assert all(closed_by_peer(connection) for connection in connections), "every half-sent request is dropped"
    finally:
        for connection in connections:
            connection.close()
    status, _, _ = call(local_daemon.http_address, f"{SERVICE}/ListEngines", {})
    assert status == 200, "the gateway serves again once the attackers are gone"


def test_a_request_trickled_a_byte_at_a_time_is_dropped_at_the_header_deadline(local_daemon,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setattr(gateway, "HEADER_TIMEOUT_S", 1.0)
    host, port = local_daemon.http_address.rsplit(":", 1)
    request = f"POST {SERVICE}/ListJobs HTTP/1.1\r\nHost: {local_daemon.http_address}\r\nX-Padding: ".encode() + b"a" * 200
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        dropped = False
        for byte in request[:60]:  # at most 60 × 0.25 s, far past the 1 s deadline
            try:
                connection.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                dropped = True
                break
            readable, _, _ = select.select([connection], [], [], 0.25)
            if readable and closed_by_peer(connection):
                dropped = True
                break
    assert dropped, "the daemon kept a request that never finished its headers"


# --- 7. cached requests -------------------------------------------------------------------------------------------


def test_repeating_a_cached_request_adds_no_job_rows(local_daemon, tiny_clip: Path) -> None:
    """The review added 2,371 rows in 3 s; 200 repeats now add one cached job, answered again each time."""
    with DaemonClient(local_daemon.address) as client:
        first = client.start(shots_request(tiny_clip))
        list(client.watch(first.id))
        repeats = [client.start(shots_request(tiny_clip)) for _ in range(200)]
        listed = client.jobs(limit=1000)
    assert all(repeat.cached and repeat.state == api.JOB_STATE_SUCCEEDED for repeat in repeats)
    assert len({repeat.id for repeat in repeats}) == 1 and repeats[0].id != first.id
    assert len(listed) == 2


# --- 8. paths and tracebacks in logs ------------------------------------------------------------------------------


def test_clients_that_hang_up_leave_no_path_or_traceback_in_the_log(local_daemon, caplog: pytest.LogCaptureFixture,
                                                                   capfd: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="reelmark")
    private = "/home/alice/Private/" + "holiday-" * 40 + ".mp4"
    host, port = local_daemon.http_address.rsplit(":", 1)
    body = json.dumps({"spec": {"mediaPath": private}}).encode()
    for framing in (f"Content-Length: {len(body)}", "Content-Length: abc", "Content-Length: -1"):
        for _ in range(4):
            connection = socket.create_connection((host, int(port)), timeout=10)
            connection.sendall((f"POST {SERVICE}/StartAnalysis HTTP/1.1\r\nHost: {local_daemon.http_address}\r\n"
                                f"Content-Type: application/json\r\n{framing}\r\n\r\n").encode() + body)  # fmt: skip
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()  # a reset, before reading the answer
    # The handlers run on their own threads: a full exchange on a fresh connection comes after them in the
    # accept queue, and a server-side error is provoked directly as well.
    assert call(local_daemon.http_address, f"{SERVICE}/ListEngines", {})[0] == 200
    try:
        raise BrokenPipeError(f"[Errno 32] Broken pipe while answering about {private}")
    except BrokenPipeError:
        local_daemon._http.handle_error(None, ("127.0.0.1", 1))
    try:
        raise ValueError(f"unexpected trouble with {private}")
    except ValueError:
        local_daemon._http.handle_error(None, ("127.0.0.1", 1))
    captured = capfd.readouterr()
    assert private not in captured.err and "Traceback" not in captured.err
    above_debug = [record for record in caplog.records if record.levelno > logging.DEBUG]
    assert not any(private in record.getMessage() or record.exc_info for record in above_debug)
    assert any("ValueError" in record.getMessage() for record in above_debug), "a real failure is still reported"


# --- 9. a corrupt store -------------------------------------------------------------------------------------------


def fill_and_corrupt(path: Path) -> None:
    """A store with a few hundred jobs whose tables' root pages are given an invalid header."""
    from reelmark.core.store import JobRecord, Store

    store = Store(path)
    for index in range(600):
        store.add_job(JobRecord(id=f"j-{index:06d}", engine="signals", spec_json='{"mediaPath": "/x"}', state="succeeded"))
    store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    corrupt_pages(path)


def corrupt_pages(path: Path) -> None:
    """Give the root pages of the jobs and analyses tables and their indexes an invalid b-tree header; the schema's
    own pages stay readable, so other connections still open the file (as when a disk damages a data page)."""
    with sqlite3.connect(path) as db:
        roots = [page for (page,) in db.execute(
            "SELECT rootpage FROM sqlite_schema WHERE tbl_name IN ('jobs', 'analyses') AND rootpage > 0")]  # fmt: skip
    with path.open("r+b") as handle:
        for page in roots:  # SQLite numbers pages from 1
            handle.seek((page - 1) * PAGE_SIZE)
            handle.write(b"\xff" * 8)


PAGE_SIZE = 4096


def test_a_corrupt_store_is_refused_at_start(start_daemon, tmp_path: Path) -> None:
    from reelmark.core.store import StoreCorruptError

    fill_and_corrupt(tmp_path / "store.sqlite3")
    with pytest.raises(StoreCorruptError, match="the store is corrupt: .* move it aside"):
        start_daemon()


def test_a_page_damaged_while_serving_answers_data_loss_with_what_to_do(local_daemon) -> None:
    path = local_daemon.store.path
    with DaemonClient(local_daemon.address) as client:
        assert client.jobs() == []
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        corrupt_pages(path)
        with sqlite3.connect(path) as other:  # a commit elsewhere makes the daemon re-read pages from the file
            other.execute("CREATE TABLE poke (x INTEGER)")
        with pytest.raises(StatusError) as failed:
            client.jobs()
    assert failed.value.status == "DATA_LOSS" and "store is corrupt" in str(failed.value) and "move" in str(failed.value)
    status, _, body = call(local_daemon.http_address, f"{SERVICE}/ListJobs", {})
    assert status == 500 and json.loads(body)["code"] == "data_loss"
