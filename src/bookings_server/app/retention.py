"""Retention: the delivery worker purges sent outbox items and old booking events.

Each batch deletes at most `batch_size` rows of one table in its own short transaction,
walking an index (outbox.sent_at, booking_events.occurred_at), so the purge never holds a
lock for long, never scans a whole table, and several workers may purge at once. Unsent
outbox items are never purged. Events go per site as a prefix of the stream, and the site's
horizon records it (store/event_retention.py): a WatchBookingEvents cursor below it is
CURSOR_EXPIRED (app/bookings/events.py) instead of silently skipping what was purged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from bookings_server.app.clock import Clock

if TYPE_CHECKING:
    from bookings_server.app.unit_of_work import UnitOfWork

log = logging.getLogger("bookings.worker")

#: The site of the purge's transactions: none in particular (both tables are purged across
#: every site, through repositories that are not bound to one).
ANY_SITE = ""

DEFAULT_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class RetentionSettings:
    #: How long a sent outbox item is kept; None keeps them forever.
    sent_items: timedelta | None = DEFAULT_RETENTION
    #: How long a booking event is kept; None keeps them forever.
    events: timedelta | None = DEFAULT_RETENTION
    #: Rows deleted per table and transaction.
    batch_size: int = 500
    #: Seconds between purge passes once nothing expired is left.
    interval: float = 300.0

    @classmethod
    def from_days(cls, sent_item_days: int, event_days: int) -> RetentionSettings:
        """Whole days, 0 meaning forever (the `--*-retention-days` flags)."""
        return cls(sent_items=_days(sent_item_days), events=_days(event_days))


def _days(days: int) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


@dataclass
class _PassTotals:
    """Rows deleted since the current purge pass began."""

    outbox_items: int = 0
    events: int = 0


class RetentionPurge:
    """Deletes what outlived its retention, one bounded batch per table at a time."""

    def __init__(self, unit_of_work: UnitOfWork, settings: RetentionSettings, clock: Clock) -> None:
        self._unit_of_work = unit_of_work
        self._settings = settings
        self._clock = clock
        self._totals = _PassTotals()

    def purge_batch(self) -> bool:
        """One batch of each table; True when a batch was full (more may be left)."""
        now = self._clock()
        limit = self._settings.batch_size
        outbox_items = events = 0
        if self._settings.sent_items is not None:
            with self._unit_of_work.write(ANY_SITE) as tx:
                outbox_items = tx.outbox_queue.purge_sent(
                    sent_before=now - self._settings.sent_items, limit=limit
                )
        if self._settings.events is not None:
            with self._unit_of_work.write(ANY_SITE) as tx:
                events = tx.event_retention.purge_before(now - self._settings.events, limit)
        more = outbox_items >= limit or events >= limit
        self._count(outbox_items, events, finished=not more)
        return more

    def _count(self, outbox_items: int, events: int, *, finished: bool) -> None:
        """Add to the pass totals; log them once when the pass is finished."""
        self._totals.outbox_items += outbox_items
        self._totals.events += events
        if not finished:
            return
        if self._totals.outbox_items or self._totals.events:
            log.info(
                "retention purge done",
                extra={"outbox_items": self._totals.outbox_items, "events": self._totals.events},
            )
        self._totals = _PassTotals()
