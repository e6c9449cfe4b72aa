"""The slot generator against a deliberately naive reference that walks every minute.

The reference never asks zoneinfo to resolve a wall time: it converts every real minute of a
few days to the zone's wall clock, and reads the SPEC's rules off that table (first occurrence
for a repeated time; transition instant plus the distance into the gap for a skipped one).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from availability_builders import staff_member
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings_server.domain.availability.slots import SlotTime, working_hours_slots
from bookings_server.domain.catalog import WorkingInterval

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
