"""QueryAvailability with merge_staff: one appointment entry per start for all staff (SPEC 9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from availability_builders import (
    appointment_service,
    group_service,
    hours,
    session,
    staff_member,
    utc,
)

from bookings_server.domain.availability.entries import AvailabilityData, AvailabilityEntry
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.booking import SlotResource
from bookings_server.domain.catalog import BlockedTime, ServiceType

NOW = utc(2026, 5, 1)
MONDAY = utc(2026, 5, 4)
#: staff-1 works 09:00-11:00, staff-2 10:00-12:00: 09:00 has one of them, 10:00 both, 11:00 one.
HAIRCUT = appointment_service("haircut", staff_ids=("staff-1", "staff-2"), zone="Europe/Paris")
STAFF = {
    "staff-1": staff_member("staff-1", working_hours=hours("09:00", "11:00")),
    "staff-2": staff_member("staff-2", working_hours=hours("10:00", "12:00")),
}
YOGA = group_service("yoga", capacity=4)
POTTERY = group_service("pottery", ServiceType.COURSE, capacity=3)


def merged(data: AvailabilityData, now=NOW, **fields) -> tuple[AvailabilityEntry, ...]:
    query = AvailabilityQuery(
        ("haircut",), MONDAY, MONDAY + timedelta(days=1), merge_staff=True, **fields
    )
    return query_availability(query, data, now).entries


def spots(found: tuple[AvailabilityEntry, ...]) -> list[tuple[int, int, int, bool]]:
    """(hour, total_spots, open_spots, bookable) of each entry, in answer order."""
    return [(e.start.hour, e.total_spots, e.open_spots, e.bookable) for e in found]


def busy_at(*hours_by_staff: tuple[str, int]) -> dict[str, list[BusyInterval]]:
    busy: dict[str, list[BusyInterval]] = {}
    for staff_id, hour in hours_by_staff:
        start = MONDAY + timedelta(hours=hour)
        busy.setdefault(staff_id, []).append(BusyInterval(start, start + timedelta(hours=1)))
    return busy


DATA = AvailabilityData(services={"haircut": HAIRCUT}, staff=STAFF)


def test_one_entry_per_start_counts_the_staff_who_offer_it_and_those_free() -> None:
    found = merged(replace(DATA, busy=busy_at(("staff-1", 10))))
    assert spots(found) == [(9, 1, 1, True), (10, 2, 1, True), (11, 1, 1, True)]


def test_a_merged_slot_has_no_resource_and_the_services_zone() -> None:
    first = merged(DATA)[0]
    assert first.slot.resource == SlotResource()
    assert first.slot.timezone == "Europe/Paris"
    assert first.slot.schedule_id == HAIRCUT.schedule_id
    assert first.slot.end - first.slot.start == timedelta(hours=1)


def test_a_start_all_offering_staff_are_booked_for_is_listed_full_and_last() -> None:
    found = merged(replace(DATA, busy=busy_at(("staff-1", 10), ("staff-2", 10))))
    assert spots(found) == [(9, 1, 1, True), (11, 1, 1, True), (10, 2, 0, False)]


def test_a_staff_member_does_not_offer_a_start_their_blocked_time_overlaps() -> None:
    blocked = (BlockedTime(MONDAY + timedelta(hours=10), MONDAY + timedelta(hours=11)),)
    staff = {**STAFF, "staff-2": replace(STAFF["staff-2"], blocked_times=blocked)}
    found = merged(replace(DATA, staff=staff))
    assert spots(found) == [(9, 1, 1, True), (10, 1, 1, True), (11, 1, 1, True)]


def test_the_resource_filter_picks_the_staff_members_before_merging() -> None:
    found = merged(replace(DATA, busy=busy_at(("staff-1", 10))), resource_ids=("staff-1",))
    assert spots(found) == [(9, 1, 1, True), (10, 1, 0, False)]


def test_a_start_the_policy_refuses_is_unbookable_with_staff_free() -> None:
    found = merged(DATA, now=MONDAY + timedelta(hours=10, minutes=30))
    assert spots(found) == [(11, 1, 1, True), (9, 1, 1, False), (10, 2, 2, False)]
    assert found[1].violations.too_late_to_book


def test_the_open_spots_and_bookable_filters_apply_to_merged_entries() -> None:
    data = replace(DATA, busy=busy_at(("staff-1", 9), ("staff-1", 10), ("staff-2", 10)))
    assert spots(merged(data, min_open_spots=1)) == [(11, 1, 1, True)]
    assert spots(merged(DATA, min_open_spots=2)) == [(10, 2, 2, True)]
    assert spots(merged(data, bookable=False)) == [(9, 1, 0, False), (10, 2, 0, False)]


def test_classes_and_courses_are_the_same_with_merge_staff() -> None:
    data = AvailabilityData(
        services={"yoga": YOGA, "pottery": POTTERY},
        staff=STAFF,
        sessions=[
            session("yoga-1", YOGA, MONDAY + timedelta(hours=9), staff_id="staff-1"),
            session("yoga-2", YOGA, MONDAY + timedelta(hours=9), staff_id="staff-2"),
            session("pottery-1", POTTERY, MONDAY + timedelta(hours=12)),
        ],
    )
    query = AvailabilityQuery(("yoga", "pottery"), MONDAY, MONDAY + timedelta(days=1))
    separate = query_availability(query, data, NOW).entries
    assert query_availability(replace(query, merge_staff=True), data, NOW).entries == separate
    assert len(separate) == 3
