"""QueryAvailability (SPEC section 5): what can be booked, computed from catalog data.

Pure: the caller loads the catalog data of the query (`AvailabilityData`) and passes `now`.
Appointment slots come from `availability_slots`; request validation and page tokens from
`availability_query`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bookings_server.domain.availability_query import (
    AvailabilityQuery,
    encode_page_token,
    validate_query,
)
from bookings_server.domain.availability_slots import (
    BusyInterval,
    open_slots,
    working_hours_slots,
)
from bookings_server.domain.booking import BookedSlot, SlotResource
from bookings_server.domain.catalog import Service, ServiceType, Session, StaffMember
from bookings_server.domain.errors import NotFound

#: Bookings this far outside the range are still loaded: they may block a slot through the
#: slot's or their own buffer. Buffers longer than this are not honoured across the edge.
BOOKING_WINDOW_MARGIN = timedelta(days=1)


@dataclass(frozen=True)
class PolicyViolations:
    """Why the service's booking policy refuses a slot now (SPEC 3.7)."""

    too_early_to_book: bool = False
    too_late_to_book: bool = False
    book_online_disabled: bool = False

    @property
    def any(self) -> bool:
        return self.too_early_to_book or self.too_late_to_book or self.book_online_disabled


def policy_violations(service: Service, start: datetime, now: datetime) -> PolicyViolations:
    """The policy rules a booking starting at `start` breaks when made at `now`.

    Too late: it starts sooner than min_notice from now (a start in the past always is).
    Too early: it starts further ahead than max_advance.
    """
    policy = service.policy
    return PolicyViolations(
        too_early_to_book=policy.max_advance is not None and start > now + policy.max_advance,
        too_late_to_book=start < now + policy.min_notice,
        book_online_disabled=not service.online_booking_enabled,
    )


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


@dataclass(frozen=True)
class AvailabilityPage:
    entries: tuple[AvailabilityEntry, ...]
    next_page_token: str
    #: The zone local times are reported in.
    timezone: str


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


class _EntryFactory:
    """Builds entries for one query from `now` and the loaded data."""

    def __init__(self, data: AvailabilityData, now: datetime) -> None:
        self._data = data
        self._now = now

    def _resource(self, staff_id: str) -> SlotResource:
        staff = self._data.staff.get(staff_id)
        if staff is None:
            return SlotResource(id=staff_id)
        return SlotResource(staff.id, staff.name, staff.email, staff.schedule_id)

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

    def appointments(
        self, service: Service, resource_ids: frozenset[str], start: datetime, end: datetime
    ) -> list[AvailabilityEntry]:
        """Free slots of each of the service's staff members (busy ones are left out)."""
        if service.duration is None:
            return []
        entries = []
        for staff_id in dict.fromkeys(service.staff_member_ids):
            staff = self._data.staff.get(staff_id)
            if staff is None or (resource_ids and staff_id not in resource_ids):
                continue
            offered = working_hours_slots(staff, service.duration, service.buffer_after, start, end)
            free = open_slots(
                offered,
                service.buffer_after,
                staff.blocked_times,
                self._data.busy.get(staff_id, ()),
            )
            for slot_time in free:
                slot = BookedSlot(
                    service_id=service.id,
                    start=slot_time.start,
                    end=slot_time.end,
                    timezone=staff.timezone,
                    schedule_id=service.schedule_id,
                    resource=self._resource(staff_id),
                    location=service.location,
                )
                entries.append(self.entry(service, slot, service.default_capacity, Occupancy()))
        return entries

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
                resource=self._resource(session.staff_member_id),
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
            resource=self._resource(first.staff_member_id),
            location=first.location,
        )
        occupancy = self._data.schedule_occupancy.get(service.schedule_id, Occupancy())
        capacity = min(s.capacity for s in sessions)
        return [self.entry(service, slot, capacity, occupancy, service.schedule_id)]


def _matches_filters(entry: AvailabilityEntry, query: AvailabilityQuery) -> bool:
    if query.bookable is not None and entry.bookable != query.bookable:
        return False
    return entry.open_spots >= query.min_open_spots


def _limit_per_day(
    entries: Sequence[AvailabilityEntry], limit: int, zone: ZoneInfo
) -> list[AvailabilityEntry]:
    """At most `limit` entries per local day of `zone`, keeping the first ones in order."""
    if limit <= 0:
        return list(entries)
    counts: dict[date, int] = defaultdict(int)
    kept = []
    for entry in entries:
        day = entry.start.astimezone(zone).date()
        if counts[day] < limit:
            counts[day] += 1
            kept.append(entry)
    return kept


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


def all_entries(
    query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> tuple[list[AvailabilityEntry], str]:
    """Every entry of a (valid) query after filters, ordering and slots_per_day, and the
    name of the zone local times are reported in."""
    assert query.start is not None and query.end is not None
    services = _services(query, data)
    zone_name = query.timezone or services[0].timezone
    zone = ZoneInfo(zone_name)
    factory = _EntryFactory(data, now)
    sessions_by_service: dict[str, list[Session]] = defaultdict(list)
    for session in data.sessions:
        sessions_by_service[session.service_id].append(session)
    entries: list[AvailabilityEntry] = []
    for service in services:
        sessions = sessions_by_service.get(service.id, [])
        if service.type is ServiceType.APPOINTMENT:
            found = factory.appointments(service, query.resource_filter, query.start, query.end)
        elif service.type is ServiceType.CLASS:
            found = factory.class_sessions(
                service, sessions, query.resource_filter, query.start, query.end
            )
        else:
            found = factory.course(service, sessions, query.resource_filter, query.start, query.end)
        entries.extend(entry for entry in found if _matches_filters(entry, query))
    entries.sort(key=AvailabilityEntry.sort_key)
    return _limit_per_day(entries, query.slots_per_day, zone), zone_name


def _wall_time(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).replace(tzinfo=None).isoformat()


def _with_local_times(entry: AvailabilityEntry, zone: ZoneInfo) -> AvailabilityEntry:
    assert entry.slot.end is not None
    return replace(
        entry,
        local_start=_wall_time(entry.start, zone),
        local_end=_wall_time(entry.slot.end, zone),
    )


def query_availability(
    query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> AvailabilityPage:
    """One page of the query's entries: bookable first, then by start.

    Raises InvalidArgument for an invalid request (see `validate_query`) and NotFound when a
    service is missing from `data`.
    """
    offset = validate_query(query)
    entries, zone_name = all_entries(query, data, now)
    page_end = offset + query.effective_page_size
    token = encode_page_token(query, page_end) if page_end < len(entries) else ""
    zone = ZoneInfo(zone_name)
    page = tuple(_with_local_times(entry, zone) for entry in entries[offset:page_end])
    return AvailabilityPage(page, token, zone_name)
