"""Capacity units: what a booking takes room in, and when it does not fit (SPEC 3.6, 4).

A class booking takes spots in its session, a course booking in the course schedule, and an
appointment occupies its staff member for the slot plus the service's buffer. Writers of one
unit serialize on the unit's lock (`lock_key`, store/locks.py) before counting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings_server.domain.booking import Booking
from bookings_server.domain.catalog import Service, ServiceType
from bookings_server.domain.catalog_validation import MAX_SLOT_LENGTH

#: The longest an appointment keeps its staff member busy: its duration plus its buffer.
MAX_STAFF_HOLD = 2 * MAX_SLOT_LENGTH


class UnitKind(enum.Enum):
    SESSION = "session"
    SCHEDULE = "schedule"
    STAFF = "staff"


@dataclass(frozen=True)
class CapacityUnit:
    """One unit of capacity. For STAFF, `start`/`blocked_until` is the interval it occupies."""

    kind: UnitKind
    id: str
    start: datetime | None = None
    blocked_until: datetime | None = None

    @property
    def lock_key(self) -> str:
        return f"{self.kind.value}:{self.id}"


def session_unit(session_id: str) -> CapacityUnit:
    return CapacityUnit(UnitKind.SESSION, session_id)


def schedule_unit(schedule_id: str) -> CapacityUnit:
    return CapacityUnit(UnitKind.SCHEDULE, schedule_id)


def staff_unit(
    staff_member_id: str, start: datetime, end: datetime, buffer_after: timedelta
) -> CapacityUnit:
    """The staff member from `start` until the slot's end plus the service's buffer."""
    return CapacityUnit(UnitKind.STAFF, staff_member_id, start, end + buffer_after)


def unit_of(booking: Booking, service: Service) -> CapacityUnit:
    """The unit an existing booking takes room in."""
    if booking.schedule is not None:
        return schedule_unit(booking.schedule.schedule_id)
    assert booking.slot is not None
    if service.type is ServiceType.APPOINTMENT:
        assert booking.slot.start is not None and booking.slot.end is not None
        return staff_unit(
            booking.slot.resource.id, booking.slot.start, booking.slot.end, service.buffer_after
        )
    return session_unit(booking.slot.session_id)


def has_conflict(unit: CapacityUnit, capacity: int, taken: int, participants: int) -> bool:
    """Whether `participants` more do not fit, with `taken` spots already held.

    An appointment holds its staff member exclusively: any other CONFIRMED or PENDING
    booking overlapping the interval is a conflict, whatever the head counts.
    """
    if unit.kind is UnitKind.STAFF:
        return taken > 0
    return taken + participants > capacity
