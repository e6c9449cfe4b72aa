"""build_server(config) -> (server, port): the gRPC server with health and reflection."""

from __future__ import annotations

import errno
import socket
from collections.abc import Sequence

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from bookings_server import serving_observability as observability
from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.api.auth.scopes import read_scope_rules, services_named
from bookings_server.api.interceptors.access_log import AccessLogInterceptor
from bookings_server.api.interceptors.auth import AuthInterceptor
from bookings_server.api.interceptors.deadline import DeadlineInterceptor
from bookings_server.api.interceptors.decode import DecodeErrorInterceptor
from bookings_server.api.interceptors.errors import ErrorMappingInterceptor
from bookings_server.api.interceptors.rate_limit import RateLimitInterceptor
from bookings_server.api.reflection import enable_commented_reflection
from bookings_server.api.servicers import SERVICE_NAMES, add_servicers
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.config import Config
from bookings_server.domain.page_tokens import PageTokenCodec
from bookings_server.serving import DrainControls
from bookings_server.serving_health import DeadlineCheck
from bookings_server.store.database import Database
from bookings_server.store.probe import StoreProbe
from bookings_server.store.unit_of_work import SqlUnitOfWork
from bookings_server.tls import server_credentials
from bookings_server.worker_pool import WorkerPool


class PortInUseError(RuntimeError):
    """The configured address could not be bound (another process holds it)."""


def build_server(
    config: Config,
    *,
    guarded_services: Sequence[ServiceDescriptor] | None = None,
    controls: DrainControls | None = None,
    database: Database | None = None,
) -> tuple[grpc.Server, int]:
    """Create, wire and bind the server (not started). Port 0 picks a free port.

    `guarded_services` (default: the served bookings.v1 services) must declare scopes on every
    RPC, else UndeclaredScopesError: the server refuses to start rather than leave a method open.
    Pass `controls` to keep a handle on the health servicer, the draining event (serving.drain
    flips both) and the health monitor (serving.run_until_signalled starts it).
    `database` defaults to a new Database for `config.effective_database_url`; it must already
    be migrated (store/bootstrap.py prepares the embedded default).
    With `config.tls_cert_file` the port serves TLS (mTLS with a client CA; tls.py), else
    plaintext; TlsConfigError when the TLS settings or files cannot be used.
    """
    scope_rules = read_scope_rules(
        services_named(SERVICE_NAMES) if guarded_services is None else guarded_services
    )
    signing_keys = load_signing_keys(config)
    auth = AuthInterceptor(signing_keys, scope_rules)
    # Derived from a secret every process on the database shares: each accepts the others' tokens.
    page_tokens = PageTokenCodec.from_secret(config.page_token_secret or signing_keys.secret)
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
        WorkerPool(config.max_workers),
        interceptors=[
            # Tracing (when on) before the access log: the line is written inside the span.
            *observability.outermost(),
            AccessLogInterceptor(),
            *observability.after_access_log(config),
            DecodeErrorInterceptor(),
            auth,
            *observability.after_auth(),
            RateLimitInterceptor.from_config(config),
            DeadlineInterceptor(config.max_call_seconds),
            ErrorMappingInterceptor(),
        ],
        options=options,
    )
    controls = controls or DrainControls()
    database = database or Database.from_config(config)
    observability.watch_the_outbox(config, database)
    add_servicers(
        server,
        SqlUnitOfWork(database),
        controls.draining,
        page_tokens,
        availability_cache(config),
    )
    health_pb2_grpc.add_HealthServicer_to_server(controls.health, server)
    controls.health.set("", health_pb2.HealthCheckResponse.SERVING)
    _watch_the_store(controls, config)
    enable_commented_reflection(server, (*SERVICE_NAMES, health.SERVICE_NAME))
    return server, _bind(server, config.address, server_credentials(config))


def availability_cache(config: Config) -> AvailabilityCache | None:
    """QueryAvailability's cache of answers within --availability-cache-mb (0: none),
    reported in the metrics."""
    if config.availability_cache_mb <= 0:
        return None
    cache = AvailabilityCache(config.availability_cache_mb * 2**20)
    observability.report_availability_cache(cache)
    return cache


def _watch_the_store(controls: DrainControls, config: Config) -> None:
    """The bookings services follow a background probe of the store (once the monitor is
    started); "" does not, so that an orchestrator keeps the process while the store is down."""
    probe = StoreProbe(config.effective_database_url, config.health_probe_timeout)
    controls.monitor.interval = config.health_probe_interval
    controls.monitor.watch(SERVICE_NAMES, DeadlineCheck(probe.check, config.health_probe_timeout))


def _bind(server: grpc.Server, address: str, credentials: grpc.ServerCredentials | None) -> int:
    """Bind `address` (with TLS given `credentials`), or raise PortInUseError saying why not."""
    try:
        if credentials is None:
            port: int = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError:
        port = 0
    if port == 0:
        raise PortInUseError(f"cannot listen on {address}: {_bind_problem(address)}")
    return port


def _bind_problem(address: str) -> str:
    """grpcio reports every bind failure alike; probe the address to tell the user why."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, int(port)))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return (
                "the address is already in use (another bookings server?); "
                "stop it or choose another --address / BOOKINGS_ADDRESS"
            )
        return f"{error.strerror or error}"
    except ValueError:
        return "not a HOST:PORT address"
    return "grpcio could not bind it"
