"""Event retention: purging old booking events, and the horizon a cursor is checked against.

A purge deletes only a prefix of a site's stream, never an event older than the cut-off
after a younger one it keeps, so the kept events stay gap-free and one number per site,
`purged_through`, says what is gone. The deletion and the new horizon commit together.

A follower that reads a batch of events and *then* the horizon cannot miss an event without
noticing: if the horizon it reads is not above its cursor, no event after the cursor had been
purged when the batch was read (the horizon only grows), whatever the isolation level.

Only numbered events are purged (store/event_numbering.py): an event still unnumbered will
be numbered above every kept one, so keeping it never opens a gap. The purge numbers the
committed unnumbered events first, so none outlives its retention for want of a number.

An event that delivers itself (store/outbox_repository.py) and is still unsent when it is
purged (a dead letter, or a delivery failing for longer than the retention) is first moved
into the outbox, in the same transaction, with its id, payload, delivery state and position:
the purge never loses a delivery, and never waits for one either (keeping the event instead
would stop the site's purge at it, the purged events being a prefix of the stream).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bookings_server.store.event_numbering import number_all_pending, pending_sites
from bookings_server.store.models.bookings import BookingEventRow
from bookings_server.store.models.event_retention import EventHorizonRow
from bookings_server.store.outbox_repository import move_undelivered_events

_horizons: Table = EventHorizonRow.__table__  # type: ignore[assignment]


class EventHistory:
    """What is left of one site's event stream, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def purged_through(self) -> int:
        """The last purged sequence: every event up to it is gone. 0 when none was purged."""
        horizon = self._session.scalar(
            select(EventHorizonRow.purged_through).where(EventHorizonRow.site_id == self._site_id)
        )
        return int(horizon or 0)


class EventRetention:
    """Every site's events, as the retention purge trims them."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def purge_before(self, cutoff: datetime, limit: int) -> int:
        """Delete events that occurred before `cutoff`, about `limit` at most (the oldest
        first, over all sites); returns how many were deleted.

        Per site, the deleted events are a prefix of its stream: an event older than `cutoff`
        is kept while an earlier one of the same site is not (clock skew between server
        processes); it goes once that one expires too.
        """
        number_all_pending(self._session, pending_sites(self._session))
        deleted = 0
        for site_id, candidate in self._oldest_by_site(cutoff, limit):
            through = self._last_expired(site_id, candidate, cutoff)
            site_deleted = self._delete_through(site_id, through)
            if site_deleted:
                self._raise_horizon(site_id, through)
            deleted += site_deleted
        return deleted

    def _oldest_by_site(self, cutoff: datetime, limit: int) -> list[tuple[str, int]]:
        """The `limit` oldest expired events (by the occurred_at index), as each site's
        highest sequence among them."""
        oldest = (
            select(BookingEventRow.site_id, BookingEventRow.sequence)
            .where(BookingEventRow.occurred_at < cutoff, BookingEventRow.sequence.is_not(None))
            .order_by(BookingEventRow.occurred_at)
            .limit(limit)
            .subquery()
        )
        query = select(oldest.c.site_id, func.max(oldest.c.sequence)).group_by(oldest.c.site_id)
        return [(str(site), int(sequence)) for site, sequence in self._session.execute(query)]

    def _last_expired(self, site_id: str, candidate: int, cutoff: datetime) -> int:
        """`candidate`, or the sequence before the site's first younger event up to it (a
        primary-key range scan of about `limit` rows)."""
        younger = self._session.scalar(
            select(func.min(BookingEventRow.sequence)).where(
                BookingEventRow.site_id == site_id,
                BookingEventRow.sequence <= candidate,
                BookingEventRow.occurred_at >= cutoff,
            )
        )
        return candidate if younger is None else int(younger) - 1

    def _delete_through(self, site_id: str, through: int) -> int:
        move_undelivered_events(self._session, site_id, through)
        result = self._session.execute(
            delete(BookingEventRow)
            .where(BookingEventRow.site_id == site_id, BookingEventRow.sequence <= through)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _raise_horizon(self, site_id: str, through: int) -> None:
        """purged_through = max(purged_through, through): concurrent purges only move it up."""
        dialect = self._session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(_horizons).values(site_id=site_id, purged_through=through)
        current = _horizons.c.purged_through
        statement = statement.on_conflict_do_update(
            index_elements=[_horizons.c.site_id],
            set_={
                "purged_through": case(
                    (
                        statement.excluded.purged_through > current,
                        statement.excluded.purged_through,
                    ),
                    else_=current,
                )
            },
        )
        self._session.execute(statement)
