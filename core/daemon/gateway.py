"""The HTTP JSON transport, for clients that cannot speak gRPC (the Premiere UXP panel's `fetch`).

A thin transcoding gateway on the standard library's threading HTTP server: `POST /reelmark.v1.Reelmark/<Method>`
with the request message in proto3 JSON calls the very same `ReelmarkService` method the gRPC server calls,
after the same authentication, and answers in proto3 JSON. Unary calls follow the Connect protocol's unary
conventions (path, JSON body, `connect-timeout-ms`, error body `{"code", "message"}` and its HTTP statuses);
`WatchJob` answers with one JSON event per line (NDJSON). `GET /v1/jobs/<id>` is the poll-friendly job status.
protos/README.md says why this is not a full Connect server.

Browser-facing defences, since any web page can aim a request at 127.0.0.1: without a token the Host header
must name this server (against DNS rebinding); a request carrying an `Origin` is served without a credential only
for origins listed exactly (`null` included only when listed), and otherwise needs the token, or with no token
the per-install local token (security.py); JSON bodies make every cross-origin call preflighted, and a Private
Network Access preflight (a public page asking for a private address) is granted only to listed origins.

Connection-level defences: a request's line and headers must arrive within `HEADER_TIMEOUT_S`, its body within
`BODY_TIMEOUT_S`; bodies need an exact Content-Length (no chunked encoding); at most `MAX_CONNECTIONS` are served
at once and more are closed at once; a failed connection is logged by its error type, never its content.
"""

from __future__ import annotations

import io
import json
import logging
import re
import select
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format, message_factory

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.daemon.errors import (
    ConfigurationError, NotFoundError, PermissionDeniedError, StatusError, log_unexpected, public_message,
)  # fmt: skip
from reelmark.core.daemon.grpc_server import MAX_REQUEST_BYTES, SERVICE
from reelmark.core.daemon.security import Guard
from reelmark.core.daemon.service import ReelmarkService
from reelmark.core.errors import InvalidRequestError, ReelmarkError

log = logging.getLogger("reelmark.daemon.http")

# The Connect protocol's HTTP status for each gRPC status.
HTTP_STATUS = {
    "CANCELLED": 499, "UNKNOWN": 500, "INVALID_ARGUMENT": 400, "DEADLINE_EXCEEDED": 504, "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409, "PERMISSION_DENIED": 403, "RESOURCE_EXHAUSTED": 429, "FAILED_PRECONDITION": 400,
    "ABORTED": 409, "OUT_OF_RANGE": 400, "UNIMPLEMENTED": 501, "INTERNAL": 500, "UNAVAILABLE": 503,
    "DATA_LOSS": 500, "UNAUTHENTICATED": 401,
}  # fmt: skip
ALLOWED_HEADERS = "authorization, content-type, connect-protocol-version, connect-timeout-ms"
PREFLIGHT_MAX_AGE_S = 600
JOB_PATH = "/v1/jobs/"
DRAIN_LIMIT_BYTES = 16 * MAX_REQUEST_BYTES
NULL_ORIGIN = "null"
HEADER_TIMEOUT_S = 10.0
"""A request line and headers must arrive within this (and an idle keep-alive connection is closed after it)."""
BODY_TIMEOUT_S = 30.0
WRITE_TIMEOUT_S = 30.0
"""A reader that takes no bytes for this long is dropped."""
LINGER_S = 1.0
LINGER_BYTES = 256 << 10
"""After refusing a request, the rest of what the client sends is read and dropped, this long and this much at
most, before closing: closing with unread input resets the connection, and the client could lose the answer."""
MAX_CONNECTIONS = 64
"""Connections served at once; the panel and a script need a handful."""
LISTEN_BACKLOG = 128
_WHOLE_NUMBER = re.compile(r"[0-9]{1,12}")


class LengthRequiredError(InvalidRequestError):
    """A body without a Content-Length: HTTP 411, so the client knows to send one."""

    http_status = HTTPStatus.LENGTH_REQUIRED


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side that gives up at a deadline, however slowly the bytes trickle in (slowloris):
    each receive waits at most for the time left."""

    def __init__(self, connection: socket.socket):
        self._connection = connection
        self.deadline = time.monotonic() + HEADER_TIMEOUT_S

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client took too long to send its request")
        self._connection.settimeout(remaining)
        try:
            return self._connection.recv_into(buffer)
        finally:
            self._connection.settimeout(WRITE_TIMEOUT_S)


class HttpCallContext:
    """A call's deadline, from Connect's `connect-timeout-ms` header, and whether its client is still connected."""

    def __init__(self, timeout_ms: str | None, connection: socket.socket):
        if timeout_ms is not None and not _WHOLE_NUMBER.fullmatch(timeout_ms):
            raise InvalidRequestError(f"connect-timeout-ms must be a whole number of milliseconds, got {timeout_ms[:20]!r}")
        self._deadline = None if timeout_ms is None else time.monotonic() + int(timeout_ms) / 1000
        self._connection = connection

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def is_active(self) -> bool:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            return False
        # A client that hung up makes its socket readable with nothing to read.
        if select.select([self._connection], [], [], 0)[0]:
            try:
                return self._connection.recv(1, socket.MSG_PEEK) != b""
            except OSError:
                return False
        return True


def to_json(message: Any) -> str:
    return json_format.MessageToJson(message, indent=None, always_print_fields_with_no_presence=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    # --- connection ---------------------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(WRITE_TIMEOUT_S)
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        self._reader.deadline = time.monotonic() + HEADER_TIMEOUT_S
        super().handle_one_request()

    def finish(self) -> None:
        if self.close_connection:
            try:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_WR)
                self._reader.deadline = time.monotonic() + LINGER_S
                drained = 0
                while drained < LINGER_BYTES and (chunk := self._reader.read(65536)):
                    drained += len(chunk)
            except OSError:  # reset, timed out: the connection is done either way
                pass
        super().finish()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self.headers.get("Transfer-Encoding") is not None:
            self.close_connection = True
            self._error(InvalidRequestError("send the body with a Content-Length; Transfer-Encoding is not accepted"))
            return False
        if self.command != "POST" and self.headers.get("Content-Length", "0").strip() != "0":
            self.close_connection = True  # a body nothing reads must not be taken for the next request
        return True

    # --- verbs ------------------------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        """A CORS preflight, answered only for origins that may then call (listed, or holding a credential)."""
        origin = self.headers.get("Origin")
        try:
            self._check_host()
            if origin is None:
                raise PermissionDeniedError("a preflight needs an Origin header")
            listed = origin in self.server.cors_origins
            private_network = self.headers.get("Access-Control-Request-Private-Network") is not None
            if private_network and not listed:
                raise PermissionDeniedError(
                    f"a page on origin {origin[:80]!r} may not reach this daemon's private address; only origins "
                    "listed with --cors-origin may"
                )
            if not self.server.origin_answered(origin):
                raise PermissionDeniedError(f"origin {origin[:80]!r} may not call this daemon; start it with --cors-origin")
        except ReelmarkError as error:
            self._error(error, cors=False)  # a refused preflight names no origin
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors_headers()
        self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        self.send_header("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_S))
        if private_network:
            self.send_header("Access-Control-Allow-Private-Network", "true")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        if not self.path.startswith(JOB_PATH):
            self._error(NotFoundError(f"no resource {self.path}; poll jobs at {JOB_PATH}<job id>"))
            return
        self._call("GetJob", api.GetJobRequest(job_id=self.path[len(JOB_PATH):]))

    def do_POST(self) -> None:
        prefix = f"/{SERVICE.full_name}/"
        method = SERVICE.methods_by_name.get(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        if method is None:
            self._error(NotFoundError(f"no method at {self.path}; methods are POST {prefix}<Method>"))
            return
        try:
            request = json_format.Parse(self._body() or "{}", message_factory.GetMessageClass(method.input_type)())
        except ReelmarkError as error:
            self._error(error)
            return
        except json_format.ParseError as error:
            self._error(InvalidRequestError(f"the body is not a valid {method.input_type.name} in JSON: {error}"))
            return
        self._call(method.name, request)

    # --- the call ---------------------------------------------------------------------------------------------

    def _call(self, name: str, request: Any) -> None:
        try:
            self._check_caller()
            context = HttpCallContext(self.headers.get("connect-timeout-ms"), self.connection)
            implementation = getattr(self.server.service, name)
            if SERVICE.methods_by_name[name].server_streaming:
                self._stream(implementation(request, context))
            else:
                self._send(HTTPStatus.OK, to_json(implementation(request, context)))
        except ReelmarkError as error:
            self._error(error)
        except (ConnectionError, TimeoutError):
            raise  # the client went away while being answered: `GatewayServer.handle_error` notes it at debug
        except Exception:
            log_unexpected(log, name)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                       json.dumps({"code": "internal", "message": f"{name} failed inside the daemon; see its log"}))

    def _check_caller(self) -> None:
        self._check_host()
        origin = self.headers.get("Origin")
        authorization = self.headers.get("Authorization")
        if origin is not None and origin not in self.server.cors_origins and self.server.guard.token is None:
            self.server.guard.authenticate_browser(origin, authorization)
        self.server.guard.authenticate(authorization)

    def _check_host(self) -> None:
        # Without a token, loopback is the main gate, and DNS rebinding could get a web page past it.
        if self.server.guard.token is None and self.headers.get("Host") not in self.server.hosts:
            raise PermissionDeniedError(f"requests must be addressed to {self.server.address} (Host header)")

    def _stream(self, events: Iterable[Any]) -> None:
        """NDJSON: one event per line as it happens; a failure is a last line `{"error": {...}}`."""
        iterator = iter(events)
        try:
            self._stream_from(iterator)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # gives back the stream's waiting slot now, not when the generator is collected

    def _stream_from(self, iterator: Iterator[Any]) -> None:
        first = next(iterator)  # errors before the first event (unknown job) get a plain error response
        self.send_response(HTTPStatus.OK)
        self._cors_headers()
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            self.wfile.write((to_json(first) + "\n").encode("utf-8"))
            for event in iterator:
                self.wfile.write((to_json(event) + "\n").encode("utf-8"))
                self.wfile.flush()
        except ReelmarkError as error:
            line = {"error": {"code": error.status.lower(), "message": public_message(error)}}
            self.wfile.write((json.dumps(line) + "\n").encode("utf-8"))
        except (BrokenPipeError, ConnectionResetError):
            log.debug("a WatchJob reader went away")

    def _body(self) -> str:
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            self.close_connection = True
            raise InvalidRequestError("send the request as JSON with 'Content-Type: application/json'")
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            self.close_connection = True
            raise LengthRequiredError("send the body with a Content-Length header")
        if len(lengths) > 1 or not _WHOLE_NUMBER.fullmatch(lengths[0].strip()):
            self.close_connection = True
            raise InvalidRequestError("Content-Length must be one whole number of bytes")
        length = int(lengths[0])
        self._reader.deadline = time.monotonic() + BODY_TIMEOUT_S
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            if length <= DRAIN_LIMIT_BYTES:  # read it, so the client sees the answer rather than a reset
                self.rfile.read(length)
            raise StatusError("RESOURCE_EXHAUSTED", f"the request is {length} bytes; the limit is {MAX_REQUEST_BYTES}")
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            raise InvalidRequestError(f"the body ended after {len(body)} of the {length} bytes Content-Length announced")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError("the body is not UTF-8 text; send JSON in UTF-8") from None

    # --- responses --------------------------------------------------------------------------------------------

    def _error(self, error: ReelmarkError, cors: bool = True) -> None:
        status = getattr(error, "http_status", None) or HTTP_STATUS.get(error.status, 500)
        self._send(status, json.dumps({"code": error.status.lower(), "message": public_message(error)}), cors)

    def _send(self, status: int, body: str, cors: bool = True) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        if cors:
            self._cors_headers()
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _cors_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and self.server.origin_answered(origin):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, service: ReelmarkService, guard: Guard, host: str, port: int, cors_origins: Iterable[str]):
        self.service = service
        self.guard = guard
        self.cors_origins = frozenset(cors_origins)
        if "*" in self.cors_origins:
            raise ConfigurationError(
                "--cors-origin '*' would let every web page drive the daemon; list exact origins, or set a token"
            )
        if NULL_ORIGIN in self.cors_origins and guard.token is None:
            log.warning("origin 'null' is allowed without a credential: sandboxed frames and data: pages of any web "
                        "site can call this daemon; prefer the local token")  # fmt: skip
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((host, port), _Handler)
        self.address = f"{host}:{self.server_port}"
        self.hosts = frozenset({self.address, f"localhost:{self.server_port}"})
        self._thread = threading.Thread(target=self.serve_forever, name="http-gateway", daemon=True)

    def origin_answered(self, origin: str) -> bool:
        """Whether CORS answers name `origin`: a listed one, or any when calls must carry a credential anyway."""
        return origin in self.cors_origins or self.guard.token is not None or self.guard.local_token is not None

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.debug("refused a connection: %d are being served", MAX_CONNECTIONS)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a call: its type only (a traceback could quote a path), and a
        client that went away or was too slow at debug level."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            log.debug("a JSON API connection ended early (%s)", type(error).__name__)
        else:
            log_unexpected(log, "a JSON API connection")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
