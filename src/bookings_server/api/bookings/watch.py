"""WatchBookingEvents' stream: a cursor in, the site's events out, as long as the call lives.

grpcio's sync server sends one message and waits for the send to complete before pulling the
next, so a slow consumer stalls the follower (app/bookings/events.py) instead of making the
server buffer. Each open stream occupies one worker thread of the server, so their number is
capped (`max_watchers`); beyond it the call is RESOURCE_EXHAUSTED (retry later). The open
streams are the gauge `bookings_event_watchers`. A cursor
whose next events the retention purge removed fails FAILED_PRECONDITION `CURSOR_EXPIRED`
(app/bookings/events.py), at the start or later in the stream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
from bookings.v1 import bookings_service_pb2 as pb

from bookings_server.api.bookings.convert import event_to_proto
from bookings_server.app.bookings.events import EventFollower
from bookings_server.domain.errors import InvalidArgument, ResourceExhausted
from bookings_server.domain.identity import Principal
from bookings_server.observability.metrics import event_watchers

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


class EventStreams:
    """The open WatchBookingEvents streams of one server: at most `max_watchers`, all ended
    at their next poll once `stopping` is set (the server drains)."""

    def __init__(
        self,
        follower: EventFollower,
        stopping: threading.Event,
        *,
        max_watchers: int = DEFAULT_MAX_WATCHERS,
    ) -> None:
        self._follower = follower
        self._stopping = stopping
        self._slots = threading.BoundedSemaphore(max_watchers)

    def stream(
        self,
        principal: Principal,
        request: pb.WatchBookingEventsRequest,
        context: grpc.ServicerContext,
    ) -> Iterator[pb.WatchBookingEventsResponse]:
        """The responses of one call; RESOURCE_EXHAUSTED when every slot is taken."""
        after = parse_cursor(request.after_cursor)
        if not self._slots.acquire(blocking=False):
            raise ResourceExhausted(
                "too many event streams are open on this server; retry later",
                "TOO_MANY_WATCHERS",
            )
        event_watchers.inc()
        try:
            events = self._follower.follow(
                principal.site_id, after, active=context.is_active, stopping=self._stopping
            )
            for event in events:
                yield pb.WatchBookingEventsResponse(event=event_to_proto(event))
        finally:
            event_watchers.dec()
            self._slots.release()
