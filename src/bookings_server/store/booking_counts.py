"""How much room a site's bookings take: the counting reads of `BookingRepository`.

Writers count `taken_spots` while they hold the unit's capacity lock (store/locks.py), so the
count and the write that follows are one serialized step per unit. The batch counts
(`taken_by_sessions`, `busy_intervals`, ...) serve availability, which reads without locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Executable,
    Select,
    Table,
    bindparam,
    func,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from bookings_server.domain.availability.slots import BusyInterval
from bookings_server.domain.booking import BookingStatus
from bookings_server.domain.capacity import MAX_STAFF_HOLD, CapacityUnit, UnitKind
from bookings_server.store.models.bookings import BookingRow

HOLDING = (BookingStatus.CONFIRMED.value, BookingStatus.PENDING.value)
_WAITING = (BookingStatus.WAITING_LIST.value,)

bookings_table: Table = BookingRow.__table__  # type: ignore[assignment]


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

    def taken_spots(self, unit: CapacityUnit, *, exclude_booking_id: str = "") -> int:
        """Participants of CONFIRMED and PENDING bookings holding room in `unit`.

        SESSION: bookings of the session. SCHEDULE: whole-course bookings of the schedule.
        STAFF: the staff member's appointment bookings whose [start, end + buffer) overlaps the
        unit's [start, blocked_until); class sessions the staff member teaches do not count.
        """
        parameters: dict[str, Any] = {"b_site_id": self._site_id, "b_unit": unit.id}
        if unit.kind is UnitKind.STAFF:
            assert unit.start is not None and unit.blocked_until is not None
            parameters.update(
                b_start=unit.start,
                b_until=unit.blocked_until,
                b_earliest=unit.start - MAX_STAFF_HOLD,
            )
        if exclude_booking_id:
            parameters["b_exclude"] = exclude_booking_id
        statement = _taken_statement(unit.kind, bool(exclude_booking_id))
        return int(execute(self._session, statement, parameters).scalar_one())

    def busy_intervals(
        self, staff_ids: Collection[str], start: datetime, end: datetime
    ) -> dict[str, list[BusyInterval]]:
        """CONFIRMED/PENDING appointments of these staff members whose [start, end + buffer)
        overlaps [start, end), as BusyIntervals per staff member (no JSON decoding)."""
        query = select(
            BookingRow.staff_member_id,
            BookingRow.start_date,
            BookingRow.end_date,
            BookingRow.blocked_until,
        ).where(*_overlapping(self._site_id, staff_ids, start, end))
        busy: dict[str, list[BusyInterval]] = defaultdict(list)
        for staff_id, busy_start, busy_end, blocked_until in self._session.execute(query):
            busy[staff_id].append(BusyInterval(busy_start, busy_end, blocked_until - busy_end))
        return dict(busy)

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
        conditions = [
            BookingRow.site_id == self._site_id,
            BookingRow.status.in_(statuses),
            column.in_(list(ids)),
        ]
        if whole_course:
            conditions.append(BookingRow.entity == "SCHEDULE")
        query = (
            select(column, func.sum(BookingRow.participants)).where(*conditions).group_by(column)
        )
        totals = dict.fromkeys(ids, 0)
        totals.update({key: int(total) for key, total in self._session.execute(query) if key})
        return totals


@cache
def _taken_statement(kind: UnitKind, excluding: bool) -> Select[tuple[Any]]:
    """`taken_spots`' query for one kind of unit, built once."""
    c = bookings_table.c
    # `or_` rather than `in_`: an IN list is re-rendered on every execution.
    holding = or_(*(c.status == status for status in HOLDING))
    query = select(func.coalesce(func.sum(c.participants), 0)).where(
        c.site_id == bindparam("b_site_id"), holding
    )
    if kind is UnitKind.SESSION:
        query = query.where(c.session_id == bindparam("b_unit"))
    elif kind is UnitKind.SCHEDULE:
        query = query.where(c.entity == "SCHEDULE", c.schedule_id == bindparam("b_unit"))
    else:  # the same conditions as _overlapping, for one staff member
        query = query.where(
            c.staff_member_id == bindparam("b_unit"),
            c.session_id.is_(None),
            c.entity == "SLOT",
            c.start_date > bindparam("b_earliest"),
            c.start_date < bindparam("b_until"),
            c.blocked_until > bindparam("b_start"),
        )
    if excluding:
        query = query.where(c.id != bindparam("b_exclude"))
    return query


def _overlapping(
    site_id: str, staff_ids: Collection[str], start: datetime, end: datetime
) -> tuple[ColumnElement[bool], ...]:
    """CONFIRMED/PENDING appointment bookings (slots without a session) of the staff members
    whose [start, end + buffer) overlaps [start, end).

    No appointment holds its staff member longer than MAX_STAFF_HOLD, which bounds the index
    range scan on (site_id, staff_member_id, start_date) from below.
    """
    return (
        BookingRow.site_id == site_id,
        BookingRow.status.in_(HOLDING),
        BookingRow.staff_member_id.in_(list(staff_ids)),
        BookingRow.session_id.is_(None),
        BookingRow.entity == "SLOT",
        BookingRow.start_date > start - MAX_STAFF_HOLD,
        BookingRow.start_date < end,
        BookingRow.blocked_until > start,
    )
