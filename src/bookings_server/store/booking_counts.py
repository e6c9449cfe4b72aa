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
    ScalarSelect,
    Select,
    Table,
    and_,
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
        query = select(
            HoldRow.staff_member_id, HoldRow.start_date, HoldRow.end_date, HoldRow.blocked_until
        ).where(
            HoldRow.site_id == self._site_id,
            HoldRow.released.is_(False),
            HoldRow.expires_date > now,
            HoldRow.staff_member_id.in_(list(staff_ids)),
            HoldRow.session_id.is_(None),
            HoldRow.entity == "SLOT",
            HoldRow.start_date > start - MAX_STAFF_HOLD,
            HoldRow.start_date < end,
            HoldRow.blocked_until > start,
        )
        held: dict[str, list[BusyInterval]] = defaultdict(list)
        for staff_id, held_start, held_end, blocked_until in self._session.execute(query):
            held[staff_id].append(BusyInterval(held_start, held_end, blocked_until - held_end))
        return dict(held)

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
    # the same conditions as _overlapping, for one staff member
    return (
        columns.staff_member_id == bindparam("b_unit"),
        columns.session_id.is_(None),
        columns.entity == "SLOT",
        columns.start_date > bindparam("b_earliest"),
        columns.start_date < bindparam("b_until"),
        columns.blocked_until > bindparam("b_start"),
    )


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
