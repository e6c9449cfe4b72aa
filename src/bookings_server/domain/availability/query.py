"""QueryAvailability (SPEC section 5): what can be booked, computed from catalog data.

Pure: the caller loads the catalog data of the query (`AvailabilityData`) and passes `now`.
Appointment slots come from `availability_slots`; request validation and page tokens from
`availability_query`.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from bookings_server.domain.availability.request import (
    AvailabilityQuery,
    encode_page_token,
    validate_query,
)
from bookings_server.domain.availability.slots import (
    BusyInterval,
    FreeTime,
    iter_slot_starts,
    zone_named,
)
from bookings_server.domain.booking import BookedSlot, SlotResource
from bookings_server.domain.catalog import Service, ServiceType, Session, StaffMember
from bookings_server.domain.errors import NotFound
from bookings_server.domain.policy import PolicyViolations, policy_violations

#: Bookings this far outside the range are still loaded: they may block a slot through the
#: slot's or their own buffer. Buffers longer than this are not honoured across the edge.
BOOKING_WINDOW_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class Occupancy:
    """Participants holding a session or course: CONFIRMED + PENDING, and on the waiting list."""

    taken: int = 0
    waiting: int = 0


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
    next_page_token: str
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


_MICROSECOND = timedelta(microseconds=1)
_UTC_MIN = datetime.min.replace(tzinfo=UTC)
_UTC_MAX = datetime.max.replace(tzinfo=UTC)


def _shifted(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, clamped to the representable range instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return _UTC_MAX if delta > timedelta(0) else _UTC_MIN


#: A candidate entry in the answer's order, without the cost of building it:
#: (start, end, service id, resource id, session id, schedule id, source index, position).
#: The first six are the sort key after `bookable`; source index and position make equal keys
#: keep the order in which the entries were found, as a stable sort would.
_Candidate = tuple[datetime, datetime, str, str, str, str, int, int]
#: A half-open range of slot starts.
_Window = tuple[datetime, datetime]


class _Source:
    """The entries of one service (and staff member), produced in sort-key order per phase."""

    def candidates(self, bookable: bool, start: datetime, end: datetime) -> Iterator[_Candidate]:
        """This source's entries for the query range [start, end) that are (not) `bookable`,
        in sort-key order."""
        raise NotImplementedError

    def pattern(self, candidate: _Candidate) -> AvailabilityEntry:
        """The entry `candidate` stands for, but for its times (see `PageRow`)."""
        raise NotImplementedError


class _ListSource(_Source):
    """Entries built up front (class sessions, courses: few per query)."""

    def __init__(self, index: int, entries: Iterable[AvailabilityEntry]) -> None:
        self._index = index
        self._entries = sorted(entries, key=AvailabilityEntry.sort_key)

    def candidates(self, bookable: bool, start: datetime, end: datetime) -> Iterator[_Candidate]:
        for position, entry in enumerate(self._entries):
            if entry.bookable == bookable:
                slot = entry.slot
                assert slot.end is not None
                yield (
                    entry.start,
                    slot.end,
                    slot.service_id,
                    slot.resource.id,
                    slot.session_id,
                    entry.schedule_id,
                    self._index,
                    position,
                )

    def pattern(self, candidate: _Candidate) -> AvailabilityEntry:
        return self._entries[candidate[7]]


class _AppointmentSource(_Source):
    """The free slots of one staff member for one appointment service, generated lazily.

    All slots of one service have the same spots, so whether a slot is bookable depends only
    on its start: bookable ones start in [bookable_from, bookable_until]. Each phase therefore
    generates only the part of the range it lists.
    """

    def __init__(
        self,
        index: int,
        service: Service,
        staff: StaffMember,
        resource: SlotResource,
        busy: Sequence[BusyInterval],
        now: datetime,
    ) -> None:
        assert service.duration is not None
        self._index = index
        self._service = service
        self._staff = staff
        self._resource = resource
        self._duration = service.duration
        self._free = FreeTime(service.buffer_after, staff.blocked_times, busy)
        self.open_spots = max(0, service.default_capacity)
        policy = service.policy
        #: Starts before this are too late to book.
        self._bookable_from = _shifted(now, policy.min_notice)
        #: Starts after this are too early to book.
        self._bookable_until = (
            None if policy.max_advance is None else _shifted(now, policy.max_advance)
        )
        self._patterns: dict[tuple[bool, bool], AvailabilityEntry] = {}
        self._any_bookable = (
            self.open_spots > 0
            and service.online_booking_enabled
            and (self._bookable_until is None or self._bookable_from <= self._bookable_until)
        )

    def _windows(self, bookable: bool, start: datetime, end: datetime) -> list[_Window]:
        low, until = self._bookable_from, self._bookable_until
        high = None if until is None else _shifted(until, _MICROSECOND)
        if not self._any_bookable:
            windows = [] if bookable else [(start, end)]
        elif bookable:
            windows = [(max(start, low), end if high is None else min(end, high))]
        else:
            windows = [(start, min(end, low))]
            if high is not None:
                windows.append((max(start, high), end))
        return [(a, b) for a, b in windows if a < b]

    def candidates(self, bookable: bool, start: datetime, end: datetime) -> Iterator[_Candidate]:
        duration, free = self._duration, self._free
        service_id, staff_id, index = self._service.id, self._staff.id, self._index
        for low, high in self._windows(bookable, start, end):
            for slot_start in iter_slot_starts(
                self._staff, duration, self._service.buffer_after, low, high
            ):
                slot_end = slot_start + duration
                if free.always or free.is_free(slot_start, slot_end):
                    yield (slot_start, slot_end, service_id, staff_id, "", "", index, 0)

    def pattern(self, candidate: _Candidate) -> AvailabilityEntry:
        start = candidate[0]
        key = (
            self._bookable_until is not None and start > self._bookable_until,
            start < self._bookable_from,
        )
        found = self._patterns.get(key)
        if found is None:
            found = self._patterns[key] = self._new_pattern(*key)
        return found

    def _new_pattern(self, too_early: bool, too_late: bool) -> AvailabilityEntry:
        service = self._service
        violations = PolicyViolations(too_early, too_late, not service.online_booking_enabled)
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


class _EntryFactory:
    """Builds entries for one query from `now` and the loaded data."""

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
        open_spots = max(0, total_spots - occupancy.taken)
        return AvailabilityEntry(
            slot=slot,
            bookable=open_spots > 0 and not violations.any,
            total_spots=total_spots,
            open_spots=open_spots,
            violations=violations,
            waiting_list=self._waiting_list(service, occupancy.waiting),
            schedule_id=schedule_id,
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


def _matches_filters(entry: AvailabilityEntry, query: AvailabilityQuery) -> bool:
    if query.bookable is not None and entry.bookable != query.bookable:
        return False
    return entry.open_spots >= query.min_open_spots


def _services(query: AvailabilityQuery, data: AvailabilityData) -> list[Service]:
    services = []
    for service_id in query.unique_service_ids:
        service = data.services.get(service_id)
        if service is None:
            raise NotFound(
                f"service {service_id!r} not found", "SERVICE_NOT_FOUND", service_id=service_id
            )
        services.append(service)
    return services


def _appointment_sources(
    service: Service,
    query: AvailabilityQuery,
    data: AvailabilityData,
    factory: _EntryFactory,
    now: datetime,
    first_index: int,
) -> list[_AppointmentSource]:
    """One source per staff member of the service (restricted to the queried resources)."""
    if service.duration is None or max(0, service.default_capacity) < query.min_open_spots:
        return []
    sources: list[_AppointmentSource] = []
    resource_ids = query.resource_filter
    for staff_id in dict.fromkeys(service.staff_member_ids):
        staff = data.staff.get(staff_id)
        if staff is None or (resource_ids and staff_id not in resource_ids):
            continue
        sources.append(
            _AppointmentSource(
                first_index + len(sources),
                service,
                staff,
                factory.resource(staff_id),
                data.busy.get(staff_id, ()),
                now,
            )
        )
    return sources


def _sources(
    query: AvailabilityQuery, data: AvailabilityData, services: list[Service], now: datetime
) -> list[_Source]:
    """Where the query's entries come from, in the order a stable sort would keep ties."""
    assert query.start is not None and query.end is not None
    factory = _EntryFactory(data, now)
    sessions_by_service: dict[str, list[Session]] = defaultdict(list)
    for session in data.sessions:
        sessions_by_service[session.service_id].append(session)
    sources: list[_Source] = []
    for service in services:
        sessions = sessions_by_service.get(service.id, [])
        if service.type is ServiceType.APPOINTMENT:
            sources.extend(_appointment_sources(service, query, data, factory, now, len(sources)))
            continue
        if service.type is ServiceType.CLASS:
            found = factory.class_sessions(
                service, sessions, query.resource_filter, query.start, query.end
            )
        else:
            found = factory.course(service, sessions, query.resource_filter, query.start, query.end)
        sources.append(
            _ListSource(len(sources), (e for e in found if e.open_spots >= query.min_open_spots))
        )
    return sources


def _ordered(query: AvailabilityQuery, sources: Sequence[_Source]) -> Iterator[_Candidate]:
    """Every candidate after the filters, bookable first, then by start (and the rest of
    `AvailabilityEntry.sort_key`): each phase is a lazy merge of the sources' sorted runs."""
    assert query.start is not None and query.end is not None
    phases = (True, False) if query.bookable is None else (query.bookable,)
    for bookable in phases:
        runs = [source.candidates(bookable, query.start, query.end) for source in sources]
        yield from runs[0] if len(runs) == 1 else heapq.merge(*runs)


def _limit_per_day(
    candidates: Iterable[_Candidate], limit: int, zone: ZoneInfo
) -> Iterator[_Candidate]:
    """At most `limit` entries per local day of `zone`, keeping the first ones in order."""
    counts: dict[date, int] = defaultdict(int)
    for candidate in candidates:
        day = candidate[0].astimezone(zone).date()
        if counts[day] < limit:
            counts[day] += 1
            yield candidate


class _WallTimes:
    """Wall-clock ISO texts of instants in one zone, each computed once per query."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._known: dict[datetime, str] = {}

    def __call__(self, instant: datetime) -> str:
        found = self._known.get(instant)
        if found is None:
            found = instant.astimezone(self._zone).replace(tzinfo=None).isoformat()
            self._known[instant] = found
        return found


def query_availability(
    query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> AvailabilityPage:
    """One page of the query's entries: bookable first, then by start.

    Only what the page needs is generated: entries up to the page's end (plus one, to know
    whether a next page exists), and only the page's rows are built (see `PageRow`).

    Raises InvalidArgument for an invalid request (see `validate_query`) and NotFound when a
    service is missing from `data`.
    """
    offset = validate_query(query)
    services = _services(query, data)
    zone_name = query.timezone or services[0].timezone
    zone = zone_named(zone_name)
    sources = _sources(query, data, services, now)
    candidates: Iterable[_Candidate] = _ordered(query, sources) if sources else ()
    if query.slots_per_day > 0:
        candidates = _limit_per_day(candidates, query.slots_per_day, zone)
    page_end = offset + query.effective_page_size
    window = list(islice(candidates, offset, page_end + 1))
    token = encode_page_token(query, page_end) if len(window) > page_end - offset else ""
    wall_time = _WallTimes(zone)
    rows = tuple(
        (sources[c[6]].pattern(c), c[0], c[1], wall_time(c[0]), wall_time(c[1]))
        for c in window[: page_end - offset]
    )
    return AvailabilityPage(rows, token, zone_name)
