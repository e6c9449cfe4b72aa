"""How long a computed availability answer stays right: what it depends on, and until when
the clock alone leaves it unchanged.

An answer computed at `now` from `data` is the answer of any later instant while (a) the
availability versions of `dependency_keys` are unchanged (no committed write touched them),
(b) the clock has not reached `policy_stable_until`, when the first entry's too-late or
too-early flag flips, and (c) no hold or waiting-list offer it counted has expired (the
store tells that instant). app/availability_cache.py checks all three on every reuse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import islice

from bookings_server.domain.availability.entries import AvailabilityData, booking_window
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.slots import iter_slot_starts
from bookings_server.domain.availability.versions import (
    CATALOG,
    schedule_key,
    session_key,
    staff_day_keys,
)
from bookings_server.domain.catalog import Service, ServiceType, Session

__all__ = [
    "appointment_keys",
    "appointment_staff_ids",
    "dependency_keys",
    "group_keys",
    "policy_stable_until",
]


def appointment_staff_ids(query: AvailabilityQuery, services: list[Service]) -> list[str]:
    """The staff members whose bookings the query's appointment slots depend on."""
    staff_ids = [
        staff_id
        for service in services
        if service.type is ServiceType.APPOINTMENT
        for staff_id in service.staff_member_ids
    ]
    if query.resource_filter:
        staff_ids = [i for i in staff_ids if i in query.resource_filter]
    return list(dict.fromkeys(staff_ids))


def appointment_keys(query: AvailabilityQuery, services: Sequence[Service]) -> frozenset[str]:
    """The availability versions the appointment slots of `query` depend on (with the
    catalog's): known from the catalog alone, before any booking is read."""
    assert query.start is not None and query.end is not None
    staff_ids = appointment_staff_ids(query, list(services))
    window = booking_window(query.start, query.end, services)
    return frozenset((CATALOG, *staff_day_keys(staff_ids, *window)))


def group_keys(services: Mapping[str, Service], sessions: Sequence[Session]) -> frozenset[str]:
    """The availability versions the class sessions and courses of a query depend on (their
    spots), known from the catalog: the queried sessions' and the courses' schedules'."""
    keys = {
        session_key(session.id)
        for session in sessions
        if (service := services.get(session.service_id)) is not None
        and service.type is ServiceType.CLASS
    }
    keys.update(
        schedule_key(service.schedule_id)
        for service in services.values()
        if service.type is ServiceType.COURSE
    )
    return frozenset(keys)


def dependency_keys(
    query: AvailabilityQuery, services: Mapping[str, Service], sessions: Sequence[Session]
) -> frozenset[str]:
    """The availability versions the answer of `query` depends on, from its services and
    sessions (the catalog) alone: known before any booking is read."""
    return appointment_keys(query, list(services.values())) | group_keys(services, sessions)


def policy_stable_until(
    query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> datetime | None:
    """The first instant after `now` at which an entry of the query's range changes its
    too-late or too-early flag (None: never). Every start of the range counts, bookable or
    not and free or not: a superset of the entries, so the instant is never late."""
    assert query.start is not None and query.end is not None
    flips = [
        start - offset
        for service in data.services.values()
        for offset in _offsets(service)
        for start in islice(_starts_from(service, data, now + offset, query.start, query.end), 1)
    ]
    return min(flips, default=None)


def _offsets(service: Service) -> list[timedelta]:
    """How far ahead of a start its flags flip: min_notice (too late), max_advance (too early)."""
    policy = service.policy
    return [policy.min_notice] + ([policy.max_advance] if policy.max_advance is not None else [])


def _starts_from(
    service: Service, data: AvailabilityData, earliest: datetime, start: datetime, end: datetime
) -> Iterator[datetime]:
    """The starts from `earliest` on of the service's entries in [start, end), ascending
    enough for the first to be the earliest: per staff member's first slot (appointments),
    per session (classes); a course's entry starts at its first session, wherever that is."""
    sessions = [s for s in data.sessions if s.service_id == service.id]
    if service.type is ServiceType.COURSE:
        first = min(sessions, key=lambda s: (s.start, s.id), default=None)
        if first is not None and first.start >= earliest:
            yield first.start
        return
    low = max(earliest, start)
    if low >= end:
        return
    if service.type is ServiceType.CLASS:
        yield from sorted(s.start for s in sessions if low <= s.start < end)
        return
    if service.duration is None:
        return
    firsts = [
        next(iter_slot_starts(staff, service.duration, service.buffer_after, low, end), None)
        for staff_id in service.staff_member_ids
        if (staff := data.staff.get(staff_id)) is not None
    ]
    yield from sorted(first for first in firsts if first is not None)
