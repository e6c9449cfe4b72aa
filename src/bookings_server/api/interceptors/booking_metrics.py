"""The service's own counters, read from what the calls answer (the metrics interceptor).

Everything comes from the responses and the error details the clients get, so the use cases
stay free of metrics:

- a booking in a response says its service type (its tags, set from the service's type:
  INDIVIDUAL, GROUP, COURSE; domain/booking_rules.tags_for) and its new status;
- a created booking is new when it was created during this call: an idempotent retry of
  CreateBooking answers the booking an earlier call created, with that call's created_date;
- a refusal's ErrorInfo reason tells a capacity refusal or a store failure, in a call's
  status or in a bulk item's error.

Bulk results carry their booking only with return_entity: without it a BulkCreateBooking
success counts as created with service type UNKNOWN, and a BulkConfirmOrDeclineBooking
decision (which the result does not name) is not counted.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from typing import Any, cast

import grpc
from bookings.v1 import booking_pb2
from google.protobuf import any_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2

from bookings_server.observability import metrics

_SERVICE = "/bookings.v1.BookingsService/"
#: The tag domain/booking_rules.tags_for gives each service type, to the type's catalog name.
_TYPE_OF_TAG = {"INDIVIDUAL": "APPOINTMENT", "GROUP": "CLASS", "COURSE": "COURSE"}
_CAPACITY_REASONS = frozenset(metrics.CAPACITY_REASONS)
_STORE_REASONS = frozenset(metrics.STORE_REASONS)
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


class _Change(enum.Enum):
    """What a method does to the bookings it answers."""

    CREATE = "create"
    DECIDE = "decide"
    #: ConfirmOrDeclineBooking: its DECLINED is a capacity decision.
    DECIDE_ON_CAPACITY = "decide on capacity"


_SINGLE = {
    f"{_SERVICE}CreateBooking": _Change.CREATE,
    f"{_SERVICE}JoinWaitingList": _Change.CREATE,
    f"{_SERVICE}ConfirmOrDeclineBooking": _Change.DECIDE_ON_CAPACITY,
    f"{_SERVICE}ConfirmBooking": _Change.DECIDE,
    f"{_SERVICE}DeclineBooking": _Change.DECIDE,
    f"{_SERVICE}CancelBooking": _Change.DECIDE,
}
_BULK = {
    f"{_SERVICE}BulkCreateBooking": _Change.CREATE,
    f"{_SERVICE}BulkConfirmOrDeclineBooking": _Change.DECIDE_ON_CAPACITY,
}


def observe_response(method: str, response: Any, since_ns: int) -> None:
    """Count what the answer of a call to `method`, started at `since_ns` (epoch), did."""
    change = _SINGLE.get(method)
    if change is not None:
        _count_booking(change, response.booking, since_ns)
        return
    change = _BULK.get(method)
    if change is not None:
        _count_bulk(change, response.results, since_ns)


def observe_refusal(context: grpc.ServicerContext) -> None:
    """Count the capacity refusal or store failure a failed call answered, if it is one."""
    trailing = cast(Any, context).trailing_metadata() or ()
    for key, value in trailing:
        if key == _STATUS_DETAILS_KEY:
            _count_reasons(_reasons(status_pb2.Status.FromString(value).details))


def service_type(booking: booking_pb2.Booking) -> str:
    """APPOINTMENT, CLASS or COURSE, from the booking's tags; UNKNOWN without one."""
    for tag in booking.booked_entity.tags:
        known = _TYPE_OF_TAG.get(tag)
        if known is not None:
            return known
    return "UNKNOWN"


def _count_booking(change: _Change, booking: booking_pb2.Booking, since_ns: int) -> None:
    kind = service_type(booking)
    if change is _Change.CREATE:
        if _epoch_ns(booking.created_date) < since_ns:
            return  # an idempotent retry: an earlier call created it
        metrics.bookings_created.labels(kind).inc()
    _count_status(change, booking, kind)


def _count_status(change: _Change, booking: booking_pb2.Booking, kind: str) -> None:
    if booking.status == booking_pb2.BOOKING_STATUS_CONFIRMED:
        metrics.bookings_confirmed.labels(kind).inc()
        if booking.double_booked:
            metrics.double_booked_confirmations.labels(kind).inc()
    elif booking.status == booking_pb2.BOOKING_STATUS_DECLINED:
        metrics.bookings_declined.labels(kind).inc()
        if change is _Change.DECIDE_ON_CAPACITY:
            metrics.capacity_declines.labels("DECLINED").inc()
    elif booking.status == booking_pb2.BOOKING_STATUS_CANCELED:
        metrics.bookings_canceled.labels(kind).inc()


def _count_bulk(change: _Change, results: Iterable[Any], since_ns: int) -> None:
    for result in results:
        if not result.item_metadata.success:
            _count_reasons(_reasons(result.item_metadata.error.details))
        elif result.HasField("item"):
            _count_booking(change, result.item, since_ns)
        elif change is _Change.CREATE:
            metrics.bookings_created.labels("UNKNOWN").inc()


def _count_reasons(reasons: Iterable[str]) -> None:
    for reason in reasons:
        if reason in _CAPACITY_REASONS:
            metrics.capacity_declines.labels(reason).inc()
        elif reason in _STORE_REASONS:
            metrics.store_busy_answers.labels(reason).inc()


def _reasons(details: Iterable[any_pb2.Any]) -> Iterator[str]:
    """The ErrorInfo reasons among a status's details."""
    for detail in details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            yield info.reason


def _epoch_ns(stamp: timestamp_pb2.Timestamp) -> int:
    return stamp.seconds * 1_000_000_000 + stamp.nanos
