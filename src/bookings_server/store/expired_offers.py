"""Every site's waiting-list offers that ran out: what the worker's sweep passes on.

Offers that ran out never count as taken (store/booking_counts.py), so this is only about
liveness: the next in line should hear of the spot without waiting for someone to write to
the session. The scan walks the index on `offer_expires`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bookings_server.domain.booking import BookingStatus
from bookings_server.domain.capacity import CapacityUnit, schedule_unit, session_unit
from bookings_server.store.models.bookings import BookingRow


@dataclass(frozen=True)
class LineToRefresh:
    """A unit of one site whose line has an offer that ran out."""

    site_id: str
    service_id: str
    unit: CapacityUnit


class ExpiredOffers:
    """Reads across every site (the worker's view)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def lines(self, now: datetime, limit: int) -> list[LineToRefresh]:
        """Up to `limit` units with an offer that ran out by `now`, oldest first."""
        query = (
            select(
                BookingRow.site_id,
                BookingRow.service_id,
                BookingRow.entity,
                BookingRow.session_id,
                BookingRow.schedule_id,
            )
            .where(
                BookingRow.offer_expires <= now,
                BookingRow.status == BookingStatus.WAITING_LIST.value,
            )
            .order_by(BookingRow.offer_expires)
            .limit(limit)
        )
        found = dict.fromkeys(
            _line(site_id, service_id, entity, session_id, schedule_id)
            for site_id, service_id, entity, session_id, schedule_id in self._session.execute(query)
        )
        return list(found)


def _line(
    site_id: str, service_id: str, entity: str, session_id: str | None, schedule_id: str | None
) -> LineToRefresh:
    if entity == "SCHEDULE":
        assert schedule_id is not None
        return LineToRefresh(site_id, service_id, schedule_unit(schedule_id))
    assert session_id is not None
    return LineToRefresh(site_id, service_id, session_unit(session_id))
