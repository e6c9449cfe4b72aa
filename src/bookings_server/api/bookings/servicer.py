"""bookings.v1.BookingsService: decode each request, call its use case, encode the reply.

The use cases (app/bookings/) name fields relative to what they check; this layer knows
where that sits in the request and prefixes the paths (CreateBooking's booking errors move
under "booking").
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2_grpc
from bookings.v1 import bookings_service_pb2 as pb
from typing_extensions import override

from bookings_server.api.bookings import bulk, convert, holds
from bookings_server.api.bookings.watch import DEFAULT_MAX_WATCHERS, EventStreams
from bookings_server.api.context import current_principal
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.events import EventFollower
from bookings_server.app.bookings.holds import HoldKeeper
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.app.bookings.participants import ParticipantsChanger
from bookings_server.app.bookings.queries import BookingReader
from bookings_server.app.bookings.reschedule import Rescheduler
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking import Booking
from bookings_server.domain.booking_query import BookingOrder, PagePosition, position_of
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_rules import RequestFieldError
from bookings_server.domain.booking_shape import (
    MAX_TEXT_LENGTH,
    booking_violations,
    request_violations,
)
from bookings_server.domain.errors import DomainError, InvalidArgument
from bookings_server.domain.page_tokens import PageTokenCodec

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
        page_tokens: PageTokenCodec,
    ) -> None:
        """Setting `draining` ends the open event streams at their next poll; QueryBookings
        page tokens are signed by `page_tokens`."""
        self._creator = BookingCreator(uow, clock)
        self._reader = BookingReader(uow, page_tokens=page_tokens)
        self._lifecycle = BookingLifecycle(uow, clock)
        self._rescheduler = Rescheduler(uow, clock)
        self._holds = HoldKeeper(uow, clock)
        self._participants = ParticipantsChanger(uow, clock)
        self._streams = EventStreams(EventFollower(uow), draining, max_watchers=max_watchers)

    # --- creating and reading ---

    @override
    def CreateBooking(
        self, request: pb.CreateBookingRequest, context: grpc.ServicerContext
    ) -> pb.CreateBookingResponse:
        booking = self._create(request)
        return pb.CreateBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def BulkCreateBooking(
        self, request: pb.BulkCreateBookingRequest, context: grpc.ServicerContext
    ) -> pb.BulkCreateBookingResponse:
        items = request.create_booking_requests
        bulk.check_item_count(items, "create_booking_requests", bulk.MAX_CREATE_ITEMS)
        results, totals = bulk.run_items(items, self._create, return_entity=request.return_entity)
        return pb.BulkCreateBookingResponse(results=results, bulk_action_metadata=totals)

    def _create(self, request: pb.CreateBookingRequest) -> Booking:
        """CreateBooking for the caller; errors name the request's fields."""
        draft = convert.draft_from_request(request)
        _check_shape(draft)
        return _on_booking(lambda: self._creator.create(draft, current_principal()))

    @override
    def JoinWaitingList(
        self, request: pb.JoinWaitingListRequest, context: grpc.ServicerContext
    ) -> pb.JoinWaitingListResponse:
        draft = convert.draft_from_join_request(request)
        _check_shape(draft)
        booking = _on_booking(lambda: self._creator.join_waiting_list(draft, current_principal()))
        return pb.JoinWaitingListResponse(booking=convert.booking_to_proto(booking))

    @override
    def CreateHold(
        self, request: pb.CreateHoldRequest, context: grpc.ServicerContext
    ) -> pb.CreateHoldResponse:
        draft, ttl = holds.draft_from_hold_request(request)
        violations = booking_violations(draft) + request_violations(draft)
        if violations:
            raise InvalidArgument.of(violations)
        hold = self._holds.create(current_principal(), draft, ttl)
        return pb.CreateHoldResponse(hold=holds.hold_to_proto(hold))

    @override
    def ReleaseHold(
        self, request: pb.ReleaseHoldRequest, context: grpc.ServicerContext
    ) -> pb.ReleaseHoldResponse:
        hold = self._holds.release(current_principal(), request.hold_id)
        return pb.ReleaseHoldResponse(hold=holds.hold_to_proto(hold))

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
        bookings, last = self._reader.query(principal, query, request.page_token)
        page, last = _within_page_bytes(bookings, last, query.order)
        return pb.QueryBookingsResponse(
            bookings=page, next_page_token=self._reader.next_page_token(principal, query, last)
        )

    # --- lifecycle ---

    @override
    def ConfirmOrDeclineBooking(
        self, request: pb.ConfirmOrDeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.ConfirmOrDeclineBookingResponse:
        booking = self._confirm_or_decline(request)
        return pb.ConfirmOrDeclineBookingResponse(booking=convert.booking_to_proto(booking))

    @override
    def BulkConfirmOrDeclineBooking(
        self, request: pb.BulkConfirmOrDeclineBookingRequest, context: grpc.ServicerContext
    ) -> pb.BulkConfirmOrDeclineBookingResponse:
        bulk.check_item_count(request.details, "details", bulk.MAX_CONFIRM_ITEMS)
        results, totals = bulk.run_items(
            request.details,
            self._confirm_or_decline,
            return_entity=request.return_entity,
            item_id=lambda item: item.booking_id,
        )
        return pb.BulkConfirmOrDeclineBookingResponse(results=results, bulk_action_metadata=totals)

    def _confirm_or_decline(self, request: pb.ConfirmOrDeclineBookingRequest) -> Booking:
        return self._lifecycle.confirm_or_decline(
            current_principal(),
            booking_id_of(request),
            payment_status=convert.payment_status(request.payment_status, "payment_status"),
            revision=request.revision,
        )

    @override
    def MarkBookingAsPending(
        self, request: pb.MarkBookingAsPendingRequest, context: grpc.ServicerContext
    ) -> pb.MarkBookingAsPendingResponse:
        booking = self._lifecycle.mark_pending(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            payment_status=convert.payment_status(request.payment_status, "payment_status"),
            notification=notification_of(request),
        )
        return pb.MarkBookingAsPendingResponse(booking=convert.booking_to_proto(booking))

    @override
    def UpdateNumberOfParticipants(
        self, request: pb.UpdateNumberOfParticipantsRequest, context: grpc.ServicerContext
    ) -> pb.UpdateNumberOfParticipantsResponse:
        which = request.WhichOneof("participants_info")
        booking = self._participants.update(
            current_principal(),
            booking_id_of(request),
            revision=request.revision,
            total_participants=(
                request.total_participants if which == "total_participants" else None
            ),
            participants_choices=(
                convert.choices_from_proto(request.participants_choices)
                if which == "participants_choices"
                else None
            ),
        )
        return pb.UpdateNumberOfParticipantsResponse(booking=convert.booking_to_proto(booking))

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


def _on_booking(call: Callable[[], Booking]) -> Booking:
    """Run a use case on the request's booking: its errors name fields under "booking",
    except those about the request's own fields."""
    try:
        return call()
    except RequestFieldError:
        raise
    except DomainError as error:
        raise error.with_field_prefix(_BOOKING) from error


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
