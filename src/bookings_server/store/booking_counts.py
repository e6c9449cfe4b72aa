"""How much room a site's bookings take: the counting reads of `BookingRepository`.

Writers count `taken_spots` while they hold the unit's capacity lock (store/locks.py), so the
count and the write that follows are one serialized step per unit. The batch counts
(`taken_by_sessions`, `busy_intervals`, ...) serve availability, which reads without locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    CursorResult,
    Executable,
    ScalarSelect,
    Select,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import String

from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.booking import BookingStatus
from bookings_server.domain.capacity import MAX_STAFF_HOLD, CapacityUnit, UnitKind
from bookings_server.store.models.bookings import BookingRow
from bookings_server.store.models.holds import HoldRow

HOLDING = (BookingStatus.CONFIRMED.value, BookingStatus.PENDING.value)
_WAITING = (BookingStatus.WAITING_LIST.value,)

bookings_table: Table = BookingRow.__table__  # type: ignore[assignment]
holds_table: Table = HoldRow.__table__  # type: ignore[assignment]


def execute(
    session: Session, statement: Executable, parameters: Mapping[str, Any]
) -> CursorResult[Any]:
    """Run a Core statement on the transaction's connection (no ORM execution layer)."""
    return session.connection().execute(statement, parameters)


class BookingCounts:
    """Participants holding room, per capacity unit, of one site's bookings."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def taken_spots(
        self,
        unit: CapacityUnit,
        *,
        now: datetime,
        exclude_booking_id: str = "",
        exclude_hold_id: str = "",
    ) -> int:
        """Participants holding room in `unit`: CONFIRMED and PENDING bookings, WAITING_LIST
        bookings whose offer runs at `now`, and the holds live at `now` (one statement).

        SESSION: bookings and holds of the session. SCHEDULE: whole-course ones of the schedule.
        STAFF: the staff member's appointments whose [start, end + buffer) overlaps the unit's
        [start, blocked_until); class sessions the staff member teaches do not count.
        `exclude_booking_id` leaves out that booking and the hold it was made from.
        """
        parameters: dict[str, Any] = {
            "b_site_id": self._site_id,
            "b_unit": unit.id,
            "b_now": now,
            "b_exclude": exclude_booking_id,
            "b_exclude_hold": exclude_hold_id,
        }
        if unit.kind is UnitKind.STAFF:
            assert unit.start is not None and unit.blocked_until is not None
            parameters.update(
                b_start=unit.start,
                b_until=unit.blocked_until,
                b_earliest=unit.start - MAX_STAFF_HOLD,
            )
        statement = _taken_statement(unit.kind)
        return int(execute(self._session, statement, parameters).scalar_one())

    def busy_intervals(
        self, staff_ids: Collection[str], start: datetime, end: datetime
    ) -> dict[str, list[BusyInterval]]:
        """CONFIRMED/PENDING appointments of these staff members whose [start, end + buffer)
        overlaps [start, end), as BusyIntervals per staff member (no JSON decoding)."""
        return self._intervals(_busy_statement, staff_ids, start, end, {})

    def _intervals(
        self,
        statement: Callable[[str], Select[Any]],
        staff_ids: Collection[str],
        start: datetime,
        end: datetime,
        parameters: dict[str, Any],
    ) -> dict[str, list[BusyInterval]]:
        """The rows of a prebuilt interval statement as BusyIntervals per staff member."""
        connection = self._session.connection()
        parameters.update(
            b_site_id=self._site_id,
            b_staff=list(staff_ids),
            b_earliest=start - MAX_STAFF_HOLD,
            b_start=start,
            b_end=end,
        )
        rows = connection.execute(statement(connection.dialect.name), parameters)
        intervals: dict[str, list[BusyInterval]] = defaultdict(list)
        for staff_id, busy_start, busy_end, blocked_until in rows:
            intervals[staff_id].append(BusyInterval(busy_start, busy_end, blocked_until - busy_end))
        return dict(intervals)

    def holding_per_staff(self, days: Mapping[str, tuple[datetime, datetime]]) -> dict[str, int]:
        """CONFIRMED/PENDING bookings of each staff member starting in their [first, after)
        window (0 if none), read with one indexed range query over all the windows."""
        if not days:
            return {}
        query = select(BookingRow.staff_member_id, BookingRow.start_date).where(
            BookingRow.site_id == self._site_id,
            BookingRow.staff_member_id.in_(list(days)),
            BookingRow.status.in_(HOLDING),
            BookingRow.start_date >= min(first for first, _ in days.values()),
            BookingRow.start_date < max(after for _, after in days.values()),
        )
        counts = dict.fromkeys(days, 0)
        for staff_id, start in self._session.execute(query):
            first, after = days[staff_id]
            if first <= start < after:
                counts[staff_id] += 1
        return counts

    def held_by_sessions(self, session_ids: Collection[str], now: datetime) -> dict[str, int]:
        """Participants of the holds live at `now` per class session (0 if none)."""
        return self._held_by(HoldRow.session_id, session_ids, now)

    def held_by_schedules(self, schedule_ids: Collection[str], now: datetime) -> dict[str, int]:
        """Participants of the whole-course holds live at `now` per schedule (0 if none)."""
        return self._held_by(HoldRow.schedule_id, schedule_ids, now, whole_course=True)

    def held_intervals(
        self, staff_ids: Collection[str], start: datetime, end: datetime, now: datetime
    ) -> dict[str, list[BusyInterval]]:
        """Appointment holds live at `now` of these staff members overlapping [start, end), as
        BusyIntervals per staff member: for availability they occupy like bookings."""
        return self._intervals(_held_statement, staff_ids, start, end, {"b_now": now})

    def next_expiry(
        self,
        staff_ids: Collection[str],
        session_ids: Collection[str],
        schedule_ids: Collection[str],
        now: datetime,
    ) -> datetime | None:
        """The earliest instant after `now` at which a hold or a waiting-list offer of these
        staff members, sessions or course schedules stops counting (None if none will): what
        availability computed at `now` stays good until, with no write in between. Any hold
        or offer of them counts (a superset of those that matter: an earlier answer is safe)."""
        holds = [HoldRow.staff_member_id.in_(list(staff_ids))] if staff_ids else []
        offers = []
        if session_ids:
            holds.append(HoldRow.session_id.in_(list(session_ids)))
            offers.append(BookingRow.session_id.in_(list(session_ids)))
        if schedule_ids:
            holds.append(HoldRow.schedule_id.in_(list(schedule_ids)))
            offers.append(BookingRow.schedule_id.in_(list(schedule_ids)))
        minimums: list[ScalarSelect[Any]] = []
        if holds:
            minimums.append(
                select(func.min(HoldRow.expires_date))
                .where(
                    HoldRow.site_id == self._site_id,
                    HoldRow.released.is_(False),
                    HoldRow.expires_date > now,
                    or_(*holds),
                )
                .scalar_subquery()
            )
        if offers:
            minimums.append(
                select(func.min(BookingRow.offer_expires))
                .where(
                    BookingRow.site_id == self._site_id,
                    BookingRow.status == BookingStatus.WAITING_LIST.value,
                    BookingRow.offer_expires > now,
                    or_(*offers),
                )
                .scalar_subquery()
            )
        if not minimums:
            return None
        found = self._session.execute(select(*minimums)).one()
        return min((moment for moment in found if moment is not None), default=None)

    def offered_by_sessions(self, session_ids: Collection[str], now: datetime) -> dict[str, int]:
        """Participants of WAITING_LIST bookings whose offer runs at `now`, per session."""
        return self._offered_by(BookingRow.session_id, session_ids, now)

    def offered_by_schedules(self, schedule_ids: Collection[str], now: datetime) -> dict[str, int]:
        """Participants of whole-course WAITING_LIST bookings whose offer runs at `now`."""
        return self._offered_by(BookingRow.schedule_id, schedule_ids, now, whole_course=True)

    def taken_by_sessions(self, session_ids: Collection[str]) -> dict[str, int]:
        """Participants of CONFIRMED/PENDING bookings per class session (0 if none)."""
        return self._participants_by(BookingRow.session_id, session_ids, HOLDING)

    def taken_by_schedules(self, schedule_ids: Collection[str]) -> dict[str, int]:
        """Participants of CONFIRMED/PENDING whole-course bookings per schedule (0 if none)."""
        return self._participants_by(
            BookingRow.schedule_id, schedule_ids, HOLDING, whole_course=True
        )

    def waiting_by_sessions(self, session_ids: Collection[str]) -> dict[str, int]:
        """Participants on the WAITING_LIST per class session (0 if none), for availability."""
        return self._participants_by(BookingRow.session_id, session_ids, _WAITING)

    def waiting_by_schedules(self, schedule_ids: Collection[str]) -> dict[str, int]:
        """Participants on the WAITING_LIST per course schedule (0 if none), for availability."""
        return self._participants_by(
            BookingRow.schedule_id, schedule_ids, _WAITING, whole_course=True
        )

    def _participants_by(
        self,
        column: InstrumentedAttribute[str | None],
        ids: Collection[str],
        statuses: tuple[str, ...],
        *,
        whole_course: bool = False,
    ) -> dict[str, int]:
        """Sum of participants of bookings in `statuses`, grouped by `column` (one query)."""
        return self._summed(
            BookingRow, column, ids, [BookingRow.status.in_(statuses)], whole_course
        )

    def _offered_by(
        self,
        column: InstrumentedAttribute[str | None],
        ids: Collection[str],
        now: datetime,
        *,
        whole_course: bool = False,
    ) -> dict[str, int]:
        """Sum of participants of WAITING_LIST bookings whose offer runs at `now`."""
        running = [
            BookingRow.status == BookingStatus.WAITING_LIST.value,
            BookingRow.offer_expires > now,
        ]
        return self._summed(BookingRow, column, ids, running, whole_course)

    def _held_by(
        self,
        column: InstrumentedAttribute[str | None],
        ids: Collection[str],
        now: datetime,
        *,
        whole_course: bool = False,
    ) -> dict[str, int]:
        """Sum of participants of the holds live at `now`, grouped by `column` (one query)."""
        live = [HoldRow.released.is_(False), HoldRow.expires_date > now]
        return self._summed(HoldRow, column, ids, live, whole_course)

    def _summed(
        self,
        model: type[BookingRow] | type[HoldRow],
        column: InstrumentedAttribute[str | None],
        ids: Collection[str],
        conditions: list[ColumnElement[bool]],
        whole_course: bool,
    ) -> dict[str, int]:
        """Participants of `model`'s rows meeting `conditions`, per `column` value (0 if none)."""
        where = [model.site_id == self._site_id, column.in_(list(ids)), *conditions]
        if whole_course:
            where.append(model.entity == "SCHEDULE")
        query = select(column, func.sum(model.participants)).where(*where).group_by(column)
        totals = dict.fromkeys(ids, 0)
        totals.update({key: int(total) for key, total in self._session.execute(query) if key})
        return totals


@cache
def _taken_statement(kind: UnitKind) -> Select[tuple[Any]]:
    """`taken_spots`' query for one kind of unit, built once: the participants of CONFIRMED and
    PENDING bookings, of WAITING_LIST bookings whose offer runs, and of live holds, summed in
    one statement. Ids are never empty, so binding "" for an exclusion
    excludes nothing."""
    c, h = bookings_table.c, holds_table.c
    # `or_` rather than `in_`: an IN list is re-rendered on every execution.
    offered = and_(
        c.status == BookingStatus.WAITING_LIST.value, c.offer_expires > bindparam("b_now")
    )
    holding = or_(*(c.status == status for status in HOLDING), offered)
    booked = select(func.coalesce(func.sum(c.participants), 0)).where(
        c.site_id == bindparam("b_site_id"), holding, c.id != bindparam("b_exclude")
    )
    held = select(func.coalesce(func.sum(h.participants), 0)).where(
        h.site_id == bindparam("b_site_id"),
        h.released.is_(False),
        h.expires_date > bindparam("b_now"),
        h.id != bindparam("b_exclude_hold"),
        or_(h.booking_id.is_(None), h.booking_id != bindparam("b_exclude")),
    )
    booked, held = booked.where(*_unit_conditions(c, kind)), held.where(*_unit_conditions(h, kind))
    return select(booked.scalar_subquery() + held.scalar_subquery())


def _unit_conditions(columns: Any, kind: UnitKind) -> tuple[ColumnElement[bool], ...]:
    """Which rows of `columns` (bookings or holds) take room in a unit of `kind`."""
    if kind is UnitKind.SESSION:
        return (columns.session_id == bindparam("b_unit"),)
    if kind is UnitKind.SCHEDULE:
        return (columns.entity == "SCHEDULE", columns.schedule_id == bindparam("b_unit"))
    # the same conditions as _slot_intervals, for one staff member
    return (
        columns.staff_member_id == bindparam("b_unit"),
        columns.session_id.is_(None),
        columns.entity == "SLOT",
        columns.start_date > bindparam("b_earliest"),
        columns.start_date < bindparam("b_until"),
        columns.blocked_until > bindparam("b_start"),
    )


def _any_staff(column: ColumnElement[Any], dialect: str) -> ColumnElement[bool]:
    """`column` is one of the ids bound as "b_staff", in one parameter whatever their number
    (an expanding IN would render the statement afresh on every execution)."""
    if dialect == "postgresql":
        return column == func.any(bindparam("b_staff", type_=ARRAY(String)))
    ids = select(func.json_each(bindparam("b_staff", type_=JSON)).table_valued("value").c.value)
    return column.in_(ids)


def _slot_intervals(columns: Any, dialect: str) -> Select[Any]:
    """Appointments (slots without a session) of the "b_staff" staff members whose
    [start, blocked_until) overlaps [b_start, b_end).

    No appointment holds its staff member longer than MAX_STAFF_HOLD ("b_earliest" is b_start
    minus it), which bounds the index range scan on (site_id, staff_member_id, start_date)
    from below.
    """
    return select(
        columns.staff_member_id, columns.start_date, columns.end_date, columns.blocked_until
    ).where(
        columns.site_id == bindparam("b_site_id"),
        _any_staff(columns.staff_member_id, dialect),
        columns.session_id.is_(None),
        columns.entity == "SLOT",
        columns.start_date > bindparam("b_earliest"),
        columns.start_date < bindparam("b_end"),
        columns.blocked_until > bindparam("b_start"),
    )


@cache
def _busy_statement(dialect: str) -> Select[Any]:
    """CONFIRMED/PENDING appointments overlapping the window (`BookingCounts.busy_intervals`)."""
    columns = bookings_table.c
    holding = or_(*(columns.status == status for status in HOLDING))
    return _slot_intervals(columns, dialect).where(holding)


@cache
def _held_statement(dialect: str) -> Select[Any]:
    """Appointment holds live at "b_now" overlapping the window (`held_intervals`)."""
    columns = holds_table.c
    return _slot_intervals(columns, dialect).where(
        columns.released.is_(False), columns.expires_date > bindparam("b_now")
    )
