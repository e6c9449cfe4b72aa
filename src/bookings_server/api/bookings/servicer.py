"""bookings.v1.BookingsService: decode each request, call its use case, encode the reply.

The use cases (app/bookings/) name fields relative to what they check; this layer knows
where that sits in the request and prefixes the paths (CreateBooking's booking errors move
under "booking").
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2_grpc
from bookings.v1 import bookings_service_pb2 as pb
from typing_extensions import override

from bookings_server.api.bookings import convert
from bookings_server.api.bookings.watch import DEFAULT_MAX_WATCHERS, EventStreams
from bookings_server.api.context import current_principal
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.events import EventFollower
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.queries import BookingReader
from bookings_server.app.bookings.reschedule import Rescheduler
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking import Booking
from bookings_server.domain.booking_query import (
    BookingOrder,
    PagePosition,
    encode_page_token,
    position_of,
)
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_rules import RequestFieldError
from bookings_server.domain.booking_shape import (
    MAX_TEXT_LENGTH,
    booking_violations,
    request_violations,
)
from bookings_server.domain.errors import DomainError, InvalidArgument

#: Where CreateBookingRequest carries the booking.
_BOOKING = "booking"
#: Bookings per QueryBookings response, in serialized bytes: half the default 4 MiB message
#: limit; a booking is at most about 1 MB (domain/booking_shape.py size limits).
MAX_PAGE_BYTES = 2 * 1024 * 1024
#: Longest booking id accepted; ids are UUIDs, anything longer cannot exist.
MAX_BOOKING_ID_LENGTH = 200


class BookingsServicer(bookings_service_pb2_grpc.BookingsServiceServicer):
    """Every BookingsService RPC, on the use cases built from one unit of work."""

    def __init__(
        self,
        uow: UnitOfWork,
        draining: threading.Event,
        clock: Clock = utc_now,
        *,
        max_watchers: int = DEFAULT_MAX_WATCHERS,
    ) -> None:
        """Setting `draining` ends the open event streams at their next poll."""
        self._creator = BookingCreator(uow, clock)
        self._reader = BookingReader(uow)
        self._lifecycle = BookingLifecycle(uow, clock)
        self._rescheduler = Rescheduler(uow, clock)
        self._streams = EventStreams(EventFollower(uow), draining, max_watchers=max_watchers)

    # --- creating and reading ---

    @override
    def CreateBooking(
        self, request: pb.CreateBookingRequest, context: grpc.ServicerContext
    ) -> pb.CreateBookingResponse:
        principal = current_principal()
        draft = convert.draft_from_request(request)
        _check_shape(draft)
        try:
            booking = self._creator.create(draft, principal)
        except RequestFieldError:
            raise
        except DomainError as error:
            raise error.with_field_prefix(_BOOKING) from error
        return pb.CreateBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def GetBooking(
        self, request: pb.GetBookingRequest, context: grpc.ServicerContext
    ) -> pb.GetBookingResponse:
        booking = self._reader.get(current_principal(), request.booking_id)
        return pb.GetBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def QueryBookings(
        self, request: pb.QueryBookingsRequest, context: grpc.ServicerContext
    ) -> pb.QueryBookingsResponse:
        principal = current_principal()
        query = convert.query_from_request(request)
        bookings, last = self._reader.query(principal, query)
        page, last = _within_page_bytes(bookings, last, query.order)
        return pb.QueryBookingsResponse(
            bookings=page,
            next_page_token=(
                "" if last is None else encode_page_token(last, query.filter, query.order)
            ),
        )

    # --- lifecycle ---

    @override
    def ConfirmOrDeclineBooking(
        self, request: pb.ConfirmOrDeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmOrDeclineBookingResponse:
        booking = self._lifecycle.confirm_or_decline(
            current_principal(),
            booking_id_of(request),
            payment_status=convert.payment_status(request.payment_status, "payment_status"),
            revision=request.revision,
        )
        return pb.ConfirmOrDeclineBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def ConfirmBooking(
        self, request: pb.ConfirmBookingRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmBookingResponse:
        booking = self._lifecycle.confirm(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            payment_status=convert.payment_status(request.payment_status, "payment_status"),
            notification=notification_of(request),
        )
        return pb.ConfirmBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def DeclineBooking(
        self, request: pb.DeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.DeclineBookingResponse:
        booking = self._lifecycle.decline(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            payment_status=convert.payment_status(request.payment_status, "payment_status"),
            notification=notification_of(request),
        )
        return pb.DeclineBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def CancelBooking(
        self, request: pb.CancelBookingRequest, context: grpc.ServicerContext
    ) -> pb.CancelBookingResponse:
        booking = self._lifecycle.cancel(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            notification=notification_of(request),
            ignore_cancellation_policy=request.ignore_cancellation_policy,
        )
        return pb.CancelBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def RescheduleBooking(
        self, request: pb.RescheduleBookingRequest, context: grpc.ServicerContext
    ) -> pb.RescheduleBookingResponse:
        if not request.HasField("slot"):
            raise InvalidArgument.field("slot", "is required")
        booking = self._rescheduler.reschedule(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            slot=convert.slot_from_proto(request.slot, "slot"),
            notification=notification_of(request),
            skip_availability_validation=request.skip_availability_validation,
            ignore_booking_policy=request.ignore_booking_policy,
        )
        return pb.RescheduleBookingResponse(booking=convert.booking_to_proto(booking))

    # --- events ---

    @override
    def WatchBookingEvents(
        self, request: pb.WatchBookingEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchBookingEventsResponse]:
        principal = current_principal()
        yield from self._streams.stream(principal, request, context)


def _check_shape(draft: BookingDraft) -> None:
    """INVALID_ARGUMENT listing every malformed field of the request, its booking's first."""
    violations = [v.prefixed(_BOOKING) for v in booking_violations(draft)]
    violations += request_violations(draft)
    if violations:
        raise InvalidArgument.of(violations)


def _within_page_bytes(
    bookings: list[Booking], last: PagePosition | None, order: BookingOrder
) -> tuple[list[booking_pb2.Booking], PagePosition | None]:
    """The bookings as messages, cut after MAX_PAGE_BYTES so the response fits a gRPC message
    (AIP-158 allows a page shorter than page_size); the position where the page ends."""
    page: list[booking_pb2.Booking] = []
    size = 0
    for index, booking in enumerate(bookings):
        message = convert.booking_to_proto(booking)
        size += message.ByteSize()
        if page and size > MAX_PAGE_BYTES:
            return page, position_of(bookings[index - 1], order)
        page.append(message)
    return page, last


def booking_id_of(request: Any) -> str:
    """The request's booking_id; INVALID_ARGUMENT when empty or absurdly long."""
    booking_id: str = request.booking_id
    if not booking_id:
        raise InvalidArgument.field("booking_id", "is required")
    if len(booking_id) > MAX_BOOKING_ID_LENGTH:
        raise InvalidArgument.field("booking_id", f"at most {MAX_BOOKING_ID_LENGTH} characters")
    return booking_id


def notification_of(request: Any) -> Notification:
    given = request.participant_notification
    if len(given.message) > MAX_TEXT_LENGTH:
        raise InvalidArgument.field(
            "participant_notification.message", f"at most {MAX_TEXT_LENGTH} characters"
        )
    return Notification(notify=given.notify_participants, message=given.message)
