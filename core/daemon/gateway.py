"""The HTTP JSON transport, for clients that cannot speak gRPC (the Premiere UXP panel's `fetch`).

A thin transcoding gateway on the standard library's threading HTTP server: `POST /reelmark.v1.Reelmark/<Method>`
with the request message in proto3 JSON calls the very same `ReelmarkService` method the gRPC server calls,
after the same authentication, and answers in proto3 JSON. Unary calls follow the Connect protocol's unary
conventions (path, JSON body, `connect-timeout-ms`, error body `{"code", "message"}` and its HTTP statuses);
`WatchJob` answers with one JSON event per line (NDJSON). `GET /v1/jobs/<id>` is the poll-friendly job status.
protos/README.md says why this is not a full Connect server.

Browser-facing defences, since any web page can aim a request at 127.0.0.1: without a token the Host header
must name this server (against DNS rebinding), and a request carrying an `Origin` is served only for allowed
origins (all of them when a token is set, since a page cannot know the token); JSON bodies make every
cross-origin call preflighted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format, message_factory

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.daemon.errors import NotFoundError, PermissionDeniedError, StatusError, log_unexpected
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


class HttpCallContext:
    """A call's deadline, from Connect's `connect-timeout-ms` header."""

    def __init__(self, timeout_ms: str | None):
        if timeout_ms is not None and not timeout_ms.isdigit():
            raise InvalidRequestError(f"connect-timeout-ms must be a whole number of milliseconds, got {timeout_ms!r}")
        self._deadline = None if timeout_ms is None else time.monotonic() + int(timeout_ms) / 1000

    def time_remaining(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def is_active(self) -> bool:
        return self._deadline is None or time.monotonic() < self._deadline


def to_json(message: Any) -> str:
    return json_format.MessageToJson(message, indent=None, always_print_fields_with_no_presence=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    # --- verbs ------------------------------------------------------------------------------------------------

    def do_OPTIONS(self) -> None:
        origin = self.headers.get("Origin")
        if origin is None or not self.server.origin_allowed(origin):
            self._error(PermissionDeniedError(f"origin {origin!r} may not call this daemon; start it with --cors-origin"))
            return
        self.send_response(HTTPStatus.NO_CONTENT)
        self._cors_headers()
        self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
        self.send_header("Access-Control-Max-Age", str(PREFLIGHT_MAX_AGE_S))
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
            context = HttpCallContext(self.headers.get("connect-timeout-ms"))
            implementation = getattr(self.server.service, name)
            if SERVICE.methods_by_name[name].server_streaming:
                self._stream(implementation(request, context))
            else:
                self._send(HTTPStatus.OK, to_json(implementation(request, context)))
        except ReelmarkError as error:
            self._error(error)
        except Exception:
            log_unexpected(log, name)
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                       json.dumps({"code": "internal", "message": f"{name} failed inside the daemon; see its log"}))

    def _check_caller(self) -> None:
        # Without a token, loopback is the only gate, and DNS rebinding could get a web page past it.
        if self.server.guard.token is None and self.headers.get("Host") not in self.server.hosts:
            raise PermissionDeniedError(f"requests must be addressed to {self.server.address} (Host header)")
        origin = self.headers.get("Origin")
        if origin is not None and not self.server.origin_allowed(origin):
            raise PermissionDeniedError(f"origin {origin!r} may not call this daemon; start it with --cors-origin")
        self.server.guard.authenticate(self.headers.get("Authorization"))

    def _stream(self, events: Iterable[Any]) -> None:
        """NDJSON: one event per line as it happens; a failure is a last line `{"error": {...}}`."""
        iterator = iter(events)
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
            line = {"error": {"code": error.status.lower(), "message": str(error)}}
            self.wfile.write((json.dumps(line) + "\n").encode("utf-8"))
        except (BrokenPipeError, ConnectionResetError):
            log.debug("a WatchJob reader went away")

    def _body(self) -> str:
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise InvalidRequestError("send the request as JSON with 'Content-Type: application/json'")
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            if length <= DRAIN_LIMIT_BYTES:  # read it, so the client sees the answer rather than a reset
                self.rfile.read(length)
            raise StatusError("RESOURCE_EXHAUSTED", f"the request is {length} bytes; the limit is {MAX_REQUEST_BYTES}")
        return self.rfile.read(length).decode("utf-8")

    # --- responses --------------------------------------------------------------------------------------------

    def _error(self, error: ReelmarkError) -> None:
        self._send(HTTP_STATUS.get(error.status, 500), json.dumps({"code": error.status.lower(), "message": str(error)}))

    def _send(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self._cors_headers()
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _cors_headers(self) -> None:
        origin = self.headers.get("Origin")
        if origin is not None and self.server.origin_allowed(origin):
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Vary", "Origin")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, service: ReelmarkService, guard: Guard, host: str, port: int, cors_origins: Iterable[str]):
        self.service = service
        self.guard = guard
        self.cors_origins = frozenset(cors_origins)
        super().__init__((host, port), _Handler)
        self.address = f"{host}:{self.server_port}"
        self.hosts = frozenset({self.address, f"localhost:{self.server_port}"})
        self._thread = threading.Thread(target=self.serve_forever, name="http-gateway", daemon=True)

    def origin_allowed(self, origin: str) -> bool:
        return self.guard.token is not None or origin in self.cors_origins or "*" in self.cors_origins

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
