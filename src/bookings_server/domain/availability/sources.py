"""Where QueryAvailability's entries come from: one source per service (and staff member).

A source produces its entries for one phase (bookable, then not bookable) in key order, as
compact `Candidate`s (candidates.py); the query merges the sources' runs and builds only the
page's entries. Class sessions and courses are few and built up front (`ListSource`);
appointment slots are generated lazily from working hours, per staff member
(`AppointmentSource`) or for all of them at once (merged_staff.py).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from typing_extensions import override

from bookings_server.domain.availability.candidates import (
    Candidate,
    Source,
    Window,
    after_floor,
    policy_windows,
)
from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityEntry,
    EntryKey,
    Occupancy,
    WaitingListSpots,
)
from bookings_server.domain.availability.merged_staff import MergedStaffSource
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.slots import FreeTime
from bookings_server.domain.availability.staff_days import (
    FreeStarts,
    GeneratedStarts,
    PartedStarts,
    PartSupply,
    staff_days,
)
from bookings_server.domain.booking import BookedSlot, SlotResource
from bookings_server.domain.catalog import Service, ServiceType, Session, StaffMember
from bookings_server.domain.policy import PolicyViolations, bookable_starts, policy_violations

__all__ = ["AppointmentSource", "EntryFactory", "ListSource", "build_sources"]


class ListSource(Source):
    """Entries built up front (class sessions, courses: few per query, already in range)."""

    def __init__(self, index: int, entries: Iterable[AvailabilityEntry]) -> None:
        self._index = index
        self._entries = sorted(entries, key=AvailabilityEntry.sort_key)
        #: Per phase: the keys of its entries, in order, and their positions in `_entries`.
        self._keys: dict[bool, list[EntryKey]] = {True: [], False: []}
        self._positions: dict[bool, list[int]] = {True: [], False: []}
        for position, entry in enumerate(self._entries):
            self._keys[entry.bookable].append(_entry_key(entry))
            self._positions[entry.bookable].append(position)

    @override
    def candidates(
        self, bookable: bool, start: datetime, end: datetime, after: EntryKey | None = None
    ) -> Iterator[Candidate]:
        keys, positions = self._keys[bookable], self._positions[bookable]
        first = 0 if after is None else bisect.bisect_right(keys, after)
        for key, position in zip(keys[first:], positions[first:], strict=True):
            yield (*key, self._index, position)

    @override
    def pattern(self, candidate: Candidate) -> AvailabilityEntry:
        return self._entries[candidate[7]]


def _entry_key(entry: AvailabilityEntry) -> EntryKey:
    key = entry.sort_key()
    return key[1:]


class AppointmentSource(Source):
    """The free slots of one staff member for one appointment service, taken lazily from
    its `FreeStarts` (generated from working hours, or read from parts, staff_days.py).

    All slots of one service have the same spots, so whether a slot is bookable depends only
    on its start: bookable ones start in the policy's `BookableStarts`. Each phase therefore
    generates only the part of the range it lists.
    """

    def __init__(
        self,
        index: int,
        service: Service,
        staff: StaffMember,
        resource: SlotResource,
        starts: FreeStarts,
        now: datetime,
    ) -> None:
        assert service.duration is not None
        self._index = index
        self._service = service
        self._staff = staff
        self._resource = resource
        self._duration = service.duration
        self._starts = starts
        self.open_spots = max(0, service.default_capacity)
        self._bookable = bookable_starts(service, now)
        self._patterns: dict[tuple[bool, bool], AvailabilityEntry] = {}

    def _windows(self, bookable: bool, start: datetime, end: datetime) -> list[Window]:
        if self.open_spots <= 0:
            return [] if bookable else [(start, end)]
        accepted, refused = policy_windows(self._bookable, start, end)
        return accepted if bookable else refused

    @override
    def candidates(
        self, bookable: bool, start: datetime, end: datetime, after: EntryKey | None = None
    ) -> Iterator[Candidate]:
        duration = self._duration
        service_id, staff_id, index = self._service.id, self._staff.id, self._index
        for low, high in after_floor(self._windows(bookable, start, end), after):
            for slot_start in self._starts.between(low, high):
                slot_end = slot_start + duration
                candidate = (slot_start, slot_end, service_id, staff_id, "", "", index, 0)
                if after is None or slot_start != after[0] or candidate[:6] > after:
                    yield candidate

    @override
    def pattern(self, candidate: Candidate) -> AvailabilityEntry:
        start, bookable = candidate[0], self._bookable
        # Entries differ only by their policy outcome: one pattern per (too early, too late).
        key = (bookable.too_early(start), bookable.too_late(start))
        found = self._patterns.get(key)
        if found is None:
            found = self._patterns[key] = self._new_pattern(bookable.violations(start))
        return found

    def _new_pattern(self, violations: PolicyViolations) -> AvailabilityEntry:
        service = self._service
        slot = BookedSlot(
            service_id=service.id,
            timezone=self._staff.timezone,
            schedule_id=service.schedule_id,
            resource=self._resource,
            location=service.location,
        )
        return AvailabilityEntry(
            slot=slot,
            bookable=self.open_spots > 0 and not violations.any,
            total_spots=service.default_capacity,
            open_spots=self.open_spots,
            violations=violations,
        )


class EntryFactory:
    """Builds the entries of classes and courses for one query from `now` and the data."""

    def __init__(self, data: AvailabilityData, now: datetime) -> None:
        self._data = data
        self._now = now
        self._resources: dict[str, SlotResource] = {}

    def resource(self, staff_id: str) -> SlotResource:
        found = self._resources.get(staff_id)
        if found is None:
            staff = self._data.staff.get(staff_id)
            found = (
                SlotResource(id=staff_id)
                if staff is None
                else SlotResource(staff.id, staff.name, staff.email, staff.schedule_id)
            )
            self._resources[staff_id] = found
        return found

    def _waiting_list(self, service: Service, waiting: int) -> WaitingListSpots | None:
        policy = service.waiting_list
        if not policy.enabled or service.type is ServiceType.APPOINTMENT:
            return None
        return WaitingListSpots(policy.capacity, max(0, policy.capacity - waiting))

    def entry(
        self,
        service: Service,
        slot: BookedSlot,
        total_spots: int,
        occupancy: Occupancy,
        schedule_id: str = "",
    ) -> AvailabilityEntry:
        assert slot.start is not None and slot.end is not None
        violations = policy_violations(service, slot.start, self._now)
        free = max(0, total_spots - occupancy.taken)
        open_spots = max(0, free - occupancy.offered)
        return AvailabilityEntry(
            slot=slot,
            bookable=open_spots > 0 and not violations.any,
            total_spots=total_spots,
            open_spots=open_spots,
            violations=violations,
            waiting_list=self._waiting_list(service, occupancy.waiting),
            schedule_id=schedule_id,
            locked=free > 0 and open_spots == 0,
        )

    def class_sessions(
        self,
        service: Service,
        sessions: Sequence[Session],
        resource_ids: frozenset[str],
        start: datetime,
        end: datetime,
    ) -> list[AvailabilityEntry]:
        """One entry per session starting in [start, end), full ones included."""
        entries = []
        for session in sessions:
            if not start <= session.start < end:
                continue
            if resource_ids and session.staff_member_id not in resource_ids:
                continue
            slot = BookedSlot(
                service_id=service.id,
                start=session.start,
                end=session.end,
                timezone=session.timezone,
                session_id=session.id,
                schedule_id=session.schedule_id,
                resource=self.resource(session.staff_member_id),
                location=session.location,
            )
            occupancy = self._data.session_occupancy.get(session.id, Occupancy())
            entries.append(self.entry(service, slot, session.capacity, occupancy))
        return entries

    def course(
        self,
        service: Service,
        sessions: Sequence[Session],
        resource_ids: frozenset[str],
        start: datetime,
        end: datetime,
    ) -> list[AvailabilityEntry]:
        """The course (the service's schedule of sessions) when it runs during [start, end).

        It spans the first session's start to the last session's end; its capacity is the
        smallest session capacity (a seat is a seat in every session); the booking policy is
        judged at the first session's start.
        """
        if not sessions:
            return []
        first = min(sessions, key=lambda s: (s.start, s.id))
        last_end = max(s.end for s in sessions)
        if not (first.start < end and last_end > start):
            return []
        if resource_ids and not {s.staff_member_id for s in sessions} & resource_ids:
            return []
        slot = BookedSlot(
            service_id=service.id,
            start=first.start,
            end=last_end,
            timezone=first.timezone,
            schedule_id=service.schedule_id,
            resource=self.resource(first.staff_member_id),
            location=first.location,
        )
        occupancy = self._data.schedule_occupancy.get(service.schedule_id, Occupancy())
        capacity = min(s.capacity for s in sessions)
        return [self.entry(service, slot, capacity, occupancy, service.schedule_id)]


def _service_staff(
    service: Service, query: AvailabilityQuery, data: AvailabilityData
) -> list[StaffMember]:
    """The staff members of the service, each once, restricted to the queried resources."""
    resource_ids = query.resource_filter
    return [
        data.staff[staff_id]
        for staff_id in dict.fromkeys(service.staff_member_ids)
        if staff_id in data.staff and (not resource_ids or staff_id in resource_ids)
    ]


def _appointment_sources(
    service: Service,
    query: AvailabilityQuery,
    data: AvailabilityData,
    factory: EntryFactory,
    now: datetime,
    first_index: int,
    supply: PartSupply | None,
) -> list[Source]:
    """One source per staff member of the service, or with `merge_staff` one for them all."""
    staff = _service_staff(service, query, data)
    if service.duration is None or not staff:
        return []
    if query.merge_staff:
        return [
            MergedStaffSource(first_index, service, staff, data.busy, now, query.min_open_spots)
        ]
    if max(0, service.default_capacity) < query.min_open_spots:
        return []
    return [
        AppointmentSource(
            first_index + offset,
            service,
            member,
            factory.resource(member.id),
            _free_starts(service, member, query, data, supply),
            now,
        )
        for offset, member in enumerate(staff)
    ]


def _free_starts(
    service: Service,
    staff: StaffMember,
    query: AvailabilityQuery,
    data: AvailabilityData,
    supply: PartSupply | None,
) -> FreeStarts:
    """Where a staff member's free starts come from: generated, or parts from `supply`."""

    def free() -> FreeTime:
        return FreeTime(service.buffer_after, staff.blocked_times, data.busy.get(staff.id, ()))

    if supply is None:
        return GeneratedStarts(service, staff, free())
    assert query.start is not None and query.end is not None
    days = staff_days(service.id, staff.id, query.start, query.end)
    return PartedStarts(service, staff, free, days, supply)


def _group_entries(
    service: Service, sessions: Sequence[Session], query: AvailabilityQuery, factory: EntryFactory
) -> list[AvailabilityEntry]:
    """The entries of a class or course service with at least the queried open spots."""
    assert query.start is not None and query.end is not None
    if service.type is ServiceType.CLASS:
        found = factory.class_sessions(
            service, sessions, query.resource_filter, query.start, query.end
        )
    else:
        found = factory.course(service, sessions, query.resource_filter, query.start, query.end)
    return [entry for entry in found if entry.open_spots >= query.min_open_spots]


def build_sources(
    query: AvailabilityQuery,
    data: AvailabilityData,
    services: Sequence[Service],
    now: datetime,
    supply: PartSupply | None = None,
) -> list[Source]:
    """Where the query's entries come from, in the order a stable sort would keep ties;
    appointment slots from parts taken from `supply` when given (staff_days.py)."""
    factory = EntryFactory(data, now)
    sessions_by_service: dict[str, list[Session]] = defaultdict(list)
    for session in data.sessions:
        sessions_by_service[session.service_id].append(session)
    sources: list[Source] = []
    for service in services:
        if service.type is ServiceType.APPOINTMENT:
            sources.extend(
                _appointment_sources(service, query, data, factory, now, len(sources), supply)
            )
        else:
            sessions = sessions_by_service.get(service.id, [])
            sources.append(
                ListSource(len(sources), _group_entries(service, sessions, query, factory))
            )
    return sources
