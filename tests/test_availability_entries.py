"""QueryAvailability entries: classes, courses, policy, filters, ordering, slots_per_day."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from availability_builders import (
    appointment_service,
    group_service,
    hours,
    local,
    session,
    staff_member,
    utc,
)

from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityEntry,
    Occupancy,
    WaitingListSpots,
    booking_window,
)
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.booking import (
    SlotResource,
)
from bookings_server.domain.catalog import BookingPolicy, ServiceType, WaitingListPolicy
from bookings_server.domain.policy import PolicyViolations

NOW = utc(2026, 5, 1)
MONDAY = utc(2026, 5, 4)
YOGA = group_service("yoga", capacity=10)
YOGA_SESSIONS = [
    session("yoga-mon", YOGA, utc(2026, 5, 4, 18), staff_id="staff-1"),
    session("yoga-tue", YOGA, utc(2026, 5, 5, 18), capacity=4, staff_id="staff-2"),
    session("yoga-next-week", YOGA, utc(2026, 5, 11, 18)),
]
HAIRCUT = appointment_service("haircut", staff_ids=("staff-1", "staff-2"))
STAFF = {
    "staff-1": staff_member("staff-1", working_hours=hours("09:00", "11:00")),
    "staff-2": staff_member("staff-2", working_hours=hours("10:00", "12:00")),
}


def query(*service_ids: str, days: int = 2, **fields) -> AvailabilityQuery:
    return AvailabilityQuery(
        service_ids=service_ids, start=MONDAY, end=MONDAY + timedelta(days=days), **fields
    )


def entries(q: AvailabilityQuery, data: AvailabilityData) -> tuple[AvailabilityEntry, ...]:
    return query_availability(q, data, NOW).entries


def yoga_data(**occupancy: Occupancy) -> AvailabilityData:
    return AvailabilityData(
        services={"yoga": YOGA}, staff=STAFF, sessions=YOGA_SESSIONS, session_occupancy=occupancy
    )


def test_a_class_session_entry_counts_capacity_and_taken_spots() -> None:
    found = entries(query("yoga"), yoga_data(**{"yoga-mon": Occupancy(taken=3)}))
    assert [(e.slot.session_id, e.total_spots, e.open_spots) for e in found] == [
        ("yoga-mon", 10, 7),
        ("yoga-tue", 4, 4),
    ]
    monday = found[0]
    assert monday.bookable and monday.waiting_list is None
    assert monday.slot.resource == SlotResource(
        "staff-1", "Name of staff-1", "staff-1@example.com", "schedule-staff-1"
    )
    assert monday.slot.schedule_id == YOGA.schedule_id


def test_a_full_class_is_listed_unbookable_after_the_bookable_ones() -> None:
    found = entries(query("yoga"), yoga_data(**{"yoga-mon": Occupancy(taken=10)}))
    assert [(e.slot.session_id, e.bookable, e.open_spots) for e in found] == [
        ("yoga-tue", True, 4),
        ("yoga-mon", False, 0),
    ]


def test_waiting_list_figures_when_the_service_has_one() -> None:
    waitlisted = replace(YOGA, waiting_list=WaitingListPolicy(enabled=True, capacity=5))
    data = replace(
        yoga_data(**{"yoga-mon": Occupancy(taken=10, waiting=2)}), services={"yoga": waitlisted}
    )
    by_session = {e.slot.session_id: e for e in entries(query("yoga"), data)}
    assert by_session["yoga-mon"].waiting_list == WaitingListSpots(5, 3)
    assert by_session["yoga-tue"].waiting_list == WaitingListSpots(5, 5)


def course_data(**occupancy: Occupancy) -> AvailabilityData:
    course = group_service("pottery", ServiceType.COURSE, capacity=6)
    sessions = [
        session(f"pottery-{week}", course, utc(2026, 5, 4 + 7 * week, 17), minutes=90)
        for week in range(4)
    ]
    return AvailabilityData(
        services={"pottery": course}, sessions=sessions, schedule_occupancy=occupancy
    )


def test_a_course_is_one_entry_from_first_start_to_last_end_with_remaining_spots() -> None:
    data = course_data(**{"schedule-pottery": Occupancy(taken=4)})
    [course] = entries(query("pottery", days=1), data)
    assert (course.slot.start, course.slot.end) == (utc(2026, 5, 4, 17), utc(2026, 5, 25, 18, 30))
    assert (course.total_spots, course.open_spots, course.bookable) == (6, 2, True)
    assert course.schedule_id == "schedule-pottery" and course.slot.session_id == ""


def test_a_course_running_during_the_range_is_listed_but_too_late_once_started() -> None:
    later = AvailabilityQuery(("pottery",), utc(2026, 5, 12), utc(2026, 5, 13))
    [course] = query_availability(later, course_data(), utc(2026, 5, 10)).entries
    assert course.violations == PolicyViolations(too_late_to_book=True)
    assert not course.bookable
    after = AvailabilityQuery(("pottery",), utc(2026, 5, 26), utc(2026, 5, 27))
    assert query_availability(after, course_data(), NOW).entries == ()


def test_appointment_slots_of_every_staff_member_minus_their_bookings() -> None:
    busy = {"staff-1": [BusyInterval(utc(2026, 5, 4, 9), utc(2026, 5, 4, 10))]}
    data = AvailabilityData(services={"haircut": HAIRCUT}, staff=STAFF, busy=busy)
    found = entries(query("haircut", days=1), data)
    assert [(e.slot.resource.id, e.local_start) for e in found] == [
        ("staff-1", "2026-05-04T10:00:00"),
        ("staff-2", "2026-05-04T10:00:00"),
        ("staff-2", "2026-05-04T11:00:00"),
    ]
    assert all((e.total_spots, e.open_spots, e.bookable) == (1, 1, True) for e in found)


def test_policy_violations_make_entries_unbookable() -> None:
    policy = BookingPolicy(min_notice=timedelta(hours=2), max_advance=timedelta(days=3))
    yoga = replace(YOGA, policy=policy)
    data = replace(yoga_data(), services={"yoga": yoga})
    now = utc(2026, 5, 4, 16, 30)
    wide = AvailabilityQuery(("yoga",), MONDAY, MONDAY + timedelta(days=14))
    found = {e.slot.session_id: e for e in query_availability(wide, data, now).entries}
    assert found["yoga-mon"].violations == PolicyViolations(too_late_to_book=True)
    assert found["yoga-tue"].violations == PolicyViolations()
    assert found["yoga-next-week"].violations == PolicyViolations(too_early_to_book=True)
    assert [e.bookable for e in found.values()] == [True, False, False]


def test_a_service_without_online_booking_is_listed_unbookable() -> None:
    data = replace(yoga_data(), services={"yoga": replace(YOGA, online_booking_enabled=False)})
    found = entries(query("yoga"), data)
    assert all(e.violations.book_online_disabled and not e.bookable for e in found)


def test_past_slots_are_too_late() -> None:
    found = query_availability(query("yoga"), yoga_data(), utc(2026, 5, 4, 20)).entries
    assert [(e.slot.session_id, e.violations.too_late_to_book) for e in found] == [
        ("yoga-tue", False),
        ("yoga-mon", True),
    ]


def test_filters_by_resource_bookable_and_open_spots() -> None:
    data = replace(
        yoga_data(**{"yoga-mon": Occupancy(taken=10)}),
        services={"yoga": YOGA, "haircut": HAIRCUT},
    )

    def ids(**fields) -> list[str]:
        found = entries(query("yoga", "haircut", days=1, **fields), data)
        return [e.slot.session_id or f"{e.slot.resource.id}@{e.start.hour}" for e in found]

    assert ids() == ["staff-1@9", "staff-1@10", "staff-2@10", "staff-2@11", "yoga-mon"]
    assert ids(resource_ids=("staff-1",)) == ["staff-1@9", "staff-1@10", "yoga-mon"]
    assert ids(bookable=False) == ["yoga-mon"]
    assert ids(bookable=True, resource_ids=("staff-2",)) == ["staff-2@10", "staff-2@11"]
    assert ids(min_open_spots=2) == []


def test_entries_sort_bookable_first_then_by_start_with_a_stable_tiebreak() -> None:
    data = replace(
        yoga_data(**{"yoga-mon": Occupancy(taken=10)}),
        services={"yoga": YOGA, "haircut": HAIRCUT},
    )
    found = entries(query("yoga", "haircut"), data)
    keys = [e.sort_key() for e in found]
    assert keys == sorted(keys)
    assert [e.bookable for e in found].index(False) == len(found) - 1


def test_slots_per_day_counts_days_in_the_requests_zone() -> None:
    zone = "America/New_York"
    kolkata = staff_member("staff-1", "Asia/Kolkata", hours("00:00", None))
    data = AvailabilityData(
        services={"haircut": appointment_service("haircut", minutes=60)},
        staff={"staff-1": kolkata},
    )
    start = local(zone, 2026, 3, 7)
    q = AvailabilityQuery(
        ("haircut",), start, local(zone, 2026, 3, 10), timezone=zone, slots_per_day=2
    )
    page = query_availability(q, data, NOW)
    assert page.timezone == zone
    assert [e.local_start for e in page.entries] == [
        "2026-03-07T00:30:00",
        "2026-03-07T01:30:00",
        "2026-03-08T00:30:00",
        "2026-03-08T01:30:00",
        "2026-03-09T00:30:00",
        "2026-03-09T01:30:00",
    ]
    all_slots = query_availability(replace(q, slots_per_day=0, page_size=1000), data, NOW)
    assert len(all_slots.entries) == 24 + 23 + 24  # 2026-03-08 is 23 hours long in New York


def test_local_times_default_to_the_first_services_zone() -> None:
    london = appointment_service("haircut", zone="Europe/London")
    data = AvailabilityData(services={"haircut": london}, staff=STAFF)
    page = query_availability(query("haircut", days=1), data, NOW)
    assert page.timezone == "Europe/London"
    assert page.entries[0].local_start == "2026-05-04T10:00:00"
    assert page.entries[0].slot.timezone == "UTC"  # the staff member's zone


def test_booking_window_reaches_far_enough_for_long_services() -> None:
    long_service = appointment_service(minutes=36 * 60, buffer_minutes=60)
    start, end = booking_window(MONDAY, MONDAY + timedelta(days=1), [long_service, YOGA])
    assert start == MONDAY - timedelta(days=1)
    assert end == MONDAY + timedelta(days=1, hours=37)
