"""Which staff member an "any staff member" appointment gets (SPEC section 9).

An appointment booked without a staff member is assigned one when it starts to take capacity:
among the service's staff members who offer the slot, a free one with the fewest CONFIRMED +
PENDING bookings on the slot's local day, ties broken by staff id. When none is free, the
booking conflicts; if it takes capacity anyway (a paid or forced confirmation, an owner's
CONFIRMED create) it goes, `double_booked`, to the least loaded of them. The caller holds the
capacity locks of every candidate while it counts, so the choice and the write are one step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class StaffCandidate:
    """A staff member who offers the slot, as seen under the capacity locks."""

    staff_id: str
    #: No CONFIRMED or PENDING booking of theirs overlaps the slot (buffers included).
    free: bool
    #: Their CONFIRMED + PENDING bookings on the slot's local day.
    load: int


def assign_staff(candidates: Sequence[StaffCandidate]) -> str | None:
    """The id of the staff member the booking gets; None when no candidate offers the slot."""
    free = [candidate for candidate in candidates if candidate.free]
    pool = free or candidates
    if not pool:
        return None
    return min(pool, key=lambda candidate: (candidate.load, candidate.staff_id)).staff_id


def local_day(start: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC bounds of the local calendar day (in `zone`) that contains `start`."""
    day = start.astimezone(zone).date()
    first = datetime.combine(day, time(0), zone)
    after = datetime.combine(day + timedelta(days=1), time(0), zone)
    return first.astimezone(UTC), after.astimezone(UTC)
