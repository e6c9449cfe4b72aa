"""Appointment slots in parts that outlive one answer: a staff member's free starts for one
service on one UTC day of the query range (a `StaffDay`).

A part holds no clock: it is the starts the staff member's working hours offer in its window
that no blocked time, booking or live hold takes. Whether each is bookable (too early, too
late) is decided when an answer is assembled from the parts (sources.AppointmentSource), so
the clock moving never makes a part wrong. What can make it wrong is named by `part_keys`:
the catalog, and the staff days whose bookings can overlap its slots (the rule an answer's
own keys follow, versions.staff_day_keys). So a write to one staff member's day leaves the
parts of every other staff member and day reusable (app/availability_parts.py keeps them).

Parts are a partition of the query's range: a staff member's starts over the range are the
concatenation of its days' starts, whatever the days' zone, because a day's starts are those
of the whole range that fall in its window (slots.iter_slot_starts filters by start only).
"""

from __future__ import annotations

import bisect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from bookings_server.domain.availability.slots import FreeTime, iter_slot_starts
from bookings_server.domain.availability.versions import CATALOG, staff_day_keys
from bookings_server.domain.catalog import Service, StaffMember

__all__ = [
    "FreeStarts",
    "GeneratedStarts",
    "PartSupply",
    "PartedStarts",
    "StaffDay",
    "compute_part",
    "part_keys",
    "staff_days",
]

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class StaffDay:
    """One part: the starts in [start, end) of `staff_id`'s slots of `service_id`."""

    service_id: str
    staff_id: str
    start: datetime
    end: datetime


def staff_days(service_id: str, staff_id: str, start: datetime, end: datetime) -> list[StaffDay]:
    """The parts of [start, end) for one staff member and service: its UTC days, the first
    and last cut to the range."""
    days = []
    low = start
    while low < end:
        midnight = datetime.combine(low.astimezone(UTC).date() + _DAY, time(0), tzinfo=UTC)
        high = min(end, midnight)
        days.append(StaffDay(service_id, staff_id, low, high))
        low = high
    return days


def part_keys(service: Service, day: StaffDay) -> frozenset[str]:
    """The availability versions a part depends on: the catalog (hours, blocked time, the
    service), and the staff days of the bookings that can overlap its slots and buffers."""
    assert service.duration is not None
    reach = day.end + service.duration + service.buffer_after
    return frozenset((CATALOG, *staff_day_keys((day.staff_id,), day.start, reach)))


def compute_part(
    service: Service, staff: StaffMember, free: FreeTime, day: StaffDay
) -> tuple[datetime, ...]:
    """The part's starts: offered by the staff member's hours in its window and free."""
    return tuple(GeneratedStarts(service, staff, free).between(day.start, day.end))


#: Where a query takes a part from: `(service, day, compute)` returns the part's starts,
#: computed by `compute` or an equal part kept from an earlier query.
PartSupply = Callable[[Service, StaffDay, Callable[[], tuple[datetime, ...]]], Sequence[datetime]]


class FreeStarts(ABC):
    """A staff member's free slot starts for one service, in ascending order."""

    @abstractmethod
    def between(self, low: datetime, high: datetime) -> Iterator[datetime]:
        """The free starts in [low, high)."""


class GeneratedStarts(FreeStarts):
    """Generated from working hours as they are asked for (no parts kept)."""

    def __init__(self, service: Service, staff: StaffMember, free: FreeTime) -> None:
        assert service.duration is not None
        self._staff = staff
        self._duration = service.duration
        self._buffer = service.buffer_after
        self._free = free

    def between(self, low: datetime, high: datetime) -> Iterator[datetime]:
        duration, free = self._duration, self._free
        for start in iter_slot_starts(self._staff, duration, self._buffer, low, high):
            if free.always or free.is_free(start, start + duration):
                yield start


class PartedStarts(FreeStarts):
    """Read from the parts of the query range's days, each taken from `supply` when first
    needed (a page that ends early takes only the days it reaches)."""

    def __init__(
        self,
        service: Service,
        staff: StaffMember,
        free: Callable[[], FreeTime],
        days: Sequence[StaffDay],
        supply: PartSupply,
    ) -> None:
        self._service = service
        self._staff = staff
        self._free = free
        self._days = days
        self._ends = [day.end for day in days]
        self._supply = supply
        self._parts: dict[int, Sequence[datetime]] = {}

    def between(self, low: datetime, high: datetime) -> Iterator[datetime]:
        index = bisect.bisect_right(self._ends, low)
        while index < len(self._days) and self._days[index].start < high:
            starts = self._part(index)
            first = bisect.bisect_left(starts, low)
            last = bisect.bisect_left(starts, high)
            yield from starts[first:last]
            index += 1

    def _part(self, index: int) -> Sequence[datetime]:
        found = self._parts.get(index)
        if found is None:
            day = self._days[index]
            found = self._parts[index] = self._supply(
                self._service,
                day,
                lambda: compute_part(self._service, self._staff, self._free(), day),
            )
        return found
