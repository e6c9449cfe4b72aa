"""QueryAvailability: loads what one query needs in one read snapshot, then computes the page.

In bulk, one read per kind of data: the queried services (and their staff links), class
sessions starting in the range, each queried course's sessions, the staff members involved
(with their hours, then their blocked time), the CONFIRMED/PENDING bookings that can block an
appointment slot (a range read on (site_id, staff_member_id, start_date)), and the spots taken
per session and per course schedule (grouped counts). Nothing is read per slot, so the cost
grows with the catalog entries in range and the slots returned, not with the bookings stored.

With the answer cache, bookings and counts are read only for what the parts kept from
earlier queries do not cover (app/availability_parts.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from functools import partial

from bookings_server.app.availability_cache import AvailabilityAnswer, AvailabilityCache
from bookings_server.app.availability_parts import SCHEDULE, SESSION, CallParts
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityPage,
    EntryPosition,
    Occupancy,
    booking_window,
)
from bookings_server.domain.availability.freshness import (
    appointment_staff_ids,
    dependency_keys,
    policy_stable_until,
)
from bookings_server.domain.availability.paging import decode_position, encode_position
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery, validate_query
from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.availability.staff_days import PartSupply
from bookings_server.domain.availability.versions import CATALOG
from bookings_server.domain.catalog import Service, ServiceType, Session
from bookings_server.domain.deadline import current_deadline
from bookings_server.domain.page_tokens import PageTokenCodec

__all__ = ["AvailabilityReader", "load_availability_data"]

#: Longest a query waits for another thread computing the same answer, and how many such
#: computations it waits for before computing its own.
MAX_WAIT_S = 5.0
MAX_TURNS = 3


class AvailabilityReader:
    """Answers QueryAvailability for one site; its page tokens are signed by `page_tokens`.

    With a `cache`, answers are reused while they are right (app/availability_cache.py): a
    reuse costs one statement, the read of the versions the answer depends on.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock = utc_now,
        *,
        page_tokens: PageTokenCodec,
        cache: AvailabilityCache | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._tokens = page_tokens
        self._cache = cache

    def query(self, site_id: str, query: AvailabilityQuery) -> tuple[AvailabilityPage, str]:
        """The page of `query`'s entries its page token points at, and the next page's token
        ("" on the last page). InvalidArgument for an invalid query (field paths relative to
        the query) or page token, NotFound for a service that is not one of the site's."""
        answer = self.answer(site_id, query)
        return answer.page, answer.next_page_token

    def answer(self, site_id: str, query: AvailabilityQuery) -> AvailabilityAnswer:
        """`query`'s page as an answer that may be shared with other calls: never change it."""
        validate_query(query)
        after = decode_position(self._tokens, site_id, query)
        now = self._clock()
        if self._cache is None:
            with self._uow.read(site_id) as tx:
                data = load_availability_data(tx, query, now)
            return self._computed(site_id, query, data, now, after)
        key = (site_id, query)
        cached = self._cache.get(key)
        known = self._uow.availability_versions(
            site_id, cached.versions.keys() if cached is not None else (CATALOG,)
        )
        if cached is not None and cached.holds_at(known, now):
            self._cache.count(hit=True)
            return cached
        for _ in range(MAX_TURNS):
            with self._cache.computing(key, _wait_s()) as turn:
                stored = turn.answer
                if stored is not None and not stored.versions.keys() <= known.keys():
                    # Computed meanwhile for keys this call has not read (its first query
                    # knew only the catalog's): read them now; later versions are stricter.
                    known = self._uow.availability_versions(site_id, stored.versions.keys())
                if stored is not None and stored.holds_at(known, now):
                    self._cache.count(hit=True)
                    return stored
                if turn.leader:
                    return self._fresh(site_id, query, after, known, now)
        return self._fresh(site_id, query, after, known, now)

    def _fresh(
        self,
        site_id: str,
        query: AvailabilityQuery,
        after: EntryPosition | None,
        known: Mapping[str, int],
        now: datetime,
    ) -> AvailabilityAnswer:
        """`query`'s answer computed now and cached, with the versions `known` before."""
        assert self._cache is not None
        parts = CallParts(self._cache, site_id, query, known, now)
        with self._uow.read(site_id) as tx:
            data = load_availability_data(tx, query, now, parts)
            expiry = _next_expiry(tx, query, data, now)
        parts.finish(expiry)
        answer = self._computed(site_id, query, data, now, after, parts.supply)
        answer.versions = parts.answer_versions()
        answer.valid_until = _earliest(policy_stable_until(query, data, now), expiry)
        self._cache.count(hit=False)
        self._cache.put((site_id, query), answer)
        return answer

    def _computed(
        self,
        site_id: str,
        query: AvailabilityQuery,
        data: AvailabilityData,
        now: datetime,
        after: EntryPosition | None,
        parts: PartSupply | None = None,
    ) -> AvailabilityAnswer:
        """The page of `query` after `after`, from `data` (and `parts`), good for `now` only."""
        page = query_availability(query, data, now, after, parts)
        token = ""
        if page.next_position is not None:
            token = encode_position(self._tokens, site_id, query, page.next_position)
        return AvailabilityAnswer(page, token, versions={}, valid_until=now)


def _wait_s() -> float:
    """How long a query waits for another thread computing its answer: its call's time."""
    deadline = current_deadline.get()
    return MAX_WAIT_S if deadline is None else min(MAX_WAIT_S, deadline.remaining())


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


def _next_expiry(
    tx: Transaction, query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> datetime | None:
    """When the first hold or offer the answer counted stops counting."""
    services = list(data.services.values())
    return tx.bookings.next_expiry(
        appointment_staff_ids(query, services),
        [s.id for s in data.sessions if data.services[s.service_id].type is ServiceType.CLASS],
        [s.schedule_id for s in services if s.type is ServiceType.COURSE],
        now,
    )


def _of_type(services: Iterable[Service], service_type: ServiceType) -> list[Service]:
    return [service for service in services if service.type is service_type]


def _occupancy(
    taken: dict[str, int], held: dict[str, int], waiting: dict[str, int], offered: dict[str, int]
) -> dict[str, Occupancy]:
    return {
        key: Occupancy(
            taken=count + held.get(key, 0),
            waiting=waiting.get(key, 0),
            offered=offered.get(key, 0),
        )
        for key, count in taken.items()
    }


CountRead = Callable[[Collection[str]], dict[str, int]]


def _counts(read: CountRead, ids: Collection[str]) -> dict[str, int]:
    """`read`'s grouped counts for `ids`, without a query when there are none."""
    return read(ids) if ids else {}


def _merged(
    booked: dict[str, list[BusyInterval]], held: dict[str, list[BusyInterval]]
) -> dict[str, list[BusyInterval]]:
    """What keeps each staff member busy: bookings and live holds alike."""
    for staff_id, intervals in held.items():
        booked.setdefault(staff_id, []).extend(intervals)
    return booked


def _sessions(
    tx: Transaction, query: AvailabilityQuery, classes: list[Service], courses: list[Service]
) -> list[Session]:
    """Class sessions starting in the range (one query), then every session of each course."""
    assert query.start is not None and query.end is not None
    sessions: list[Session] = []
    if classes:
        sessions = tx.cached_catalog.list_sessions_between(
            [s.id for s in classes], query.start, query.end
        )
    for course in courses:
        sessions.extend(tx.cached_catalog.list_schedule_sessions(course.id))
    return sessions


def _occupancies(
    tx: Transaction,
    session_ids: list[str],
    schedule_ids: list[str],
    waitlist: bool,
    now: datetime,
) -> tuple[dict[str, Occupancy], dict[str, Occupancy]]:
    """Occupancy per class session and per course schedule, from grouped counts: bookings
    holding spots, live holds, and (with a waiting list) the line and its running offers."""
    bookings = tx.bookings
    sessions = (
        _counts(bookings.taken_by_sessions, session_ids),
        _counts(partial(bookings.held_by_sessions, now=now), session_ids),
    )
    schedules = (
        _counts(bookings.taken_by_schedules, schedule_ids),
        _counts(partial(bookings.held_by_schedules, now=now), schedule_ids),
    )
    no_line: tuple[dict[str, int], dict[str, int]] = ({}, {})
    session_line, schedule_line = no_line, no_line
    if waitlist:
        session_line = (
            _counts(bookings.waiting_by_sessions, session_ids),
            _counts(partial(bookings.offered_by_sessions, now=now), session_ids),
        )
        schedule_line = (
            _counts(bookings.waiting_by_schedules, schedule_ids),
            _counts(partial(bookings.offered_by_schedules, now=now), schedule_ids),
        )
    return _occupancy(*sessions, *session_line), _occupancy(*schedules, *schedule_line)


def _group_occupancies(
    tx: Transaction,
    parts: CallParts | None,
    session_ids: list[str],
    schedule_ids: list[str],
    waitlist: bool,
    now: datetime,
) -> tuple[dict[str, Occupancy], dict[str, Occupancy]]:
    """`_occupancies`; with `parts`, counted only for the sessions and schedules whose
    occupancy parts do not hold, the others' taken from those parts."""
    if parts is None:
        return _occupancies(tx, session_ids, schedule_ids, waitlist, now)
    sessions, schedules = _occupancies(
        tx,
        parts.stale_groups(SESSION, session_ids, waitlist),
        parts.stale_groups(SCHEDULE, schedule_ids, waitlist),
        waitlist,
        now,
    )
    return (
        parts.occupancy(SESSION, session_ids, waitlist, sessions),
        parts.occupancy(SCHEDULE, schedule_ids, waitlist, schedules),
    )


def load_availability_data(
    tx: Transaction, query: AvailabilityQuery, now: datetime, parts: CallParts | None = None
) -> AvailabilityData:
    """The data of a validated query, with holds and offers live at `now`. NotFound when a
    service id is not one of the site's.

    With `parts`, bookings, holds and counts are read only for the staff members, sessions
    and schedules whose parts kept from earlier queries no longer hold
    (app/availability_parts.py); the others' come from those parts.
    """
    assert query.start is not None and query.end is not None
    services = tx.availability.get_services(query.unique_service_ids)
    appointments = _of_type(services.values(), ServiceType.APPOINTMENT)
    classes = _of_type(services.values(), ServiceType.CLASS)
    courses = _of_type(services.values(), ServiceType.COURSE)
    sessions = _sessions(tx, query, classes, courses)

    staff_ids = appointment_staff_ids(query, appointments)
    session_staff_ids = [s.staff_member_id for s in sessions if s.staff_member_id]
    staff = tx.availability.list_staff([*staff_ids, *session_staff_ids])
    busy_ids = staff_ids
    if parts is not None:
        parts.learn(tx.availability_versions.read, dependency_keys(query, services, sessions))
        busy_ids = parts.stale_staff(appointments)
    busy: dict[str, list[BusyInterval]] = {}
    if busy_ids:
        window = booking_window(query.start, query.end, appointments)
        busy = _merged(
            tx.bookings.busy_intervals(busy_ids, *window),
            tx.bookings.held_intervals(busy_ids, *window, now),
        )

    session_ids = [s.id for s in sessions if services[s.service_id].type is ServiceType.CLASS]
    schedule_ids = [course.schedule_id for course in courses]
    waitlist = any(s.waiting_list.enabled for s in classes + courses)
    session_occupancy, schedule_occupancy = _group_occupancies(
        tx, parts, session_ids, schedule_ids, waitlist, now
    )
    return AvailabilityData(
        services=services,
        staff={member.id: member for member in staff},
        sessions=sessions,
        busy=busy,
        session_occupancy=session_occupancy,
        schedule_occupancy=schedule_occupancy,
    )
