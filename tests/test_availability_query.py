"""QueryAvailability request validation and paging."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from availability_builders import appointment_service, hours, staff_member, utc

from bookings_server.domain.availability.entries import AvailabilityData
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import (
    AvailabilityQuery,
    encode_page_token,
    validate_query,
)
from bookings_server.domain.errors import InvalidArgument, NotFound

NOW = utc(2026, 5, 1)
QUERY = AvailabilityQuery(service_ids=("haircut",), start=utc(2026, 5, 4), end=utc(2026, 5, 6))
DATA = AvailabilityData(
    services={"haircut": appointment_service()},
    staff={"staff-1": staff_member(working_hours=hours("09:00", "17:00"))},
)


def violated_fields(query: AvailabilityQuery) -> list[str]:
    with pytest.raises(InvalidArgument) as raised:
        validate_query(query)
    return [violation.field for violation in raised.value.violations]


def test_a_well_formed_query_is_valid_and_starts_at_offset_zero() -> None:
    assert validate_query(QUERY) == 0


def test_a_service_id_is_required() -> None:
    assert violated_fields(replace(QUERY, service_ids=())) == ["service_id"]
    assert violated_fields(replace(QUERY, service_ids=("haircut", ""))) == ["service_id"]


def test_a_query_names_at_most_50_services_and_100_resources() -> None:
    assert validate_query(replace(QUERY, service_ids=("s",) * 50, resource_ids=("r",) * 100)) == 0
    assert violated_fields(replace(QUERY, service_ids=("s",) * 51)) == ["service_id"]
    assert violated_fields(replace(QUERY, resource_ids=("r",) * 101)) == ["resource_id"]


def test_start_and_end_are_required() -> None:
    assert violated_fields(replace(QUERY, start=None, end=None)) == ["start_date", "end_date"]


@pytest.mark.parametrize("end", [utc(2026, 5, 3), utc(2026, 5, 4)])
def test_end_must_be_after_start(end) -> None:
    assert violated_fields(replace(QUERY, end=end)) == ["end_date"]


def test_the_range_is_capped_at_31_days() -> None:
    assert validate_query(replace(QUERY, end=QUERY.start + timedelta(days=31))) == 0
    too_long = replace(QUERY, end=QUERY.start + timedelta(days=31, seconds=1))
    assert violated_fields(too_long) == ["end_date"]


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "America", "../etc/passwd", "+05:00"])
def test_an_unknown_zone_is_invalid(zone: str) -> None:
    assert violated_fields(replace(QUERY, timezone=zone)) == ["timezone"]


def test_negative_numbers_are_invalid() -> None:
    query = replace(QUERY, min_open_spots=-1, slots_per_day=-1, page_size=-1)
    assert violated_fields(query) == ["open_spots", "slots_per_day", "page_size"]


def test_every_invalid_field_is_reported_at_once() -> None:
    query = replace(QUERY, service_ids=(), timezone="Nowhere/Land", end=QUERY.start)
    assert violated_fields(query) == ["service_id", "end_date", "timezone"]


def test_an_unknown_service_is_not_found() -> None:
    with pytest.raises(NotFound):
        query_availability(replace(QUERY, service_ids=("haircut", "massage")), DATA, NOW)


def collect_pages(query: AvailabilityQuery) -> list[list[str]]:
    pages = []
    while True:
        page = query_availability(query, DATA, NOW)
        pages.append([entry.local_start for entry in page.entries])
        if not page.next_page_token:
            return pages
        query = replace(query, page_token=page.next_page_token)


def test_pages_cover_every_entry_once_in_order() -> None:
    everything = query_availability(QUERY, DATA, NOW).entries
    assert len(everything) == 16
    pages = collect_pages(replace(QUERY, page_size=5))
    assert [len(page) for page in pages] == [5, 5, 5, 1]
    assert [start for page in pages for start in page] == [e.local_start for e in everything]


def test_an_exactly_full_last_page_has_no_next_token() -> None:
    assert [len(page) for page in collect_pages(replace(QUERY, page_size=8))] == [8, 8]


def test_page_size_defaults_to_100_and_is_capped_at_1000() -> None:
    month = replace(QUERY, end=QUERY.start + timedelta(days=31))
    data = replace(DATA, staff={"staff-1": staff_member(working_hours=hours("00:00", None))})
    assert len(query_availability(month, data, NOW).entries) == 100
    assert len(query_availability(replace(month, page_size=5000), data, NOW).entries) == 744


def test_the_page_size_may_change_between_pages() -> None:
    first = query_availability(replace(QUERY, page_size=3), DATA, NOW)
    rest = query_availability(replace(QUERY, page_token=first.next_page_token), DATA, NOW)
    assert len(rest.entries) == 13


def test_a_token_from_another_request_is_invalid() -> None:
    token = query_availability(replace(QUERY, page_size=5), DATA, NOW).next_page_token
    other = replace(QUERY, end=utc(2026, 5, 7), page_token=token)
    with pytest.raises(InvalidArgument) as raised:
        query_availability(other, DATA, NOW)
    assert [v.field for v in raised.value.violations] == ["page_token"]


@pytest.mark.parametrize("token", ["garbage", "!!!", "eyJ2IjoxfQ", "W10"])
def test_a_malformed_token_is_invalid(token: str) -> None:
    assert violated_fields(replace(QUERY, page_token=token)) == ["page_token"]


def test_a_token_past_the_end_gives_an_empty_last_page() -> None:
    query = replace(QUERY, page_token=encode_page_token(QUERY, 500))
    page = query_availability(query, DATA, NOW)
    assert page.entries == () and page.next_page_token == ""
