"""Properties of QueryAvailability.

The slot generator against a deliberately naive reference that walks every minute: the
reference never asks zoneinfo to resolve a wall time: it converts every real minute of a few
days to the zone's wall clock, and reads the SPEC's rules off that table (first occurrence for
a repeated time; transition instant plus the distance into the gap for a skipped one).

Paging: for random catalogs and queries, reading every page (each token decoded back into its
position) with any page size gives exactly the single-page answer.

Parts: the same answers, read from appointment parts (UTC days of each staff member's slots)
kept across pages as the answer cache keeps them, are the answers generated directly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from availability_builders import (
    appointment_service,
    group_service,
    hours,
    session,
    staff_member,
    utc,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityEntry,
    Occupancy,
)
from bookings_server.domain.availability.paging import decode_position, encode_position
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.slots import BusyInterval, SlotTime, working_hours_slots
from bookings_server.domain.availability.staff_days import PartSupply, StaffDay
from bookings_server.domain.catalog import (
    BlockedTime,
    BookingPolicy,
    Service,
    ServiceType,
    WorkingInterval,
)
from bookings_server.domain.page_tokens import PageTokenCodec

MINUTE = timedelta(minutes=1)

TRANSITION_DAYS = {
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Europe/London": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/Santiago": [date(2026, 4, 4), date(2026, 9, 5), date(2026, 9, 6)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
    "Asia/Kolkata": [date(2026, 3, 8)],
    "Pacific/Chatham": [date(2026, 4, 5), date(2026, 9, 27)],
    "America/St_Johns": [date(2026, 3, 8), date(2026, 11, 1)],
    "Asia/Kathmandu": [date(2026, 1, 1)],
}


class MinuteWalk:
    """Every real minute of a stretch of days, as the zone's wall clock shows it."""

    def __init__(self, zone: ZoneInfo, first_day: date, last_day: date) -> None:
        self.first_seen: dict[datetime, datetime] = {}
        self.gaps: list[tuple[datetime, datetime, datetime]] = []
        instant = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
        stop = datetime(last_day.year, last_day.month, last_day.day, tzinfo=UTC)
        previous: datetime | None = None
        while instant < stop:
            shown = instant.astimezone(zone).replace(tzinfo=None)
            self.first_seen.setdefault(shown, instant)
            if previous is not None and shown > previous + MINUTE:
                self.gaps.append((previous + MINUTE, shown, instant))
            previous = shown
            instant += MINUTE

    def instant(self, wall: datetime) -> datetime:
        if wall in self.first_seen:
            return self.first_seen[wall]
        for gap_start, gap_end, transition in self.gaps:
            if gap_start <= wall < gap_end:
                return transition + (wall - gap_start)
        raise AssertionError(f"{wall} is outside the walked days")


def reference_slots(
    zone_name: str,
    intervals: list[WorkingInterval],
    duration: timedelta,
    buffer: timedelta,
    window_start: datetime,
    window_end: datetime,
) -> list[SlotTime]:
    zone = ZoneInfo(zone_name)
    first = window_start.astimezone(zone).date() - timedelta(days=1)
    last = window_end.astimezone(zone).date() + timedelta(days=1)
    walk = MinuteWalk(zone, first - timedelta(days=1), last + timedelta(days=2))
    found = set()
    day = first
    while day <= last:
        for interval in intervals:
            if interval.weekday != day.weekday():
                continue
            wall_start = datetime.combine(day, interval.start)
            wall_end = datetime.combine(day, interval.end or time(0)) + timedelta(
                days=interval.end is None
            )
            real_end = walk.instant(wall_end)
            free_from: datetime | None = None
            minute = wall_start
            while minute < wall_end:
                if (minute - wall_start) % (duration + buffer) == timedelta(0):
                    start = walk.instant(minute)
                    fits = start + duration <= real_end
                    if fits and (free_from is None or start >= free_from):
                        if window_start <= start < window_end:
                            found.add(SlotTime(start, start + duration))
                        free_from = start + duration + buffer
                minute += MINUTE
        day += timedelta(days=1)
    return sorted(found)


@st.composite
def working_interval_lists(draw: st.DrawFn) -> list[WorkingInterval]:
    intervals = []
    for _ in range(draw(st.integers(1, 2))):
        start = draw(st.integers(0, 95)) * 15
        end = draw(st.one_of(st.none(), st.integers(start // 15 + 1, 96)))
        end_time = None if end in (None, 96) else time(end * 15 // 60, end * 15 % 60)
        for weekday in draw(st.sets(st.integers(0, 6), min_size=1)):
            intervals.append(WorkingInterval(weekday, time(start // 60, start % 60), end_time))
    return intervals


@st.composite
def days_near_transitions(draw: st.DrawFn, zone: str) -> date:
    around = draw(st.sampled_from(TRANSITION_DAYS[zone]))
    return around + timedelta(days=draw(st.integers(-1, 1)))


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_generator_matches_the_minute_walking_reference(data: st.DataObject) -> None:
    zone = data.draw(st.sampled_from(sorted(TRANSITION_DAYS)))
    day = data.draw(
        st.one_of(days_near_transitions(zone), st.dates(date(2021, 1, 1), date(2030, 12, 31)))
    )
    intervals = data.draw(working_interval_lists())
    duration = timedelta(minutes=data.draw(st.sampled_from([15, 20, 30, 45, 60, 90, 150])))
    buffer = timedelta(minutes=data.draw(st.sampled_from([0, 5, 15, 30])))
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    window_start = midnight + timedelta(minutes=15 * data.draw(st.integers(-96, 96)))
    window_end = window_start + timedelta(minutes=15 * data.draw(st.integers(1, 288)))

    staff = staff_member(zone=zone, working_hours=tuple(intervals))
    generated = working_hours_slots(staff, duration, buffer, window_start, window_end)

    assert generated == reference_slots(zone, intervals, duration, buffer, window_start, window_end)


PAGING_NOW = utc(2026, 3, 6, 7)
PAGING_START = utc(2026, 3, 6)
PAGING_ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
CODEC = PageTokenCodec(b"property test page token key...!")


@st.composite
def paging_catalogs(draw: st.DrawFn) -> AvailabilityData:
    """Two appointment services sharing three staff members (varied hours, zones, blocked
    time and bookings, policies that make some slots unbookable), a class and a course."""
    staff = {}
    busy: dict[str, list[BusyInterval]] = {}
    for n in range(3):
        staff_id = f"staff-{n}"
        first, length = draw(st.integers(0, 14)), draw(st.integers(2, 9))
        blocked = draw(st.lists(st.integers(0, 96), max_size=2))
        staff[staff_id] = staff_member(
            staff_id,
            draw(st.sampled_from(PAGING_ZONES)),
            hours(f"{first:02d}:00", f"{first + length:02d}:30"),
            blocked_times=tuple(
                BlockedTime(
                    PAGING_START + timedelta(hours=h), PAGING_START + timedelta(hours=h + 2)
                )
                for h in blocked
            ),
        )
        busy[staff_id] = [
            BusyInterval(PAGING_START + timedelta(hours=h), PAGING_START + timedelta(hours=h + 1))
            for h in draw(st.lists(st.integers(0, 96), max_size=12))
        ]
    policy = BookingPolicy(
        min_notice=timedelta(hours=draw(st.integers(0, 30))),
        max_advance=draw(
            st.one_of(st.none(), st.integers(24, 72).map(lambda h: timedelta(hours=h)))
        ),
    )
    services = {
        "cut": appointment_service("cut", 60, 15, ("staff-0", "staff-1", "staff-2"), policy=policy),
        "dye": appointment_service(
            "dye", 90, 0, ("staff-2", "staff-0"), online_booking_enabled=draw(st.booleans())
        ),
        "yoga": group_service("yoga", capacity=3),
        "clay": group_service("clay", ServiceType.COURSE, capacity=2),
    }
    sessions = [
        session(
            f"yoga-{h}",
            services["yoga"],
            PAGING_START + timedelta(hours=h),
            staff_id=f"staff-{h % 3}",
        )
        for h in draw(st.lists(st.integers(-2, 80), max_size=8, unique=True))
    ] + [
        session(
            f"clay-{w}", services["clay"], PAGING_START + timedelta(days=w - 1), staff_id="staff-1"
        )
        for w in range(3)
    ]
    occupancy = {s.id: Occupancy(taken=draw(st.integers(0, 3))) for s in sessions}
    return AvailabilityData(
        services=services,
        staff=staff,
        sessions=sessions,
        busy=busy,
        session_occupancy=occupancy,
        schedule_occupancy={"schedule-clay": Occupancy(taken=draw(st.integers(0, 2)))},
    )


@st.composite
def paging_queries(draw: st.DrawFn) -> AvailabilityQuery:
    return AvailabilityQuery(
        service_ids=tuple(
            draw(st.lists(st.sampled_from(["cut", "dye", "yoga", "clay"]), min_size=1, max_size=4))
        ),
        start=PAGING_START + timedelta(hours=draw(st.integers(0, 24))),
        end=PAGING_START + timedelta(hours=draw(st.integers(25, 96))),
        timezone=draw(st.sampled_from(["", *PAGING_ZONES])),
        resource_ids=tuple(
            draw(
                st.one_of(
                    st.just([]),
                    st.lists(st.sampled_from(["staff-0", "staff-1", "staff-2"]), max_size=2),
                )
            )
        ),
        bookable=draw(st.sampled_from([None, True, False])),
        min_open_spots=draw(st.sampled_from([0, 0, 0, 1, 2])),
        slots_per_day=draw(st.sampled_from([0, 0, 1, 2, 5])),
        merge_staff=draw(st.booleans()),
    )


def every_page(
    query: AvailabilityQuery, data: AvailabilityData, parts: PartSupply | None = None
) -> list[AvailabilityEntry]:
    """Every page's entries in order, each next page read from its token."""
    found: list[AvailabilityEntry] = []
    after = None
    while True:
        page = query_availability(query, data, PAGING_NOW, after, parts)
        found += page.entries
        if page.next_position is None:
            return found
        token = encode_position(CODEC, "site-a", query, page.next_position)
        after = decode_position(CODEC, "site-a", replace(query, page_token=token))


@settings(max_examples=150, deadline=None)
@given(data=paging_catalogs(), query=paging_queries(), page_size=st.integers(1, 12))
def test_reading_every_page_gives_the_single_page_answer(
    data: AvailabilityData, query: AvailabilityQuery, page_size: int
) -> None:
    whole = query_availability(replace(query, page_size=1000), data, PAGING_NOW)
    assert whole.next_position is None
    assert every_page(replace(query, page_size=page_size), data) == list(whole.entries)


class KeptParts:
    """A `PartSupply` that keeps every part it computed, as the answer cache does: later pages
    and queries take them instead of computing them again."""

    def __init__(self) -> None:
        self.kept: dict[StaffDay, Sequence[datetime]] = {}

    def __call__(
        self, service: Service, day: StaffDay, compute: Callable[[], tuple[datetime, ...]]
    ) -> Sequence[datetime]:
        if day not in self.kept:
            self.kept[day] = compute()
        return self.kept[day]


@settings(max_examples=150, deadline=None)
@given(data=paging_catalogs(), query=paging_queries(), page_size=st.integers(1, 12))
def test_an_answer_assembled_from_kept_parts_is_the_answer_generated_directly(
    data: AvailabilityData, query: AvailabilityQuery, page_size: int
) -> None:
    """Parts are UTC days of each staff member's slots: whatever the zones, DST, paging,
    filters and slots_per_day, reading the slots day by day gives the same answer."""
    parts = KeptParts()
    paged = replace(query, page_size=page_size)
    whole = replace(query, page_size=1000)
    assert every_page(paged, data, parts) == every_page(paged, data)
    assert every_page(whole, data, parts) == every_page(whole, data)
