"""Booking events (SPEC 3.11, 4): one per change, in a per-site stream with a cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookings_server.domain.booking import Actor, Booking, EventType


@dataclass(frozen=True)
class BookingEvent:
    """One committed change. `sequence` orders a site's events; its string is the cursor.

    Sequences are allocated so that an event with a smaller sequence is never committed
    after one with a larger sequence of the same site (store/booking_repository.py), so a
    follower reading "sequence > cursor" never skips an event.
    """

    id: str
    site_id: str
    sequence: int
    type: EventType
    booking: Booking
    actor: Actor
    occurred_at: datetime

    @property
    def cursor(self) -> str:
        return str(self.sequence)
