"""GetBooking and QueryBookings: reads of one snapshot of the caller's site."""

from __future__ import annotations

from dataclasses import replace

from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking import Booking
from bookings_server.domain.booking_query import (
    BookingQuery,
    PagePosition,
    decode_page_token,
    encode_page_token,
)
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.identity import Principal
from bookings_server.domain.page_tokens import PageTokenCodec


class BookingReader:
    """Reads bookings of the principal's site; QueryBookings page tokens are signed by
    `page_tokens`."""

    def __init__(self, uow: UnitOfWork, *, page_tokens: PageTokenCodec) -> None:
        self._uow = uow
        self._tokens = page_tokens

    def get(self, principal: Principal, booking_id: str) -> Booking:
        """The booking; NotFound (BOOKING_NOT_FOUND) for unknown ids and other sites' ids."""
        if not booking_id:
            raise InvalidArgument.field("booking_id", "is required")
        with self._uow.read(principal.site_id) as tx:
            return tx.bookings.get_booking(booking_id)

    def query(
        self, principal: Principal, query: BookingQuery, page_token: str = ""
    ) -> tuple[list[Booking], PagePosition | None]:
        """The page of bookings after `page_token` (InvalidArgument INVALID_PAGE_TOKEN unless
        issued for this filter and order on this site) and, if more follow, the position of
        the page's last one."""
        after = decode_page_token(
            self._tokens, principal.site_id, page_token, query.filter, query.order
        )
        with self._uow.read(principal.site_id) as tx:
            return tx.bookings.query_bookings(replace(query, after=after))

    def next_page_token(
        self, principal: Principal, query: BookingQuery, last: PagePosition | None
    ) -> str:
        """The token of the page after `last` ("" when no page follows)."""
        if last is None:
            return ""
        return encode_page_token(self._tokens, principal.site_id, last, query.filter, query.order)
