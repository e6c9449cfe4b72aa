"""`bookings serve`'s metrics endpoint and tracing: the flag, and starting and stopping both.

The flag costs the parser nothing; the Prometheus and OpenTelemetry modules are imported
when the server starts.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bookings_server.cli.console import say
from bookings_server.config import Config, env

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from bookings_server.observability.metrics_endpoint import MetricsEndpoint


def add_metrics_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--metrics-address",
        default=env("METRICS_ADDRESS") or None,
        help="HOST:PORT to serve Prometheus metrics on at /metrics, one per process, port 0 "
        "picks a free one (env BOOKINGS_METRICS_ADDRESS; default off). Tracing is set with "
        "the standard OTEL_* variables: on when OTEL_EXPORTER_OTLP_ENDPOINT is set",
    )


@dataclass
class Observability:
    """The process's tracer provider (None: tracing off) and metrics endpoint, once served."""

    tracer_provider: TracerProvider | None
    metrics: MetricsEndpoint | None = None

    @classmethod
    def start_tracing(cls) -> Observability:
        """Trace as the OTEL_* variables say; call before build_server (it adds the span
        interceptors when tracing is on)."""
        from bookings_server.observability.tracer import start_tracing_from_environment

        return cls(start_tracing_from_environment())

    def serve_metrics(self, config: Config) -> None:
        """Serve /metrics on config.metrics_address, if any (MetricsAddressError if taken)."""
        if config.metrics_address:
            from bookings_server.observability.metrics_endpoint import start_metrics_endpoint

            self.metrics = start_metrics_endpoint(config.metrics_address)

    def announce(self) -> None:
        """The start-up line naming the metrics URL (with port 0, how you learn the port)."""
        if self.metrics is not None:
            say(f"bookings: metrics on {self.metrics.url}")

    def close(self) -> None:
        """Stop serving metrics; send the spans still buffered."""
        if self.metrics is not None:
            self.metrics.close()
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
