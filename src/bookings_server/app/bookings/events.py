"""WatchBookingEvents' reads: a site's events after a cursor, then new ones as they commit.

The follower polls the events table (so events committed by other server processes arrive
too): it reads at most `batch_size` events per read transaction, closes the transaction, and
yields them one at a time, so no transaction stays open while the consumer handles an event
and at most one batch per follower sits in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking_events import BookingEvent

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
        """The site's events after sequence `after`, forever, until `active()` turns false or
        `stopping` is set."""
        while active() and not stopping.is_set():
            with self.uow.read(site_id) as tx:
                batch = tx.bookings.events_after(after, self.batch_size)
            for event in batch:
                if not active():
                    return
                yield event
                after = event.sequence
            if len(batch) < self.batch_size:
                stopping.wait(self.poll_interval)
