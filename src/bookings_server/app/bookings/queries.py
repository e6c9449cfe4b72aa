"""GetBooking and QueryBookings: reads of one snapshot of the caller's site."""

from __future__ import annotations

from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking import Booking
from bookings_server.domain.booking_query import BookingQuery, PagePosition
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.identity import Principal


class BookingReader:
    """Reads bookings of the principal's site."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def get(self, principal: Principal, booking_id: str) -> Booking:
        """The booking; NotFound (BOOKING_NOT_FOUND) for unknown ids and other sites' ids."""
        if not booking_id:
            raise InvalidArgument.field("booking_id", "is required")
        with self._uow.read(principal.site_id) as tx:
            return tx.bookings.get_booking(booking_id)

    def query(
        self, principal: Principal, query: BookingQuery
    ) -> tuple[list[Booking], PagePosition | None]:
        """One page of bookings and, if more follow, the position of the page's last one."""
        with self._uow.read(principal.site_id) as tx:
            return tx.bookings.query_bookings(query)
