"""The gRPC transport: the service's methods behind a grpcio server, with health checking and reflection.

Handlers are built from the proto's service descriptor, one per method, so a method added to the proto and
the service is served without another line here. Each handler authenticates the call with the guard, runs the
method on an RPC thread (analyses themselves run on the job workers) and turns a `ReelmarkError` into its
status code. Messages are size-limited both ways; the RPC thread pool and the number of calls in flight are
bounded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf import message_factory
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.daemon.errors import log_unexpected, public_message
from reelmark.core.daemon.security import Guard
from reelmark.core.daemon.service import ReelmarkService
from reelmark.core.errors import ReelmarkError

log = logging.getLogger("reelmark.daemon.grpc")

SERVICE = api.DESCRIPTOR.services_by_name["Reelmark"]
MAX_REQUEST_BYTES = 1 << 20
"""Requests are small (a path, some options); anything bigger is a mistake or an attack."""
MAX_RESPONSE_BYTES = 64 << 20
"""Analyses of long clips with tubes can run to megabytes."""
RPC_THREADS = 32
MAX_CONCURRENT_RPCS = 512


def status_code(error: ReelmarkError) -> grpc.StatusCode:
    return getattr(grpc.StatusCode, error.status, grpc.StatusCode.UNKNOWN)


def _authorization(context: grpc.ServicerContext) -> str | None:
    return next((value for key, value in context.invocation_metadata() if key == "authorization"), None)


@contextmanager
def _answer_errors(context: grpc.ServicerContext, name: str) -> Iterator[None]:
    """End the call with the error's status: a `ReelmarkError`'s own, INTERNAL for a bug."""
    try:
        yield
    except ReelmarkError as error:
        context.abort(status_code(error), public_message(error))
    except Exception:
        log_unexpected(log, name)
        context.abort(grpc.StatusCode.INTERNAL, f"{name} failed inside the daemon; its log has details")


def _unary(method: Callable[..., Any], guard: Guard) -> Callable[[Any, grpc.ServicerContext], Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        with _answer_errors(context, method.__name__):
            guard.authenticate(_authorization(context))
            return method(request, context)

    return handle


def _streaming(method: Callable[..., Iterator[Any]], guard: Guard) -> Callable[[Any, grpc.ServicerContext], Iterator[Any]]:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        with _answer_errors(context, method.__name__):
            guard.authenticate(_authorization(context))
            yield from method(request, context)

    return handle


def service_handler(service: ReelmarkService, guard: Guard) -> grpc.GenericRpcHandler:
    handlers = {}
    for method in SERVICE.methods:
        request_class = message_factory.GetMessageClass(method.input_type)
        response_class = message_factory.GetMessageClass(method.output_type)
        implementation = getattr(service, method.name)
        make = grpc.unary_stream_rpc_method_handler if method.server_streaming else grpc.unary_unary_rpc_method_handler
        wrap = _streaming if method.server_streaming else _unary
        handlers[method.name] = make(
            wrap(implementation, guard),
            request_deserializer=request_class.FromString,
            response_serializer=response_class.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(SERVICE.full_name, handlers)


class GrpcServer:
    """A started grpc server on `address` (port 0: a free one), serving the API, health and reflection."""

    def __init__(self, service: ReelmarkService, guard: Guard, address: str):
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=RPC_THREADS, thread_name_prefix="rpc"),
            options=[
                ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                ("grpc.max_send_message_length", MAX_RESPONSE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
            maximum_concurrent_rpcs=MAX_CONCURRENT_RPCS,
        )
        self._server.add_generic_rpc_handlers((service_handler(service, guard),))
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._server)
        reflection.enable_server_reflection(
            (SERVICE.full_name, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
            self._server,
        )
        host = address.rpartition(":")[0]
        try:
            port = self._server.add_insecure_port(address)
        except RuntimeError:
            port = 0
        if port == 0:
            raise OSError(f"cannot listen on {address}: the port is taken or the address is not this machine's")
        self.address = f"{host}:{port}"

    def start(self) -> None:
        self._server.start()
        for name in ("", SERVICE.full_name):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    def drain(self) -> None:
        """Tell health checkers the daemon is going away, while it still answers status calls."""
        self.health.enter_graceful_shutdown()

    def stop(self, grace: float) -> None:
        """Refuse new calls now, let calls in flight finish within `grace` seconds."""
        self._server.stop(grace).wait()
