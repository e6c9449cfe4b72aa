"""Appointment slots from working hours: SPEC 5's DST rules and its worked examples."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from availability_builders import hours, hours_on, local, staff_member, utc

from bookings_server.domain.availability.slots import (
    BusyInterval,
    SlotTime,
    is_offered_by_working_hours,
    open_slots,
    working_hours_slots,
)
from bookings_server.domain.catalog import BlockedTime


def local_starts(zone: str, day: date, start: str, end: str | None, minutes: int, buffer: int = 0):
    """Offered starts on `day` as "HH:MM+offset" in the staff member's zone."""
    staff = staff_member(zone=zone, working_hours=hours_on(day, start, end))
    window_start = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)) - timedelta(1)
    slots = working_hours_slots(
        staff,
        timedelta(minutes=minutes),
        timedelta(minutes=buffer),
        window_start.astimezone(UTC),
        window_start.astimezone(UTC) + timedelta(days=3),
    )
    return [slot.start.astimezone(ZoneInfo(zone)).strftime("%H:%M%z") for slot in slots]


def test_spec_example_new_york_spring_forward_gives_three_slots() -> None:
    assert local_starts("America/New_York", date(2026, 3, 8), "00:00", "04:00", 60) == [
        "00:00-0500",
        "01:00-0500",
        "03:00-0400",
    ]


def test_spec_example_new_york_fall_back_gives_four_slots() -> None:
    assert local_starts("America/New_York", date(2026, 11, 1), "00:00", "04:00", 60) == [
        "00:00-0400",
        "01:00-0400",
        "02:00-0500",
        "03:00-0500",
    ]


def test_spec_example_lord_howe_half_hour_shift() -> None:
    assert local_starts("Australia/Lord_Howe", date(2026, 10, 4), "01:00", "04:00", 45) == [
        "01:00+1030",
        "01:45+1030",
        "03:15+1100",
    ]


DST_CASES = [
    # A start inside the gap moves forward by the gap's length (02:30 -> 03:30 EDT).
    ("America/New_York", date(2026, 3, 8), "01:00", "04:00", 30, 15,
     ["01:00-0500", "01:45-0500", "03:30-0400"]),
    ("America/New_York", date(2026, 3, 8), "01:00", "04:00", 90, 0, ["01:00-0500"]),
    ("Europe/London", date(2026, 3, 29), "00:00", "03:00", 60, 0, ["00:00+0000", "02:00+0100"]),
    # The repeated hour is offered once, at its first occurrence.
    ("Europe/London", date(2026, 10, 25), "00:00", "03:00", 60, 0,
     ["00:00+0100", "01:00+0100", "02:00+0000"]),
    ("Europe/London", date(2026, 10, 25), "01:00", "02:00", 30, 0, ["01:00+0100", "01:30+0100"]),
    # Santiago changes at midnight: Saturday 24:00 -03 becomes 23:00 -04 ...
    ("America/Santiago", date(2026, 4, 4), "21:00", None, 60, 0,
     ["21:00-0300", "22:00-0300", "23:00-0300"]),
    # ... and Saturday 24:00 -04 becomes Sunday 01:00 -03: Sunday has no 00:xx.
    ("America/Santiago", date(2026, 9, 6), "00:00", "03:00", 60, 0, ["01:00-0300", "02:00-0300"]),
    ("America/Santiago", date(2026, 9, 5), "22:00", None, 60, 0, ["22:00-0400", "23:00-0400"]),
    ("Australia/Lord_Howe", date(2026, 4, 5), "01:00", "03:00", 30, 0,
     ["01:00+1100", "01:30+1100", "02:00+1030", "02:30+1030"]),
    ("Australia/Lord_Howe", date(2026, 10, 4), "01:00", "03:00", 30, 0,
     ["01:00+1030", "01:30+1030", "02:30+1100"]),
    ("Asia/Kolkata", date(2026, 3, 8), "00:00", "04:00", 60, 0,
     ["00:00+0530", "01:00+0530", "02:00+0530", "03:00+0530"]),
    ("Asia/Kolkata", date(2026, 11, 1), "00:00", "04:00", 45, 15,
     ["00:00+0530", "01:00+0530", "02:00+0530", "03:00+0530"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "minutes", "buffer", "expected"), DST_CASES
)
def test_dst_transition_slots(
    zone: str,
    day: date,
    start: str,
    end: str | None,
    minutes: int,
    buffer: int,
    expected: list[str],
) -> None:
    assert local_starts(zone, day, start, end, minutes, buffer) == expected


@pytest.mark.parametrize(
    ("zone", "transition_day"),
    [
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
        ("Europe/London", date(2026, 3, 29)),
        ("Europe/London", date(2026, 10, 25)),
        ("America/Santiago", date(2026, 4, 5)),
        ("America/Santiago", date(2026, 9, 6)),
        ("Australia/Lord_Howe", date(2026, 4, 5)),
        ("Australia/Lord_Howe", date(2026, 10, 4)),
    ],
)
def test_daytime_hours_keep_their_wall_clock_across_a_transition_week(
    zone: str, transition_day: date
) -> None:
    staff = staff_member(zone=zone, working_hours=hours("09:00", "17:00"))
    first_day = transition_day - timedelta(days=3)
    start = local(zone, first_day.year, first_day.month, first_day.day)
    slots = working_hours_slots(
        staff, timedelta(hours=1), timedelta(0), start, start + timedelta(7)
    )
    by_day: dict[date, list[str]] = {}
    for slot in slots:
        wall = slot.start.astimezone(ZoneInfo(zone))
        assert slot.end - slot.start == timedelta(hours=1)
        by_day.setdefault(wall.date(), []).append(wall.strftime("%H:%M"))
    assert len(by_day) == 7
    assert all(day == [f"{h:02d}:00" for h in range(9, 17)] for day in by_day.values())


def test_slots_start_within_the_window_only() -> None:
    staff = staff_member(working_hours=hours("09:00", "12:00"))
    slots = working_hours_slots(
        staff, timedelta(hours=1), timedelta(0), utc(2026, 5, 4, 10), utc(2026, 5, 4, 11, 30)
    )
    assert slots == [SlotTime(utc(2026, 5, 4, 10), utc(2026, 5, 4, 11)), SlotTime(
        utc(2026, 5, 4, 11), utc(2026, 5, 4, 12)
    )]  # fmt: skip


def test_buffer_spaces_slots_and_the_last_slot_must_end_by_the_interval_end() -> None:
    staff = staff_member(working_hours=hours("09:00", "11:00"))
    slots = working_hours_slots(
        staff, timedelta(minutes=45), timedelta(minutes=15), utc(2026, 5, 4), utc(2026, 5, 5)
    )
    assert [s.start for s in slots] == [utc(2026, 5, 4, 9), utc(2026, 5, 4, 10)]


def test_working_hours_until_midnight_and_only_on_their_weekday() -> None:
    monday = date(2026, 5, 4)
    staff = staff_member(working_hours=hours_on(monday, "22:00", None))
    slots = working_hours_slots(
        staff, timedelta(hours=1), timedelta(0), utc(2026, 5, 3), utc(2026, 5, 7)
    )
    assert [s.start for s in slots] == [utc(2026, 5, 4, 22), utc(2026, 5, 4, 23)]


def test_overlapping_working_intervals_offer_each_slot_once() -> None:
    staff = staff_member(working_hours=hours("09:00", "11:00") + hours("09:00", "10:00"))
    slots = working_hours_slots(
        staff, timedelta(hours=1), timedelta(0), utc(2026, 5, 4), utc(2026, 5, 5)
    )
    assert [s.start for s in slots] == [utc(2026, 5, 4, 9), utc(2026, 5, 4, 10)]


NINE_TO_TWELVE = [SlotTime(utc(2026, 5, 4, h), utc(2026, 5, 4, h + 1)) for h in (9, 10, 11)]


def starts(slots: list[SlotTime]) -> list[int]:
    return [slot.start.hour for slot in slots]


def test_a_booking_removes_the_slots_it_overlaps() -> None:
    busy = [BusyInterval(utc(2026, 5, 4, 10, 30), utc(2026, 5, 4, 11))]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(0), (), busy)) == [9, 11]


def test_back_to_back_booking_without_buffers_does_not_block() -> None:
    busy = [BusyInterval(utc(2026, 5, 4, 10), utc(2026, 5, 4, 11))]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(0), (), busy)) == [9, 11]


def test_the_slots_buffer_must_not_run_into_a_booking() -> None:
    busy = [BusyInterval(utc(2026, 5, 4, 10), utc(2026, 5, 4, 11))]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(minutes=1), (), busy)) == [11]


def test_the_bookings_buffer_blocks_the_next_slot() -> None:
    busy = [BusyInterval(utc(2026, 5, 4, 10), utc(2026, 5, 4, 11), timedelta(minutes=10))]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(0), (), busy)) == [9]


def test_a_long_booking_far_before_still_blocks() -> None:
    busy = [
        BusyInterval(utc(2026, 5, 4, 1), utc(2026, 5, 4, 9, 30)),
        BusyInterval(utc(2026, 5, 4, 9, 40), utc(2026, 5, 4, 9, 45)),
    ]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(0), (), busy)) == [10, 11]


def test_blocked_time_removes_the_slots_it_overlaps_but_not_their_buffers() -> None:
    blocked = [BlockedTime(utc(2026, 5, 4, 11), utc(2026, 5, 4, 11, 1), "dentist")]
    assert starts(open_slots(NINE_TO_TWELVE, timedelta(minutes=30), blocked, ())) == [9, 10]


def test_is_offered_accepts_generated_slots_only() -> None:
    zone = "America/New_York"
    staff = staff_member(zone=zone, working_hours=hours_on(date(2026, 3, 8), "00:00", "04:00"))
    hour = timedelta(hours=1)
    offered_start = local(zone, 2026, 3, 8, 3)  # the third slot of the SPEC example
    assert is_offered_by_working_hours(
        staff, hour, timedelta(0), offered_start, offered_start + hour
    )
    assert not is_offered_by_working_hours(
        staff, hour, timedelta(0), offered_start, offered_start + 2 * hour
    )
    half_past = local(zone, 2026, 3, 8, 1, 30)
    assert not is_offered_by_working_hours(staff, hour, timedelta(0), half_past, half_past + hour)


def test_is_offered_refuses_blocked_time() -> None:
    start = utc(2026, 5, 4, 9)
    staff = staff_member(
        working_hours=hours("09:00", "12:00"),
        blocked_times=(BlockedTime(start, start + timedelta(minutes=5)),),
    )
    hour = timedelta(hours=1)
    assert not is_offered_by_working_hours(staff, hour, timedelta(0), start, start + hour)
    assert is_offered_by_working_hours(staff, hour, timedelta(0), start + hour, start + 2 * hour)
