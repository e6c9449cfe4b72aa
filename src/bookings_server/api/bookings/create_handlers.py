"""The CreateBooking, GetBooking and QueryBookings RPCs of bookings.v1.BookingsService."""

from __future__ import annotations

import grpc
from bookings.v1 import booking_pb2, bookings_service_pb2

from bookings_server.api.bookings import convert as booking_convert
from bookings_server.api.context import current_principal
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.domain.booking import Booking
from bookings_server.domain.booking_query import (
    BookingOrder,
    PagePosition,
    encode_page_token,
    position_of,
)
from bookings_server.domain.errors import InvalidArgument
from bookings_server.store import booking_repository
from bookings_server.store.database import Database

#: Bookings per QueryBookings response, in serialized bytes: half the default 4 MiB message
#: limit; a booking is at most about 1 MB (domain/booking_rules.py size limits).
MAX_PAGE_BYTES = 2 * 1024 * 1024


class CreateBookingHandlers:
    """Mixin of BookingsServicer: creating and reading bookings."""

    _database: Database
    _creator: BookingCreator

    def CreateBooking(
        self, request: bookings_service_pb2.CreateBookingRequest, context: grpc.ServicerContext
    ) -> bookings_service_pb2.CreateBookingResponse:
        principal = current_principal()
        draft = booking_convert.draft_from_request(request)
        booking = self._creator.create(draft, principal)
        return bookings_service_pb2.CreateBookingResponse(
            booking=booking_convert.booking_to_proto(booking)
        )

    def GetBooking(
        self, request: bookings_service_pb2.GetBookingRequest, context: grpc.ServicerContext
    ) -> bookings_service_pb2.GetBookingResponse:
        principal = current_principal()
        if not request.booking_id:
            raise InvalidArgument.field("booking_id", "is required")
        with self._database.read() as session:
            booking = booking_repository.get_booking(session, principal.site_id, request.booking_id)
        return bookings_service_pb2.GetBookingResponse(
            booking=booking_convert.booking_to_proto(booking)
        )

    def QueryBookings(
        self, request: bookings_service_pb2.QueryBookingsRequest, context: grpc.ServicerContext
    ) -> bookings_service_pb2.QueryBookingsResponse:
        principal = current_principal()
        query = booking_convert.query_from_request(request)
        with self._database.read() as session:
            bookings, last = booking_repository.query_bookings(session, principal.site_id, query)
        page, last = _within_page_bytes(bookings, last, query.order)
        return bookings_service_pb2.QueryBookingsResponse(
            bookings=page,
            next_page_token=(
                "" if last is None else encode_page_token(last, query.filter, query.order)
            ),
        )


def _within_page_bytes(
    bookings: list[Booking], last: PagePosition | None, order: BookingOrder
) -> tuple[list[booking_pb2.Booking], PagePosition | None]:
    """The bookings as messages, cut after MAX_PAGE_BYTES so the response fits a gRPC message
    (AIP-158 allows a page shorter than page_size); the position where the page ends."""
    page: list[booking_pb2.Booking] = []
    size = 0
    for index, booking in enumerate(bookings):
        message = booking_convert.booking_to_proto(booking)
        size += message.ByteSize()
        if page and size > MAX_PAGE_BYTES:
            return page, position_of(bookings[index - 1], order)
        page.append(message)
    return page, last
