"""WatchBookingEvents: replay a site's events after a cursor, then follow new ones live.

The stream polls the events table (so events committed by other server processes arrive
too): it reads at most `batch_size` events per read transaction, closes the transaction, and
yields them one at a time. grpcio's sync server sends one message and waits for the send to
complete before pulling the next, so a slow consumer stalls the generator instead of making
the server buffer: at most one batch per stream sits in memory.

Each open stream occupies one worker thread of the server, so their number is capped
(`max_watchers`); beyond it the call is RESOURCE_EXHAUSTED (retry later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import grpc
from bookings.v1 import bookings_service_pb2 as pb

from bookings_server.api.bookings.convert import event_to_proto
from bookings_server.api.context import current_principal
from bookings_server.domain.booking_events import BookingEvent
from bookings_server.domain.errors import InvalidArgument, ResourceExhausted
from bookings_server.store import booking_repository
from bookings_server.store.database import Database

#: Events read per transaction.
DEFAULT_BATCH_SIZE = 100
#: Seconds between polls once the stream has caught up.
DEFAULT_POLL_INTERVAL = 0.15
#: Streams open at once per server.
DEFAULT_MAX_WATCHERS = 4
#: A cursor is a decimal sequence number; 18 digits stay inside a signed 64-bit integer.
_MAX_CURSOR_DIGITS = 18


def parse_cursor(cursor: str) -> int:
    """The sequence a cursor names; "" is the beginning. INVALID_ARGUMENT when malformed."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= _MAX_CURSOR_DIGITS):
        raise InvalidArgument.field("after_cursor", "is not a cursor this service issued")
    return int(cursor)


def follow_events(
    database: Database,
    site_id: str,
    after: int,
    *,
    active: Callable[[], bool],
    stopping: threading.Event,
    batch_size: int = DEFAULT_BATCH_SIZE,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
) -> Iterator[BookingEvent]:
    """The site's events after sequence `after`, forever, until `active()` turns false or
    `stopping` is set. No transaction is open while the consumer handles an event."""
    while active() and not stopping.is_set():
        with database.read() as session:
            batch = booking_repository.events_after(session, site_id, after, batch_size)
        for event in batch:
            if not active():
                return
            yield event
            after = event.sequence
        if len(batch) < batch_size:
            stopping.wait(poll_interval)


class WatchRpcs:
    """WatchBookingEvents; mixed into the BookingsService servicer like LifecycleRpcs."""

    def __init__(
        self,
        database: Database,
        stopping: threading.Event,
        *,
        max_watchers: int = DEFAULT_MAX_WATCHERS,
        batch_size: int = DEFAULT_BATCH_SIZE,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> None:
        self.watch_database = database
        self.watch_batch_size = batch_size
        self.watch_poll_interval = poll_interval
        self.watch_slots = threading.BoundedSemaphore(max_watchers)
        #: Set when the server drains: every open stream ends at its next poll.
        self.watchers_stopping = stopping

    def WatchBookingEvents(
        self, request: pb.WatchBookingEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchBookingEventsResponse]:
        principal = current_principal()
        after = parse_cursor(request.after_cursor)
        if not self.watch_slots.acquire(blocking=False):
            raise ResourceExhausted(
                "too many event streams are open on this server; retry later",
                "TOO_MANY_WATCHERS",
            )
        try:
            events = follow_events(
                self.watch_database,
                principal.site_id,
                after,
                active=context.is_active,
                stopping=self.watchers_stopping,
                batch_size=self.watch_batch_size,
                poll_interval=self.watch_poll_interval,
            )
            for event in events:
                yield pb.WatchBookingEventsResponse(event=event_to_proto(event))
        finally:
            self.watch_slots.release()
