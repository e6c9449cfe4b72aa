"""Loads what one QueryAvailability needs, in one read snapshot, one query per kind of data.

In bulk: the queried services (and their staff links), class sessions starting in the range,
each queried course's sessions, the staff members involved (with their hours, then their
blocked time), the CONFIRMED/PENDING bookings that can block an appointment slot (a range
read on (site_id, staff_member_id, start_date)), and the spots taken per session and per
course schedule (grouped counts). Nothing is read per slot, so the cost grows with the
catalog entries in range and the slots returned, not with the bookings stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime

from sqlalchemy.orm import Session as DbSession

from bookings_server.domain.availability.query import (
    AvailabilityData,
    AvailabilityPage,
    Occupancy,
    booking_window,
    query_availability,
)
from bookings_server.domain.availability.request import AvailabilityQuery, validate_query
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.catalog import Service, ServiceType, Session
from bookings_server.store import availability_reads, booking_repository, catalog_repository
from bookings_server.store.database import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class AvailabilityReader:
    """Answers QueryAvailability for one site from the database."""

    def __init__(self, database: Database, clock: Clock = utc_now) -> None:
        self._database = database
        self._clock = clock

    def query(self, site_id: str, query: AvailabilityQuery) -> AvailabilityPage:
        validate_query(query)
        now = self._clock()
        with self._database.read() as db:
            data = load_availability_data(db, site_id, query)
        return query_availability(query, data, now)


def _of_type(services: Iterable[Service], service_type: ServiceType) -> list[Service]:
    return [service for service in services if service.type is service_type]


def _occupancy(taken: dict[str, int], waiting: dict[str, int] | None) -> dict[str, Occupancy]:
    return {
        key: Occupancy(taken=count, waiting=(waiting or {}).get(key, 0))
        for key, count in taken.items()
    }


CountRead = Callable[[DbSession, str, Collection[str]], dict[str, int]]


def _counts(read: CountRead, db: DbSession, site_id: str, ids: Collection[str]) -> dict[str, int]:
    """`read`'s grouped counts for `ids`, without a query when there are none."""
    return read(db, site_id, ids) if ids else {}


def _sessions(
    db: DbSession,
    site_id: str,
    query: AvailabilityQuery,
    classes: list[Service],
    courses: list[Service],
) -> list[Session]:
    """Class sessions starting in the range (one query), then every session of each course."""
    assert query.start is not None and query.end is not None
    sessions: list[Session] = []
    if classes:
        sessions = catalog_repository.list_sessions_between(
            db, site_id, [s.id for s in classes], query.start, query.end
        )
    for course in courses:
        sessions.extend(catalog_repository.list_schedule_sessions(db, site_id, course.id))
    return sessions


def _occupancies(
    db: DbSession, site_id: str, session_ids: list[str], schedule_ids: list[str], waitlist: bool
) -> tuple[dict[str, Occupancy], dict[str, Occupancy]]:
    """Occupancy per class session and per course schedule, from grouped counts."""
    session_taken = _counts(booking_repository.taken_by_sessions, db, site_id, session_ids)
    schedule_taken = _counts(booking_repository.taken_by_schedules, db, site_id, schedule_ids)
    session_waiting = schedule_waiting = None
    if waitlist:
        session_waiting = _counts(booking_repository.waiting_by_sessions, db, site_id, session_ids)
        schedule_waiting = _counts(
            booking_repository.waiting_by_schedules, db, site_id, schedule_ids
        )
    return _occupancy(session_taken, session_waiting), _occupancy(schedule_taken, schedule_waiting)


def load_availability_data(
    db: DbSession, site_id: str, query: AvailabilityQuery
) -> AvailabilityData:
    """The data of a validated query. NotFound when a service id is not one of the site's."""
    assert query.start is not None and query.end is not None
    services = availability_reads.get_services(db, site_id, query.unique_service_ids)
    appointments = _of_type(services.values(), ServiceType.APPOINTMENT)
    classes = _of_type(services.values(), ServiceType.CLASS)
    courses = _of_type(services.values(), ServiceType.COURSE)
    sessions = _sessions(db, site_id, query, classes, courses)

    staff_ids = [i for s in appointments for i in s.staff_member_ids]
    if query.resource_filter:
        staff_ids = [i for i in staff_ids if i in query.resource_filter]
    session_staff_ids = [s.staff_member_id for s in sessions if s.staff_member_id]
    staff = availability_reads.list_staff(db, site_id, [*staff_ids, *session_staff_ids])
    busy: dict[str, list[BusyInterval]] = {}
    if staff_ids:
        busy = booking_repository.busy_intervals(
            db, site_id, staff_ids, *booking_window(query.start, query.end, appointments)
        )

    session_occupancy, schedule_occupancy = _occupancies(
        db,
        site_id,
        [s.id for s in sessions if services[s.service_id].type is ServiceType.CLASS],
        [course.schedule_id for course in courses],
        waitlist=any(s.waiting_list.enabled for s in classes + courses),
    )
    return AvailabilityData(
        services=services,
        staff={member.id: member for member in staff},
        sessions=sessions,
        busy=busy,
        session_occupancy=session_occupancy,
        schedule_occupancy=schedule_occupancy,
    )
