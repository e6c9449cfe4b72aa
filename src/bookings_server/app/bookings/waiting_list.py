"""Waiting-list offers, refreshed under a unit's capacity lock (SPEC section 10).

Every write that holds a session's or course's lock refreshes its line (`refresh_offers`):
before deciding, so that a spot freed by an offer or hold that ran out goes to the line before
anyone else; and after a change that frees spots (cancel, decline, a reschedule away, fewer
participants), so that the next in line is offered them in the same commit. Offers that ran
out are never counted (store/booking_counts.py judges them at the time of the count), so
capacity never depends on a refresh having happened; the refresh only passes them on and
notifies, and the worker's sweep (`OfferSweep`) passes on those of units nobody writes to,
or whose write was refused and rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bookings_server.app.bookings.units import unit_capacity
from bookings_server.app.clock import Clock, utc_now
from bookings_server.domain.booking import Actor, EventType
from bookings_server.domain.capacity import CapacityUnit
from bookings_server.domain.catalog import Service
from bookings_server.domain.identity import IdentityType
from bookings_server.domain.waiting_list import keeps_a_list, offer_message, refresh_line

if TYPE_CHECKING:
    # Annotations only: the worker's CLI must not load SQLAlchemy before it runs.
    from bookings_server.app.unit_of_work import Transaction, UnitOfWork

#: The site of reads that span every site.
ANY_SITE = ""


def refresh_offers(
    tx: Transaction, unit: CapacityUnit, service: Service, now: datetime, actor: Actor
) -> bool:
    """Pass on offers that ran out and offer free spots to the line, in line order; whether
    any booking changed. The caller holds `unit`'s lock."""
    if not keeps_a_list(service, unit):
        return False
    line = tx.bookings.waiting_line(unit)
    if not line:
        return False
    free = unit_capacity(tx, unit, service) - tx.bookings.taken_spots(unit, now=now)
    changes = refresh_line(line, free=free, now=now, service=service)
    for booking in changes.expired:
        tx.bookings.update_booking(booking, expected_revision=booking.revision)
    for booking in changes.offered:
        stored = tx.bookings.update_booking(booking, expected_revision=booking.revision)
        tx.outbox.enqueue(offer_message(stored, now), now)
        tx.bookings.append_event(EventType.BOOKING_WAITING_LIST_SPOT_OFFERED, stored, actor, now)
    return bool(changes)


#: Who passes on offers that ran out when no call does.
SYSTEM = Actor(IdentityType.APP, "bookings-worker")
#: Units refreshed per sweep round.
SWEEP_BATCH = 50


class OfferSweep:
    """Passes on the offers that ran out, unit by unit, each in its own locked transaction."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def sweep_batch(self) -> bool:
        """Refresh up to SWEEP_BATCH lines with an offer that ran out; True when more may be
        left."""
        with self._uow.read(ANY_SITE) as tx:
            lines = tx.expired_offers.lines(self._clock(), SWEEP_BATCH)
        for line in lines:
            with self._uow.write(line.site_id) as tx:
                tx.lock(line.unit)
                service = tx.cached_catalog.get_service(line.service_id)
                refresh_offers(tx, line.unit, service, self._clock(), SYSTEM)
        return len(lines) >= SWEEP_BATCH
