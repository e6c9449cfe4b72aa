"""QueryAvailability: loads what one query needs in one read snapshot, then computes the page.

In bulk, one read per kind of data: the queried services (and their staff links), class
sessions starting in the range, each queried course's sessions, the staff members involved
(with their hours, then their blocked time), the CONFIRMED/PENDING bookings that can block an
appointment slot (a range read on (site_id, staff_member_id, start_date)), and the spots taken
per session and per course schedule (grouped counts). Nothing is read per slot, so the cost
grows with the catalog entries in range and the slots returned, not with the bookings stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityPage,
    Occupancy,
    booking_window,
)
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery, validate_query
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.catalog import Service, ServiceType, Session

__all__ = ["AvailabilityReader", "load_availability_data"]


class AvailabilityReader:
    """Answers QueryAvailability for one site."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def query(self, site_id: str, query: AvailabilityQuery) -> AvailabilityPage:
        """One page of `query`'s entries. InvalidArgument for an invalid query (field paths
        relative to the query), NotFound for a service that is not one of the site's."""
        validate_query(query)
        now = self._clock()
        with self._uow.read(site_id) as tx:
            data = load_availability_data(tx, query)
        return query_availability(query, data, now)


def _of_type(services: Iterable[Service], service_type: ServiceType) -> list[Service]:
    return [service for service in services if service.type is service_type]


def _occupancy(taken: dict[str, int], waiting: dict[str, int] | None) -> dict[str, Occupancy]:
    return {
        key: Occupancy(taken=count, waiting=(waiting or {}).get(key, 0))
        for key, count in taken.items()
    }


CountRead = Callable[[Collection[str]], dict[str, int]]


def _counts(read: CountRead, ids: Collection[str]) -> dict[str, int]:
    """`read`'s grouped counts for `ids`, without a query when there are none."""
    return read(ids) if ids else {}


def _sessions(
    tx: Transaction, query: AvailabilityQuery, classes: list[Service], courses: list[Service]
) -> list[Session]:
    """Class sessions starting in the range (one query), then every session of each course."""
    assert query.start is not None and query.end is not None
    sessions: list[Session] = []
    if classes:
        sessions = tx.catalog.list_sessions_between([s.id for s in classes], query.start, query.end)
    for course in courses:
        sessions.extend(tx.catalog.list_schedule_sessions(course.id))
    return sessions


def _occupancies(
    tx: Transaction, session_ids: list[str], schedule_ids: list[str], waitlist: bool
) -> tuple[dict[str, Occupancy], dict[str, Occupancy]]:
    """Occupancy per class session and per course schedule, from grouped counts."""
    bookings = tx.bookings
    session_taken = _counts(bookings.taken_by_sessions, session_ids)
    schedule_taken = _counts(bookings.taken_by_schedules, schedule_ids)
    session_waiting = schedule_waiting = None
    if waitlist:
        session_waiting = _counts(bookings.waiting_by_sessions, session_ids)
        schedule_waiting = _counts(bookings.waiting_by_schedules, schedule_ids)
    return _occupancy(session_taken, session_waiting), _occupancy(schedule_taken, schedule_waiting)


def load_availability_data(tx: Transaction, query: AvailabilityQuery) -> AvailabilityData:
    """The data of a validated query. NotFound when a service id is not one of the site's."""
    assert query.start is not None and query.end is not None
    services = tx.availability.get_services(query.unique_service_ids)
    appointments = _of_type(services.values(), ServiceType.APPOINTMENT)
    classes = _of_type(services.values(), ServiceType.CLASS)
    courses = _of_type(services.values(), ServiceType.COURSE)
    sessions = _sessions(tx, query, classes, courses)

    staff_ids = [i for s in appointments for i in s.staff_member_ids]
    if query.resource_filter:
        staff_ids = [i for i in staff_ids if i in query.resource_filter]
    session_staff_ids = [s.staff_member_id for s in sessions if s.staff_member_id]
    staff = tx.availability.list_staff([*staff_ids, *session_staff_ids])
    busy: dict[str, list[BusyInterval]] = {}
    if staff_ids:
        busy = tx.bookings.busy_intervals(
            staff_ids, *booking_window(query.start, query.end, appointments)
        )

    session_occupancy, schedule_occupancy = _occupancies(
        tx,
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
