"""How far the outbox delivery is behind: one read for the metrics scrape.

Due items are the unsent ones whose next attempt time has come, exactly what the worker
would claim next (reminders due next week are no backlog). The query walks the index on
(sent_at, next_attempt_at) over the due items only, and runs under a deadline of its own, so a
scrape never waits long for a busy or absent database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bookings_server.domain.deadline import Deadline, deadline_scope
from bookings_server.store.database import Database
from bookings_server.store.models.bookings import OutboxRow


@dataclass(frozen=True)
class OutboxBacklog:
    """Unsent items due at `now`, and the earliest next-attempt time among them."""

    due: int
    oldest_due_at: datetime | None


def read_outbox_backlog(database: Database, now: datetime, timeout_s: float) -> OutboxBacklog:
    """The backlog at `now` over every site; a store failure when it takes over `timeout_s`."""
    query = select(func.count(), func.min(OutboxRow.next_attempt_at)).where(
        OutboxRow.sent_at.is_(None),
        OutboxRow.dead_at.is_(None),
        OutboxRow.next_attempt_at <= now,
    )
    with deadline_scope(Deadline.after(timeout_s)), database.read() as session:
        due, oldest = session.execute(query).one()
    return OutboxBacklog(int(due), oldest)
