"""The /metrics endpoint: prometheus-client's HTTP server on a thread of its own.

It answers every path with the metrics of the process's registry (prometheus-client serves
any GET path; Prometheus asks for /metrics). Scrapes run on the endpoint's threads, never on
the gRPC worker threads.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server

from bookings_server.observability.metrics import REGISTRY


class MetricsAddressError(RuntimeError):
    """--metrics-address cannot be served (taken, or not HOST:PORT)."""


@dataclass(frozen=True)
class MetricsEndpoint:
    """A running endpoint; `port` is the bound one (useful with port 0)."""

    server: WSGIServer
    host: str

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_metrics_endpoint(address: str) -> MetricsEndpoint:
    """Serve the registry on `address` (HOST:PORT; port 0 picks a free one)."""
    host, port = _split(address)
    try:
        server, _thread = start_http_server(port, addr=host, registry=REGISTRY)
    except OSError as error:
        raise MetricsAddressError(f"cannot serve metrics on {address}: {_why(error)}") from error
    return MetricsEndpoint(server, host)


def _split(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise MetricsAddressError(f"cannot serve metrics on {address}: not a HOST:PORT address")
    return host.strip("[]"), int(port)


def _why(error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            "the address is already in use (another process's metrics?); give each server "
            "process its own --metrics-address / BOOKINGS_METRICS_ADDRESS"
        )
    return error.strerror or str(error)
