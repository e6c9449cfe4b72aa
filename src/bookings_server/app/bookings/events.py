"""WatchBookingEvents' reads: a site's events after a cursor, then new ones as they commit.

The follower polls the events table (so events committed by other server processes arrive
too): it reads at most `batch_size` events per read transaction, closes the transaction, and
yields them one at a time, so no transaction stays open while the consumer handles an event
and at most one batch per follower sits in memory.

Events outlive their retention only until the worker purges them (app/retention.py), a prefix
of the site's stream at a time. Each read also reads the site's purge horizon, after the
batch: a cursor below it would skip purged events, so the stream fails with
FAILED_PRECONDITION `CURSOR_EXPIRED` instead (the consumer must resynchronise from the
current state and restart from the horizon). The empty cursor means "the oldest event still
kept" and never expires.

A cursor is an event's number in its site's stream, and only committed events are numbered
(store/event_numbering.py). SQLite numbers an event as it is written; PostgreSQL writers
leave that to the stream's readers, so a follower that has caught up and finds committed
events still unnumbered numbers them, in a short write transaction of its own, and reads
again at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking_events import BookingEvent
from bookings_server.domain.errors import FailedPrecondition

#: Events read per transaction.
DEFAULT_BATCH_SIZE = 100
#: Seconds between polls once the follower has caught up.
DEFAULT_POLL_INTERVAL = 0.15


@dataclass(frozen=True)
class EventFollower:
    """Follows the events of one site at a time."""

    uow: UnitOfWork
    batch_size: int = DEFAULT_BATCH_SIZE
    poll_interval: float = DEFAULT_POLL_INTERVAL

    def follow(
        self,
        site_id: str,
        after: int,
        *,
        active: Callable[[], bool],
        stopping: threading.Event,
    ) -> Iterator[BookingEvent]:
        """The site's events after sequence `after` (0: from the oldest kept), forever, until
        `active()` turns false or `stopping` is set. Raises CURSOR_EXPIRED when events after
        the position were purged."""
        positioned = after > 0
        while active() and not stopping.is_set():
            batch, purged_through, unnumbered = self._read(site_id, after)
            if purged_through > after:
                if positioned:
                    raise _cursor_expired(purged_through)
                after = purged_through
                continue
            for event in batch:
                if not active():
                    return
                yield event
                after = event.sequence
                positioned = True
            if unnumbered:
                self._number(site_id)
            elif len(batch) < self.batch_size:
                stopping.wait(self.poll_interval)

    def _read(self, site_id: str, after: int) -> tuple[list[BookingEvent], int, bool]:
        """A batch after `after`, then the purge horizon (the order makes the check safe:
        store/event_retention.py), and, once caught up, whether committed events wait to be
        numbered."""
        with self.uow.read(site_id) as tx:
            batch = tx.bookings.events_after(after, self.batch_size)
            purged_through = tx.event_history.purged_through()
            caught_up = len(batch) < self.batch_size
            return batch, purged_through, caught_up and tx.bookings.has_unnumbered_events()

    def _number(self, site_id: str) -> None:
        with self.uow.write(site_id) as tx:
            tx.bookings.number_events(self.batch_size)


def _cursor_expired(purged_through: int) -> FailedPrecondition:
    """The error for a position whose next events were purged; `oldest_cursor` is where the
    kept events start (resuming there knowingly accepts the gap)."""
    return FailedPrecondition(
        "events after this cursor were purged (older than the event retention); "
        "resynchronise, then watch again from oldest_cursor",
        "CURSOR_EXPIRED",
        oldest_cursor=str(purged_through),
    )
