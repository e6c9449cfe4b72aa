"""QueryBookings: the filter, the order, and opaque keyset page tokens.

A page token records the sort key and id of the last booking returned plus a fingerprint of
the filter and order it was issued for, so the next page starts strictly after that booking
(stable under concurrent inserts) and a token reused with another query is refused.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bookings_server.domain.booking import Booking, BookingStatus
from bookings_server.domain.errors import InvalidArgument

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


def encode_page_token(
    position: PagePosition, query_filter: BookingFilter, order: BookingOrder
) -> str:
    body = {
        "k": position.sort_key.isoformat(),
        "i": position.booking_id,
        "f": query_filter.fingerprint(order),
    }
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")


def decode_page_token(
    token: str, query_filter: BookingFilter, order: BookingOrder
) -> PagePosition | None:
    """The position a token encodes; INVALID_ARGUMENT if it is garbage or for another query."""
    if not token:
        return None
    not_issued = InvalidArgument.field("page_token", "is not a token this service issued")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
        given, booking_id = datetime.fromisoformat(body["k"]), body["i"]
        fingerprint = body["f"]
        # Naive or unrepresentable in UTC (year 0 or 10000 once shifted): not ours.
        sort_key = given.astimezone(UTC) if given.tzinfo is not None else None
    except (
        binascii.Error,
        ValueError,
        TypeError,
        KeyError,
        UnicodeDecodeError,
        OverflowError,
    ) as error:
        raise not_issued from error
    if sort_key is None or not isinstance(booking_id, str):
        raise not_issued
    position = PagePosition(sort_key, booking_id)
    if fingerprint != query_filter.fingerprint(order):
        raise InvalidArgument.field("page_token", "was issued for a different filter or order")
    return position
