"""Holds of one site, in one transaction: rows <-> domain/holds.py Hold.

Writers lock the hold's capacity unit before they count and insert (the counts include live
holds: store/booking_counts.py), exactly as for bookings. A hold with a request_id is inserted
with `ON CONFLICT (site_id, request_id) DO NOTHING`: an insert that stored nothing is a retry.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bookings_server.domain.holds import Hold, hold_not_found
from bookings_server.store.booking_codec import (
    schedule_from_dict,
    schedule_to_dict,
    slot_from_dict,
    slot_to_dict,
)
from bookings_server.store.booking_counts import execute
from bookings_server.store.models.holds import HoldRow

_holds: Table = HoldRow.__table__  # type: ignore[assignment]
_BY_ID = (_holds.c.site_id == bindparam("h_site_id"), _holds.c.id == bindparam("h_id"))
_SELECT_HOLD = select(_holds).where(*_BY_ID)
_SELECT_BY_REQUEST_ID = select(_holds).where(
    _holds.c.site_id == bindparam("h_site_id"), _holds.c.request_id == bindparam("h_request_id")
)
_INSERT_ONCE = {
    "postgresql": pg_insert(_holds)
    .on_conflict_do_nothing(index_elements=[_holds.c.site_id, _holds.c.request_id])
    .returning(_holds.c.id),
    "sqlite": sqlite_insert(_holds)
    .on_conflict_do_nothing(index_elements=[_holds.c.site_id, _holds.c.request_id])
    .returning(_holds.c.id),
}
_SET_BOOKING = update(_holds).where(*_BY_ID).values(booking_id=bindparam("h_booking_id"))
_RELEASE = update(_holds).where(*_BY_ID).values(released=True)


class HoldRequestIdTaken(Exception):
    """A concurrent request with the same request_id stored its hold first."""


class HoldRepository:
    """The site's holds, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def insert(
        self,
        hold: Hold,
        *,
        buffer_after: timedelta,
        request_id: str = "",
        request_hash: str = "",
    ) -> None:
        """Store a new hold; HoldRequestIdTaken if its request_id is already stored."""
        row = _columns(hold, buffer_after)
        row.update(request_id=request_id or None, request_hash=request_hash or None)
        insert_once = _INSERT_ONCE[self._session.get_bind().dialect.name]
        if execute(self._session, insert_once, row).first() is None:
            raise HoldRequestIdTaken(request_id)

    def get(self, hold_id: str) -> Hold:
        """The hold; NotFound HOLD_NOT_FOUND for unknown ids and other sites' ids."""
        key = {"h_site_id": self._site_id, "h_id": hold_id}
        row = execute(self._session, _SELECT_HOLD, key).one_or_none()
        if row is None:
            raise hold_not_found(hold_id)
        return _hold(row)

    def find_by_request_id(self, request_id: str) -> tuple[Hold, str] | None:
        """The hold an earlier request with this request_id created, with its request hash."""
        key = {"h_site_id": self._site_id, "h_request_id": request_id}
        row = execute(self._session, _SELECT_BY_REQUEST_ID, key).one_or_none()
        return None if row is None else (_hold(row), row.request_hash or "")

    def attach_booking(self, hold_id: str, booking_id: str) -> None:
        """Record the booking made from the hold: it is used, and counts for that booking."""
        key = {"h_site_id": self._site_id, "h_id": hold_id, "h_booking_id": booking_id}
        execute(self._session, _SET_BOOKING, key)

    def release(self, hold_id: str) -> None:
        """The hold stops counting now."""
        execute(self._session, _RELEASE, {"h_site_id": self._site_id, "h_id": hold_id})


def _columns(hold: Hold, buffer_after: timedelta) -> dict[str, Any]:
    slot, schedule = hold.slot, hold.schedule
    start, end = _interval(hold)
    return {
        "site_id": hold.site_id,
        "id": hold.id,
        "entity": "SLOT" if slot is not None else "SCHEDULE",
        "service_id": hold.service_id,
        "session_id": (slot.session_id or None) if slot is not None else None,
        "schedule_id": (slot.schedule_id if slot else schedule.schedule_id if schedule else None)
        or None,
        "staff_member_id": (slot.resource.id or None) if slot is not None else None,
        "start_date": start,
        "end_date": end,
        "blocked_until": end + buffer_after,
        "participants": hold.participants,
        "expires_date": hold.expires,
        "released": hold.released,
        "booking_id": hold.booking_id or None,
        "created_date": hold.created,
        "data": {
            "slot": slot_to_dict(slot) if slot is not None else None,
            "schedule": schedule_to_dict(schedule) if schedule is not None else None,
        },
    }


def _interval(hold: Hold) -> tuple[datetime, datetime]:
    if hold.slot is not None:
        start, end = hold.slot.start, hold.slot.end
    else:
        assert hold.schedule is not None
        start, end = hold.schedule.first_session_start, hold.schedule.last_session_end
    assert start is not None and end is not None
    return start, end


def _hold(row: Row[Any]) -> Hold:
    data = row.data
    return Hold(
        id=row.id,
        site_id=row.site_id,
        participants=row.participants,
        expires=row.expires_date,
        created=row.created_date,
        slot=slot_from_dict(data["slot"]) if data.get("slot") else None,
        schedule=schedule_from_dict(data["schedule"]) if data.get("schedule") else None,
        booking_id=row.booking_id or "",
        released=row.released,
    )
