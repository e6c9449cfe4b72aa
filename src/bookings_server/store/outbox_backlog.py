"""How far the outbox delivery is behind: one read for the metrics scrape.

Due items are the unsent ones whose next attempt time has come, exactly what the worker
would claim next (reminders due next week are no backlog; dead letters are none either), in
both tables that hold deliveries: the outbox and the booking events that deliver themselves
(store/outbox_repository.py). The statements walk the outbox index on (sent_at,
next_attempt_at) and the events' partial index of unsent own deliveries on next_attempt_at,
over the due items only, and each count stops at `MAX_COUNTED` (the sum is capped there too):
a scrape costs at most that many index entries per table however far delivery has fallen
behind (SQLite cannot cut a running statement at the deadline). They run
under a deadline of their own, so a scrape never waits long for a busy or absent database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, true

from bookings_server.domain.deadline import Deadline, deadline_scope
from bookings_server.store.database import Database
from bookings_server.store.models.bookings import BookingEventRow, OutboxRow

#: The count saturates here (about 5 ms of index walk on SQLite); the age keeps growing.
MAX_COUNTED = 10_000


@dataclass(frozen=True)
class OutboxBacklog:
    """Unsent items due at `now` (at most MAX_COUNTED), and the earliest next-attempt time
    among them."""

    due: int
    oldest_due_at: datetime | None


def read_outbox_backlog(database: Database, now: datetime, timeout_s: float) -> OutboxBacklog:
    """The backlog at `now` over every site; a store failure when it takes over `timeout_s`."""
    due = (
        OutboxRow.sent_at.is_(None),
        OutboxRow.dead_at.is_(None),
        OutboxRow.next_attempt_at <= now,
    )
    counted = select(literal(1)).where(*due).limit(MAX_COUNTED).subquery()
    oldest = (
        select(OutboxRow.next_attempt_at)
        .where(*due)
        .order_by(OutboxRow.sent_at, OutboxRow.next_attempt_at)
        .limit(1)
    )
    events_due = (
        BookingEventRow.delivers_itself == true(),
        BookingEventRow.sent_at.is_(None),
        BookingEventRow.dead_at.is_(None),
        BookingEventRow.next_attempt_at <= now,
    )
    events_counted = select(literal(1)).where(*events_due).limit(MAX_COUNTED).subquery()
    events_oldest = select(func.min(BookingEventRow.next_attempt_at)).where(*events_due)
    with deadline_scope(Deadline.after(timeout_s)), database.read() as session:
        count = session.execute(select(func.count()).select_from(counted)).scalar_one()
        oldest_due_at = session.execute(oldest).scalar()
        count += session.execute(select(func.count()).select_from(events_counted)).scalar_one()
        oldest_event = session.execute(events_oldest).scalar()
    if oldest_event is not None and (oldest_due_at is None or oldest_event < oldest_due_at):
        oldest_due_at = oldest_event
    return OutboxBacklog(min(int(count), MAX_COUNTED), oldest_due_at)
