"""What build_server adds for metrics and tracing: interceptors in their places, and where the
outbox gauges read from.

Metrics are on when the config has a metrics address (`bookings serve` serves it), tracing
when a tracer is active (observability/tracer.py); either off adds nothing to a call.
The places in the chain (server.py):

- `outermost`: the tracing interceptor, before the access log, so the whole call, the access
  log's line included, belongs to the call's span;
- `after_access_log`: the metrics interceptor, outside every interceptor that can end a call;
- `after_auth`: the span's site, once auth has verified it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from bookings_server.api.interceptors.metrics import MetricsInterceptor
from bookings_server.api.interceptors.tracing import SiteAttributeInterceptor, TracingInterceptor
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.config import Config
from bookings_server.observability.availability_cache_gauges import availability_cache_gauges
from bookings_server.observability.outbox_gauges import BacklogReading, outbox_gauges
from bookings_server.observability.tracer import active_tracer
from bookings_server.store.database import Database
from bookings_server.store.outbox_backlog import read_outbox_backlog

#: Longest a scrape waits for the outbox read (Prometheus's scrape timeout is 10 s).
OUTBOX_READ_TIMEOUT_S = 1.0


def outermost() -> list[grpc.ServerInterceptor]:
    tracer = active_tracer()
    return [] if tracer is None else [TracingInterceptor(tracer)]


def after_access_log(config: Config) -> list[grpc.ServerInterceptor]:
    return [MetricsInterceptor()] if config.metrics_address else []


def after_auth() -> list[grpc.ServerInterceptor]:
    return [] if active_tracer() is None else [SiteAttributeInterceptor()]


def watch_the_outbox(config: Config, database: Database) -> None:
    """With metrics on, the outbox gauges read `database` at each scrape."""
    if config.metrics_address:
        outbox_gauges.read_from(lambda: _backlog(database))


def report_availability_cache(cache: AvailabilityCache) -> None:
    """The metrics show `cache`'s size and reuse (the last server built wins)."""
    availability_cache_gauges.read_from(cache.stats)


def _backlog(database: Database) -> BacklogReading:
    now = datetime.now(UTC)
    backlog = read_outbox_backlog(database, now, OUTBOX_READ_TIMEOUT_S)
    if backlog.oldest_due_at is None:
        return BacklogReading(backlog.due, 0.0)
    return BacklogReading(backlog.due, max(0.0, (now - backlog.oldest_due_at).total_seconds()))
