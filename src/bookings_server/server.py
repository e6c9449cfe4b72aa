"""build_server(config) -> (server, port): the gRPC server with health and reflection."""

from __future__ import annotations

from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from bookings_server.api.error_interceptor import ErrorMappingInterceptor
from bookings_server.api.servicers import SERVICE_NAMES, add_servicers
from bookings_server.config import Config


class PortInUseError(RuntimeError):
    """The configured address could not be bound (another process holds it)."""


def build_server(config: Config) -> tuple[grpc.Server, int]:
    """Create, wire and bind the server (not started). Port 0 picks a free port."""
    options = [
        ("grpc.max_receive_message_length", config.max_message_bytes),
        ("grpc.max_send_message_length", config.max_message_bytes),
        ("grpc.so_reuseport", 1 if config.reuse_port else 0),
        ("grpc.keepalive_time_ms", 60_000),
        ("grpc.keepalive_timeout_ms", 20_000),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="rpc"),
        interceptors=[ErrorMappingInterceptor()],
        options=options,
    )
    add_servicers(server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    try:
        port = server.add_insecure_port(config.address)
    except RuntimeError as error:
        raise PortInUseError(f"cannot listen on {config.address}: {error}") from error
    if port == 0:
        raise PortInUseError(f"cannot listen on {config.address}: address in use")
    return server, port
