"""The CreateBooking, GetBooking and QueryBookings RPCs of bookings.v1.BookingsService."""

from __future__ import annotations

import grpc
from bookings.v1 import bookings_service_pb2

from bookings_server.api import booking_convert
from bookings_server.api.context import current_principal
from bookings_server.api.create_booking import BookingCreator
from bookings_server.domain.booking_query import encode_page_token
from bookings_server.domain.errors import InvalidArgument
from bookings_server.store import booking_repository
from bookings_server.store.database import Database


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
        return bookings_service_pb2.QueryBookingsResponse(
            bookings=[booking_convert.booking_to_proto(b) for b in bookings],
            next_page_token=(
                "" if last is None else encode_page_token(last, query.filter, query.order)
            ),
        )
