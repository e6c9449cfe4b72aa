"""QueryAvailability with `merge_staff`: one appointment entry per (service, start), SPEC 9.

The staff members of the service that the query keeps (`resource_id` filters them first) are
pooled. A start is listed when at least one of them offers it: their working hours produce it
and no blocked time overlaps it. `total_spots` counts the staff members who offer it,
`open_spots` those of them who are also free for it (no CONFIRMED or PENDING booking overlaps
it, buffers included). The slot's resource is empty (book it as "any staff member") and its
zone is the service's. It is bookable when one staff member is free and the booking policy
accepts the start; a start every offering staff member is booked for stays listed as full,
like a full class (the `open_spots` and `bookable` filters hide it).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter

from typing_extensions import override

from bookings_server.domain.availability.candidates import (
    Candidate,
    Source,
    Window,
    after_floor,
    policy_windows,
)
from bookings_server.domain.availability.entries import AvailabilityEntry, EntryKey
from bookings_server.domain.availability.slots import BusyInterval, FreeTime, iter_slot_starts
from bookings_server.domain.booking import BookedSlot, SlotResource
from bookings_server.domain.catalog import Service, StaffMember
from bookings_server.domain.policy import bookable_starts

__all__ = ["MergedStaffSource"]

#: Which pooled starts a window lists, by their free staff count.
_Keep = tuple[Window, bool | None]


class MergedStaffSource(Source):
    """The pooled appointment slots of one service's staff members, generated lazily."""

    def __init__(
        self,
        index: int,
        service: Service,
        staff: Sequence[StaffMember],
        busy: Mapping[str, Sequence[BusyInterval]],
        now: datetime,
        min_open_spots: int,
    ) -> None:
        assert service.duration is not None
        self._index = index
        self._service = service
        self._duration = service.duration
        self._staff = [
            (member, FreeTime(service.buffer_after, member.blocked_times, busy.get(member.id, ())))
            for member in staff
        ]
        self._bookable = bookable_starts(service, now)
        self._min_open = min_open_spots
        #: The distinct (total, open) spot counts met so far; a candidate's detail indexes it.
        self._spots: list[tuple[int, int]] = []
        self._spot_index: dict[tuple[int, int], int] = {}
        self._patterns: dict[tuple[bool, bool, int], AvailabilityEntry] = {}

    def _windows(
        self, bookable: bool, start: datetime, end: datetime, after: EntryKey | None
    ) -> list[_Keep]:
        """The windows of a phase in order (none starting before `after`), each with whether
        its starts need a free staff member (True), need none free (False), or either (None)."""
        accepted, refused = policy_windows(self._bookable, start, end)
        accepted, refused = after_floor(accepted, after), after_floor(refused, after)
        if bookable:
            return [(window, True) for window in accepted]
        kept: list[_Keep] = [(window, False) for window in accepted]
        kept += [(window, None) for window in refused]
        return sorted(kept, key=itemgetter(0))

    def _listed(self, free: int, free_needed: bool | None) -> bool:
        if free < self._min_open:
            return False
        return free_needed is None or free_needed == (free > 0)

    @override
    def candidates(
        self, bookable: bool, start: datetime, end: datetime, after: EntryKey | None = None
    ) -> Iterator[Candidate]:
        service_id, index, duration = self._service.id, self._index, self._duration
        for (low, high), free_needed in self._windows(bookable, start, end, after):
            for slot_start, total, free in self._pooled(low, high):
                if not self._listed(free, free_needed):
                    continue
                detail = self._detail(total, free)
                slot_end = slot_start + duration
                candidate = (slot_start, slot_end, service_id, "", "", "", index, detail)
                if after is None or candidate[:6] > after:
                    yield candidate

    def _pooled(self, low: datetime, high: datetime) -> Iterator[tuple[datetime, int, int]]:
        """Each start in [low, high) some staff member offers: (start, offering, free)."""
        offers = heapq.merge(
            *(self._offers(member, free, low, high) for member, free in self._staff)
        )
        for slot_start, group in groupby(offers, key=itemgetter(0)):
            flags = [is_free for _, is_free in group]
            yield slot_start, len(flags), sum(flags)

    def _offers(
        self, member: StaffMember, free: FreeTime, low: datetime, high: datetime
    ) -> Iterator[tuple[datetime, int]]:
        """The member's offered starts in [low, high), each with 1 when free for it, else 0."""
        duration, buffer = self._duration, self._service.buffer_after
        for slot_start in iter_slot_starts(member, duration, buffer, low, high):
            slot_end = slot_start + duration
            if free.always:
                yield slot_start, 1
            elif not free.is_blocked(slot_start, slot_end):
                yield slot_start, int(not free.is_booked(slot_start, slot_end))

    def _detail(self, total: int, free: int) -> int:
        spots = (total, free)
        found = self._spot_index.get(spots)
        if found is None:
            found = self._spot_index[spots] = len(self._spots)
            self._spots.append(spots)
        return found

    @override
    def pattern(self, candidate: Candidate) -> AvailabilityEntry:
        start, detail, bookable = candidate[0], candidate[7], self._bookable
        key = (bookable.too_early(start), bookable.too_late(start), detail)
        found = self._patterns.get(key)
        if found is None:
            found = self._patterns[key] = self._new_pattern(start, *self._spots[detail])
        return found

    def _new_pattern(self, start: datetime, total: int, free: int) -> AvailabilityEntry:
        service = self._service
        violations = self._bookable.violations(start)
        slot = BookedSlot(
            service_id=service.id,
            timezone=service.timezone,
            schedule_id=service.schedule_id,
            resource=SlotResource(),
            location=service.location,
        )
        return AvailabilityEntry(
            slot=slot,
            bookable=free > 0 and not violations.any,
            total_spots=total,
            open_spots=free,
            violations=violations,
        )
