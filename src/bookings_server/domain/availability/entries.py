"""What QueryAvailability answers with (SPEC section 5): entries, pages, and the data they are
computed from.

Pure data: `AvailabilityData` is what the caller loads for a query, `AvailabilityEntry` one
appointment slot, class session or course, `AvailabilityPage` one page of them and
`EntryPosition` where a page ends (what its page token holds, see paging.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.booking import BookedSlot
from bookings_server.domain.catalog import Service, ServiceType, Session, StaffMember
from bookings_server.domain.policy import PolicyViolations

__all__ = [
    "BOOKING_WINDOW_MARGIN",
    "AvailabilityData",
    "AvailabilityEntry",
    "AvailabilityPage",
    "EntryKey",
    "EntryPosition",
    "Occupancy",
    "PageRow",
    "WaitingListSpots",
    "booking_window",
]

#: Bookings this far outside the range are still loaded: they may block a slot through the
#: slot's or their own buffer. Buffers longer than this are not honoured across the edge.
BOOKING_WINDOW_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Occupancy:
    """Participants holding a session or course: CONFIRMED + PENDING bookings and live holds
    (`taken`), those on the waiting list, and those of the list whose offer runs."""

    taken: int = 0
    waiting: int = 0
    offered: int = 0


#: An entry's place within its phase (bookable or not): start, end, service id, resource id,
#: session id, schedule id. Unique per entry, so it orders the answer totally.
EntryKey = tuple[datetime, datetime, str, str, str, str]


@dataclass(frozen=True)
class EntryPosition:
    """The last entry of a page: the next page starts strictly after it (keyset paging).

    `day_count` is how many entries its local day has in the answer up to and including it
    (0 without slots_per_day), so the next page goes on counting that day.
    """

    bookable: bool
    key: EntryKey
    day_count: int = 0


@dataclass(frozen=True)
class WaitingListSpots:
    total_spots: int
    open_spots: int


@dataclass(frozen=True)
class AvailabilityEntry:
    """One appointment slot, class session or whole course, and whether it can be booked."""

    slot: BookedSlot
    bookable: bool
    total_spots: int
    open_spots: int
    violations: PolicyViolations
    #: Wall-clock start and end in the response's zone, ISO 8601 without offset; filled in
    #: for the returned page only.
    local_start: str = ""
    local_end: str = ""
    waiting_list: WaitingListSpots | None = None
    locked: bool = False
    #: The course schedule (courses are booked as a schedule); "" otherwise.
    schedule_id: str = ""

    @property
    def start(self) -> datetime:
        assert self.slot.start is not None
        return self.slot.start

    def sort_key(self) -> tuple[bool, datetime, datetime, str, str, str, str]:
        """Bookable first, then by start; the rest only makes the order total and stable."""
        assert self.slot.end is not None
        return (
            not self.bookable,
            self.start,
            self.slot.end,
            self.slot.service_id,
            self.slot.resource.id,
            self.slot.session_id,
            self.schedule_id,
        )


@dataclass(frozen=True)
class AvailabilityData:
    """The catalog and booking data a query is computed from (loaded by the caller).

    `sessions`: sessions of the queried class services starting in the range, and every
    session of the queried course services (a course is its service's schedule). `busy`:
    CONFIRMED/PENDING bookings by staff member id. Occupancy is keyed by session id and by
    course schedule id.
    """

    services: Mapping[str, Service]
    staff: Mapping[str, StaffMember] = field(default_factory=dict)
    sessions: Sequence[Session] = ()
    busy: Mapping[str, Sequence[BusyInterval]] = field(default_factory=dict)
    session_occupancy: Mapping[str, Occupancy] = field(default_factory=dict)
    schedule_occupancy: Mapping[str, Occupancy] = field(default_factory=dict)


#: One entry of a page, compactly: (pattern, start, end, local start, local end). The entry is
#: `pattern` with those instants and wall times; the entries of one staff member and service
#: share a pattern per policy outcome, so a page is built (and encoded) without an object per
#: entry.
PageRow = tuple[AvailabilityEntry, datetime, datetime, str, str]


@dataclass(frozen=True)
class AvailabilityPage:
    rows: tuple[PageRow, ...]
    #: Where the next page starts after; None on the last page.
    next_position: EntryPosition | None
    #: The zone local times are reported in.
    timezone: str

    @property
    def entries(self) -> tuple[AvailabilityEntry, ...]:
        return tuple(
            replace(
                pattern,
                slot=replace(pattern.slot, start=start, end=end),
                local_start=local_start,
                local_end=local_end,
            )
            for pattern, start, end, local_start, local_end in self.rows
        )


def booking_window(
    start: datetime, end: datetime, services: Iterable[Service]
) -> tuple[datetime, datetime]:
    """The range of bookings that can block an appointment slot starting in [start, end)."""
    longest = max(
        (
            (service.duration or timedelta(0)) + service.buffer_after
            for service in services
            if service.type is ServiceType.APPOINTMENT
        ),
        default=timedelta(0),
    )
    return start - BOOKING_WINDOW_MARGIN, end + max(longest, BOOKING_WINDOW_MARGIN)
