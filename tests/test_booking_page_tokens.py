"""QueryBookings page tokens: a booking's position, bound to the filter, the order and the site."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bookings_server.domain.booking_query import (
    BookingFilter,
    BookingOrder,
    PagePosition,
    decode_page_token,
    encode_page_token,
)
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.page_tokens import INVALID_PAGE_TOKEN, PageTokenCodec

CODEC = PageTokenCodec.from_secret("booking query tests")
POSITION = PagePosition(datetime(2030, 5, 1, 9, tzinfo=UTC), "b-1")
FILTER = BookingFilter(contact_email="a@example.com")
ORDER = BookingOrder.START_DATE_ASC
TOKEN = encode_page_token(CODEC, "site-a", POSITION, FILTER, ORDER)


def test_a_token_round_trips_for_the_same_filter_order_and_site() -> None:
    assert decode_page_token(CODEC, "site-a", TOKEN, FILTER, ORDER) == POSITION
    assert decode_page_token(CODEC, "site-a", "", FILTER, ORDER) is None


def test_the_contact_email_filter_is_the_same_in_any_case() -> None:
    shouting = BookingFilter(contact_email="A@EXAMPLE.COM")
    assert decode_page_token(CODEC, "site-a", TOKEN, shouting, ORDER) == POSITION


@pytest.mark.parametrize(
    ("site", "query_filter", "order"),
    [
        ("site-b", FILTER, ORDER),
        ("site-a", BookingFilter(), ORDER),
        ("site-a", FILTER, BookingOrder.START_DATE_DESC),
        ("site-a", FILTER, BookingOrder.CREATED_DATE_ASC),
    ],
)
def test_a_token_of_another_site_filter_or_order_is_refused(
    site: str, query_filter: BookingFilter, order: BookingOrder
) -> None:
    with pytest.raises(InvalidArgument) as raised:
        decode_page_token(CODEC, site, TOKEN, query_filter, order)
    assert raised.value.reason == INVALID_PAGE_TOKEN
