"""Event retention: how far each site's event stream has been purged, and the index the
purge walks.

The purge (store/event_retention.py) only ever deletes a prefix of a site's stream, so one
number per site says what is gone: every event with `sequence <= purged_through`. A
WatchBookingEvents cursor below it can no longer be resumed without a gap. It is also where
the site's numbering resumes once all its events were purged (store/event_numbering.py), so
no number is given twice.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from bookings_server.store.models.base import Base
from bookings_server.store.models.bookings import BookingEventRow

_events: Table = BookingEventRow.__table__  # type: ignore[assignment]

#: The purge looks for the oldest events of every site by time; declared here, next to the
#: purge's other table, rather than with the events themselves.
Index(None, _events.c.occurred_at)


class EventHorizonRow(Base):
    """The last purged sequence of a site; no row means nothing was purged."""

    __tablename__ = "booking_event_horizons"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    purged_through: Mapped[int] = mapped_column(BigInteger)
