"""QueryAvailability request validation, keyset paging and page tokens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from availability_builders import appointment_service, hours, staff_member, utc

from bookings_server.domain.availability import staff_days
from bookings_server.domain.availability.entries import AvailabilityData, EntryPosition
from bookings_server.domain.availability.paging import decode_position, encode_position
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery, validate_query
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.errors import InvalidArgument, NotFound
from bookings_server.domain.page_tokens import INVALID_PAGE_TOKEN, PageTokenCodec

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


def test_a_well_formed_query_is_valid() -> None:
    validate_query(QUERY)


def test_a_service_id_is_required() -> None:
    assert violated_fields(replace(QUERY, service_ids=())) == ["service_id"]
    assert violated_fields(replace(QUERY, service_ids=("haircut", ""))) == ["service_id"]


def test_a_query_names_at_most_50_services_and_100_resources() -> None:
    validate_query(replace(QUERY, service_ids=("s",) * 50, resource_ids=("r",) * 100))
    assert violated_fields(replace(QUERY, service_ids=("s",) * 51)) == ["service_id"]
    assert violated_fields(replace(QUERY, resource_ids=("r",) * 101)) == ["resource_id"]


def test_start_and_end_are_required() -> None:
    assert violated_fields(replace(QUERY, start=None, end=None)) == ["start_date", "end_date"]


@pytest.mark.parametrize("end", [utc(2026, 5, 3), utc(2026, 5, 4)])
def test_end_must_be_after_start(end) -> None:
    assert violated_fields(replace(QUERY, end=end)) == ["end_date"]


def test_the_range_is_capped_at_31_days() -> None:
    validate_query(replace(QUERY, end=QUERY.start + timedelta(days=31)))
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


def collect_pages(query: AvailabilityQuery, data: AvailabilityData = DATA) -> list[list[str]]:
    pages = []
    after = None
    while True:
        page = query_availability(query, data, NOW, after)
        pages.append([entry.local_start for entry in page.entries])
        if page.next_position is None:
            return pages
        after = page.next_position


def test_pages_cover_every_entry_once_in_order() -> None:
    everything = query_availability(QUERY, DATA, NOW).entries
    assert len(everything) == 16
    pages = collect_pages(replace(QUERY, page_size=5))
    assert [len(page) for page in pages] == [5, 5, 5, 1]
    assert [start for page in pages for start in page] == [e.local_start for e in everything]


def test_an_exactly_full_last_page_has_no_next_position() -> None:
    assert [len(page) for page in collect_pages(replace(QUERY, page_size=8))] == [8, 8]


def test_page_size_defaults_to_100_and_is_capped_at_1000() -> None:
    month = replace(QUERY, end=QUERY.start + timedelta(days=31))
    data = replace(DATA, staff={"staff-1": staff_member(working_hours=hours("00:00", None))})
    assert len(query_availability(month, data, NOW).entries) == 100
    assert len(query_availability(replace(month, page_size=5000), data, NOW).entries) == 744


def test_the_page_size_may_change_between_pages() -> None:
    first = query_availability(replace(QUERY, page_size=3), DATA, NOW)
    rest = query_availability(QUERY, DATA, NOW, first.next_position)
    assert len(rest.entries) == 13


def test_the_next_page_starts_after_the_last_entry_even_if_earlier_ones_were_booked() -> None:
    first = query_availability(replace(QUERY, page_size=3), DATA, NOW)
    taken = first.entries[0]
    busy = {"staff-1": [BusyInterval(taken.start, taken.start + timedelta(hours=1))]}
    second = query_availability(QUERY, replace(DATA, busy=busy), NOW, first.next_position)
    everything = query_availability(QUERY, DATA, NOW).entries
    assert second.entries == everything[3:]


def test_a_position_past_the_last_entry_gives_an_empty_last_page() -> None:
    far = utc(2030, 1, 1)
    after = EntryPosition(False, (far, far, "", "", "", ""))
    page = query_availability(QUERY, DATA, NOW, after)
    assert page.entries == () and page.next_position is None


def test_reading_every_page_generates_each_slot_a_bounded_number_of_times(monkeypatch) -> None:
    """Keyset paging: a page generates from where the previous one ended, so reading all
    pages costs what one page of everything costs (offset paging regenerated every earlier
    page: quadratic)."""
    generated = 0
    real = staff_days.iter_slot_starts

    def counting(*args, **kwargs):
        nonlocal generated
        for start in real(*args, **kwargs):
            generated += 1
            yield start

    monkeypatch.setattr(staff_days, "iter_slot_starts", counting)
    month = replace(QUERY, end=QUERY.start + timedelta(days=31), page_size=1)
    data = replace(DATA, staff={"staff-1": staff_member(working_hours=hours("00:00", None))})
    pages = collect_pages(month, data)
    assert len(pages) == 744
    assert generated <= 3 * 744


CODEC = PageTokenCodec(b"availability test key".ljust(32, b"."))


def token_after_first_page(query: AvailabilityQuery, site_id: str = "site-a") -> str:
    first = query_availability(replace(query, page_size=5), DATA, NOW)
    assert first.next_position is not None
    return encode_position(CODEC, site_id, query, first.next_position)


def test_a_token_holds_the_position_of_the_pages_last_entry() -> None:
    first = query_availability(replace(QUERY, page_size=5), DATA, NOW)
    token = token_after_first_page(QUERY)
    assert decode_position(CODEC, "site-a", replace(QUERY, page_token=token)) == first.next_position
    assert decode_position(CODEC, "site-a", QUERY) is None


def refusal(query: AvailabilityQuery, site_id: str = "site-a") -> tuple[str, list[str]]:
    with pytest.raises(InvalidArgument) as raised:
        decode_position(CODEC, site_id, query)
    return raised.value.reason, [v.field for v in raised.value.violations]


REFUSED = (INVALID_PAGE_TOKEN, ["page_token"])


@pytest.mark.parametrize(
    "change",
    [
        {"end": utc(2026, 5, 7)},
        {"timezone": "Europe/Paris"},
        {"resource_ids": ("staff-1",)},
        {"bookable": True},
        {"min_open_spots": 1},
        {"slots_per_day": 3},
        {"merge_staff": True},
    ],
)
def test_a_token_from_a_request_with_other_selecting_fields_is_refused(change) -> None:
    token = token_after_first_page(QUERY)
    assert refusal(replace(QUERY, page_token=token, **change)) == REFUSED


def test_a_token_from_another_site_is_refused() -> None:
    token = token_after_first_page(QUERY, site_id="site-b")
    assert refusal(replace(QUERY, page_token=token)) == REFUSED


@pytest.mark.parametrize("token", ["garbage", "!!!", "eyJ2IjoxfQ", "W10"])
def test_a_malformed_token_is_refused(token: str) -> None:
    assert refusal(replace(QUERY, page_token=token)) == REFUSED
