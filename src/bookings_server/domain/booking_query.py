"""QueryBookings: the filter, the order, and keyset page tokens.

A page token records the sort key and id of the last booking returned, signed
(domain/page_tokens.py) for the caller's site and a fingerprint of the filter and order it was
issued for: the next page starts strictly after that booking (stable under concurrent
inserts), and a token that was edited, or is reused with another query or on another site, is
refused.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from bookings_server.domain.booking import Booking, BookingStatus
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.page_tokens import PageTokenCodec, TokenFields

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_FILTER_VALUES = 100


class BookingOrder(enum.Enum):
    START_DATE_ASC = "START_DATE_ASC"
    START_DATE_DESC = "START_DATE_DESC"
    CREATED_DATE_ASC = "CREATED_DATE_ASC"
    CREATED_DATE_DESC = "CREATED_DATE_DESC"

    @property
    def by_start(self) -> bool:
        return self in (BookingOrder.START_DATE_ASC, BookingOrder.START_DATE_DESC)

    @property
    def descending(self) -> bool:
        return self in (BookingOrder.START_DATE_DESC, BookingOrder.CREATED_DATE_DESC)


@dataclass(frozen=True)
class BookingFilter:
    """Empty fields do not filter. `contact_email` is compared case-insensitively."""

    statuses: frozenset[BookingStatus] = frozenset()
    service_ids: frozenset[str] = frozenset()
    start_from: datetime | None = None
    start_to: datetime | None = None
    contact_email: str = ""

    def fingerprint(self, order: BookingOrder) -> str:
        canonical = json.dumps(
            [
                sorted(s.value for s in self.statuses),
                sorted(self.service_ids),
                self.start_from.isoformat() if self.start_from else None,
                self.start_to.isoformat() if self.start_to else None,
                self.contact_email.lower(),
                order.value,
            ]
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PagePosition:
    """Where the previous page ended: its last booking's sort key and id."""

    sort_key: datetime
    booking_id: str


@dataclass(frozen=True)
class BookingQuery:
    filter: BookingFilter
    order: BookingOrder
    page_size: int
    after: PagePosition | None = None


def position_of(booking: Booking, order: BookingOrder) -> PagePosition:
    """The position of a page that ends with `booking` (a stored booking)."""
    sort_key = booking.start if order.by_start else booking.created_date
    assert sort_key is not None, "stored bookings have a start and a creation date"
    return PagePosition(sort_key, booking.id)


def check_filter(query_filter: BookingFilter) -> None:
    if len(query_filter.service_ids) > MAX_FILTER_VALUES:
        raise InvalidArgument.field(
            "filter.service_ids", f"at most {MAX_FILTER_VALUES} service ids"
        )
    start_from, start_to = query_filter.start_from, query_filter.start_to
    if start_from is not None and start_to is not None and start_from > start_to:
        raise InvalidArgument.field("filter.start_to", "must not be before filter.start_from")


def page_size(requested: int) -> int:
    """0 means the default; above the maximum is coerced down (AIP-158); negative is invalid."""
    if requested < 0:
        raise InvalidArgument.field("page_size", "must not be negative")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def _token_scope(query_filter: BookingFilter, order: BookingOrder) -> tuple[str, str]:
    return ("bookings", query_filter.fingerprint(order))


def encode_page_token(
    tokens: PageTokenCodec,
    site_id: str,
    position: PagePosition,
    query_filter: BookingFilter,
    order: BookingOrder,
) -> str:
    """The token of the page after `position`, for this filter and order on `site_id`."""
    scope = _token_scope(query_filter, order)
    return tokens.encode(site_id, scope, (position.sort_key, position.booking_id))


def decode_page_token(
    tokens: PageTokenCodec,
    site_id: str,
    token: str,
    query_filter: BookingFilter,
    order: BookingOrder,
) -> PagePosition | None:
    """The position a token holds; None without one. InvalidArgument INVALID_PAGE_TOKEN for a
    token not issued for this filter and order on `site_id`."""
    return tokens.decode(token, site_id, _token_scope(query_filter, order), _read_position)


def _read_position(fields: TokenFields) -> PagePosition:
    return PagePosition(fields.instant(), fields.text())
