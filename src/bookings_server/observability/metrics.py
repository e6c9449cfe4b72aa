"""Every Prometheus metric of the process, in one registry that /metrics serves.

The gRPC metrics carry the names and labels of go-grpc-prometheus (and py-grpc-prometheus),
so the ecosystem's dashboards work unchanged. The service's own metrics have a `bookings_`
prefix and only bounded labels: a service type, a reason out of a fixed list; never a site,
a booking or a method name a client made up.

One process, one registry (docs/operations.md, "Several processes"): each process serves its
own /metrics and Prometheus adds them up, so no multiprocess mode and no shared directory.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)

# The `_created` series double every counter and histogram; go-grpc-prometheus has none and
# no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client

REGISTRY = CollectorRegistry(auto_describe=True)
# The client library's own: process_* (CPU, memory, file descriptors), python_gc_*, python_info.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

#: Booking service types, as the catalog names them (APPOINTMENT, CLASS, COURSE), and UNKNOWN
#: for a result that carries no booking (a bulk call without return_entity).
SERVICE_TYPES = ("APPOINTMENT", "CLASS", "COURSE", "UNKNOWN")
#: Refusals for want of room, and the DECLINED decision of ConfirmOrDeclineBooking.
CAPACITY_REASONS = (
    "SLOT_NOT_AVAILABLE",
    "SESSION_CAPACITY_EXCEEDED",
    "SCHEDULE_CAPACITY_EXCEEDED",
    "DECLINED",
)
#: The store failures a client is told about (store/failures.py).
STORE_REASONS = ("STORE_BUSY", "STORE_OVERLOADED", "STORE_UNAVAILABLE", "STORE_FULL")

_GRPC_LABELS = ("grpc_type", "grpc_service", "grpc_method")

grpc_started = Counter(
    "grpc_server_started_total",
    "Total number of RPCs started on the server.",
    _GRPC_LABELS,
    registry=REGISTRY,
)
grpc_handled = Counter(
    "grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or failure.",
    (*_GRPC_LABELS, "grpc_code"),
    registry=REGISTRY,
)
grpc_handling_seconds = Histogram(
    "grpc_server_handling_seconds",
    "Histogram of response latency (seconds) of gRPC that had been application-level "
    "handled by the server.",
    _GRPC_LABELS,
    registry=REGISTRY,
)

bookings_created = Counter(
    "bookings_created_total",
    "Bookings created (CreateBooking, BulkCreateBooking, JoinWaitingList), idempotent "
    "retries excluded.",
    ("service_type",),
    registry=REGISTRY,
)
bookings_confirmed = Counter(
    "bookings_confirmed_total",
    "Bookings that became CONFIRMED (a decision, a forced confirmation, or created so).",
    ("service_type",),
    registry=REGISTRY,
)
bookings_declined = Counter(
    "bookings_declined_total",
    "Bookings that became DECLINED.",
    ("service_type",),
    registry=REGISTRY,
)
bookings_canceled = Counter(
    "bookings_canceled_total",
    "Bookings that became CANCELED.",
    ("service_type",),
    registry=REGISTRY,
)
double_booked_confirmations = Counter(
    "bookings_double_booked_confirmations_total",
    "Confirmations that overbooked their slot, session or schedule (double_booked).",
    ("service_type",),
    registry=REGISTRY,
)
capacity_declines = Counter(
    "bookings_capacity_declines_total",
    "Requests refused for want of room, by ErrorInfo reason, and DECLINED decisions.",
    ("reason",),
    registry=REGISTRY,
)
store_busy_answers = Counter(
    "bookings_store_busy_answers_total",
    "Calls (and bulk items) answered with a store failure, by ErrorInfo reason.",
    ("reason",),
    registry=REGISTRY,
)
capacity_lock_wait_seconds = Histogram(
    "bookings_capacity_lock_wait_seconds",
    "Time a write transaction waited for a capacity lock (on SQLite: the database's write "
    "lock, taken at BEGIN).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)
event_watchers = Gauge(
    "bookings_event_watchers",
    "WatchBookingEvents streams open on this process.",
    registry=REGISTRY,
)


def _start_at_zero() -> None:
    """Create every labelled series at 0, so rates and dashboards see them before the first
    event (go-grpc-prometheus does the same for each registered method)."""
    for counter in (
        bookings_created,
        bookings_confirmed,
        bookings_declined,
        bookings_canceled,
        double_booked_confirmations,
    ):
        for service_type in SERVICE_TYPES:
            counter.labels(service_type)
    for reason in CAPACITY_REASONS:
        capacity_declines.labels(reason)
    for reason in STORE_REASONS:
        store_busy_answers.labels(reason)


_start_at_zero()
