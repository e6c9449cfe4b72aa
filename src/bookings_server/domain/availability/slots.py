"""Appointment slots from a staff member's weekly working hours (SPEC section 5).

The DST rules, exactly as the SPEC states them:

- candidate starts step through each working interval in *wall-clock* time from the
  interval's start, by the service's duration plus its buffer;
- each wall time becomes an instant the way `zoneinfo` reads it with ``fold=0``: a wall time
  inside a gap moves forward by the gap's length, a wall time that occurs twice means its
  first occurrence;
- a candidate is offered only if it starts no earlier than the previous offered slot's real
  end plus the buffer (offered slots never overlap in real time), lasts its duration in real
  time, and ends by the interval's real end.

All offset arithmetic is left to `zoneinfo`; the code below only adds timedeltas to naive wall
times (wall-clock stepping) or to UTC instants (real-time durations).
"""

from __future__ import annotations

import bisect
import functools
import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings_server.domain.catalog import BlockedTime, StaffMember, WorkingInterval

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class SlotTime:
    """One offered appointment slot: UTC instants, `end` = `start` + duration in real time."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class BusyInterval:
    """Time a staff member is taken by a CONFIRMED or PENDING booking.

    `buffer` is the booked service's buffer after the booking; it is busy time too.
    """

    start: datetime
    end: datetime
    buffer: timedelta = timedelta(0)

    @property
    def busy_until(self) -> datetime:
        return self.end + self.buffer


@functools.lru_cache(maxsize=1024)
def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name` (ZoneInfo's own cache, minus the constructor's overhead)."""
    return ZoneInfo(name)


def resolve_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive wall time in `zone`, read as zoneinfo does with fold=0."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def interval_slots(
    day: date,
    interval: WorkingInterval,
    zone: ZoneInfo,
    duration: timedelta,
    buffer: timedelta,
) -> list[SlotTime]:
    """The slots one working interval offers on one local `day` (whose weekday it matches)."""
    return [
        SlotTime(start, start + duration)
        for start in _interval_starts(day, interval.start, interval.end, zone, duration, buffer)
    ]


@functools.lru_cache(maxsize=16384)
def _interval_starts(
    day: date,
    interval_start: time,
    interval_end: time | None,
    zone: ZoneInfo,
    duration: timedelta,
    buffer: timedelta,
) -> tuple[datetime, ...]:
    """The start instants of `interval_slots`, ascending. Pure, so cached: staff members with
    the same hours, zone and service share the (costly) wall-time resolution, across calls."""
    if duration <= timedelta(0):
        return ()
    wall_start = datetime.combine(day, interval_start)
    wall_end = (
        datetime.combine(day + _ONE_DAY, time(0))
        if interval_end is None
        else datetime.combine(day, interval_end)
    )
    real_end = resolve_wall_time(wall_end, zone)
    step = duration + buffer
    starts: list[datetime] = []
    earliest: datetime | None = None
    wall = wall_start
    while wall < wall_end:
        start = resolve_wall_time(wall, zone)
        end = start + duration
        if end > real_end:
            # fold=0 resolution never goes backwards, so no later candidate fits either.
            break
        if earliest is None or start >= earliest:
            starts.append(start)
            earliest = end + buffer
        wall += step
    return tuple(starts)


def _local_days(zone: ZoneInfo, window_start: datetime, window_end: datetime) -> Iterator[date]:
    """Every local date whose working intervals may start a slot in the window (with margin)."""
    day = window_start.astimezone(zone).date() - _ONE_DAY
    last = window_end.astimezone(zone).date() + _ONE_DAY
    while day <= last:
        yield day
        day += _ONE_DAY


def _earliest_instant_of(day: date) -> datetime:
    """A bound below every instant a wall time on `day` (or later) can resolve to, in any zone:
    an instant is its wall time minus the zone's UTC offset, and offsets are under 24 hours."""
    return datetime.combine(day, time(0), tzinfo=UTC) - _ONE_DAY


def iter_slot_starts(
    staff: StaffMember,
    duration: timedelta,
    buffer: timedelta,
    window_start: datetime,
    window_end: datetime,
) -> Iterator[datetime]:
    """The starts of `working_hours_slots`, generated lazily in ascending order.

    Days are generated in order; a start is released once no later day can produce an
    earlier one (see `_earliest_instant_of`), so only a couple of days are held at a time and
    a caller that stops early does not pay for the rest of the window.
    """
    zone = zone_named(staff.timezone)
    by_weekday: dict[int, list[WorkingInterval]] = {}
    for interval in staff.working_hours:
        by_weekday.setdefault(interval.weekday, []).append(interval)
    pending: list[datetime] = []
    for day in _local_days(zone, window_start, window_end):
        intervals = by_weekday.get(day.weekday())
        if not intervals:
            continue
        yield from _pop_before(pending, _earliest_instant_of(day))
        for start in _day_starts(day, intervals, zone, duration, buffer):
            if window_start <= start < window_end:
                heapq.heappush(pending, start)
    yield from _pop_before(pending, None)


def _day_starts(
    day: date,
    intervals: Iterable[WorkingInterval],
    zone: ZoneInfo,
    duration: timedelta,
    buffer: timedelta,
) -> Iterator[datetime]:
    """The slot starts of each of `day`'s working intervals (ascending per interval)."""
    for interval in intervals:
        yield from _interval_starts(day, interval.start, interval.end, zone, duration, buffer)


def _pop_before(pending: list[datetime], floor: datetime | None) -> Iterator[datetime]:
    """Pop the heap `pending` in order while its least start is below `floor` (None: empty
    it), each distinct start once: a start equal to the last one popped is dropped."""
    last: datetime | None = None
    while pending and (floor is None or pending[0] < floor):
        start = heapq.heappop(pending)
        if start != last:
            yield start
            last = start


def working_hours_slots(
    staff: StaffMember,
    duration: timedelta,
    buffer: timedelta,
    window_start: datetime,
    window_end: datetime,
) -> list[SlotTime]:
    """Slots from the staff member's working hours that start in [window_start, window_end).

    Blocked time and bookings are not considered here. Sorted by start, without duplicates
    (overlapping working intervals would otherwise offer the same slot twice).
    """
    return [
        SlotTime(start, start + duration)
        for start in iter_slot_starts(staff, duration, buffer, window_start, window_end)
    ]


class _IntervalIndex:
    """Answers "does [start, end) overlap any of these intervals?" in O(log n + overlaps).

    Intervals are sorted by start; `_max_length` bounds how far back an overlapping interval
    can begin.
    """

    def __init__(self, intervals: Iterable[tuple[datetime, datetime]]) -> None:
        ordered = sorted((start, end) for start, end in intervals if end > start)
        self._starts = [start for start, _ in ordered]
        self._intervals = ordered
        self._max_length = max((end - start for start, end in ordered), default=timedelta(0))
        self.empty = not ordered

    def overlaps(self, start: datetime, end: datetime) -> bool:
        if not self._intervals:
            return False
        low = bisect.bisect_left(self._starts, start - self._max_length)
        high = bisect.bisect_left(self._starts, end)
        return any(
            other_end > start and other_start < end
            for other_start, other_end in self._intervals[low:high]
        )


class FreeTime:
    """Whether a staff member is free for a slot, given blocked time and bookings.

    A slot is not free when the slot itself overlaps blocked time, or when the slot plus its
    buffer overlaps a booking plus that booking's buffer.
    """

    def __init__(
        self, buffer: timedelta, blocked: Sequence[BlockedTime], busy: Sequence[BusyInterval]
    ) -> None:
        self._buffer = buffer
        self._blocked = _IntervalIndex((b.start, b.end) for b in blocked)
        self._busy = _IntervalIndex((b.start, b.busy_until) for b in busy)
        #: Nothing blocks any slot: callers may skip `is_free`.
        self.always = self._blocked.empty and self._busy.empty

    def is_free(self, start: datetime, end: datetime) -> bool:
        return not self.is_blocked(start, end) and not self.is_booked(start, end)

    def is_blocked(self, start: datetime, end: datetime) -> bool:
        """The slot itself overlaps blocked time: the staff member does not offer it."""
        return self._blocked.overlaps(start, end)

    def is_booked(self, start: datetime, end: datetime) -> bool:
        """The slot plus its buffer overlaps a booking plus that booking's buffer."""
        return self._busy.overlaps(start, end + self._buffer)


def open_slots(
    slots: Sequence[SlotTime],
    buffer: timedelta,
    blocked: Sequence[BlockedTime],
    busy: Sequence[BusyInterval],
) -> list[SlotTime]:
    """The slots the staff member is free for (see `FreeTime`)."""
    free = FreeTime(buffer, blocked, busy)
    return [slot for slot in slots if free.is_free(slot.start, slot.end)]


def is_offered_by_working_hours(
    staff: StaffMember,
    duration: timedelta,
    buffer: timedelta,
    start: datetime,
    end: datetime,
) -> bool:
    """Whether [start, end) is a slot the staff member's hours offer and no blocked time hits.

    What CreateBooking checks for an appointment booked without a session (SPEC 3.3);
    bookings are checked separately under the capacity lock.
    """
    window_end = start + timedelta(microseconds=1)
    offered = working_hours_slots(staff, duration, buffer, start, window_end)
    return SlotTime(start, end) in open_slots(offered, buffer, staff.blocked_times, ())
