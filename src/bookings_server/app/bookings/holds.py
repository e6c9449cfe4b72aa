"""CreateHold and ReleaseHold (SPEC section 11), each one write transaction.

CreateHold resolves and checks what it holds with CreateBooking's own steps
(app/bookings/placement.py): the service, the slot, session or course, the participants, the
booking policy, then locks the capacity units, counts (bookings and live holds) and inserts the
hold, which from then on counts as taken for every other caller until `expires`. An "any staff
member" slot is given its staff member here, under the candidates' locks. The request_id works
as CreateBooking's: looked up first, again under the lock on PostgreSQL, and settled by the
unique constraint when two retries race.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from bookings_server.app.bookings.lifecycle import actor_of
from bookings_server.app.bookings.placement import (
    Request,
    fit,
    load_service,
    refresh_line_of,
    resolve,
)
from bookings_server.app.bookings.targets import Exclusions, Target
from bookings_server.app.bookings.units import lock_units
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import BookingStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.holds import Hold, hold_ttl
from bookings_server.domain.identity import Principal
from bookings_server.store.hold_repository import HoldRequestIdTaken


class HoldKeeper:
    """Creates and releases the holds of a verified principal's site."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def create(self, principal: Principal, draft: BookingDraft, ttl: timedelta | None) -> Hold:
        """Hold what `draft` names (its shape already checked) for `ttl`."""
        lasting = hold_ttl(ttl)
        try:
            with self._uow.write(principal.site_id) as tx:
                return self._create(tx, principal, draft, lasting)
        except HoldRequestIdTaken:
            with self._uow.read(principal.site_id) as tx:
                winner = _replay(tx, draft)
            if winner is None:
                raise rules.RequestInFlight() from None
            return winner

    def release(self, principal: Principal, hold_id: str) -> Hold:
        """Free the hold's spots now; a released or expired hold is returned as it is."""
        if not hold_id:
            raise InvalidArgument.field("hold_id", "is required")
        with self._uow.write(principal.site_id) as tx:
            hold = tx.holds.get(hold_id)
            if hold.released:
                return hold
            tx.holds.release(hold_id)
            return replace(hold, released=True)

    def _create(
        self, tx: Transaction, principal: Principal, draft: BookingDraft, ttl: timedelta
    ) -> Hold:
        if draft.request_id:
            earlier = _replay(tx, draft)
            if earlier is not None:
                return earlier
        request = self._request(tx, draft)
        lock_units(tx, request.units)
        if draft.request_id and not tx.serializes_writers:
            earlier = _replay(tx, draft)
            if earlier is not None:
                return earlier
        now = self._clock()
        refresh_line_of(tx, request, now, actor_of(principal))
        placement = fit(
            tx, request, status=BookingStatus.CREATED, skip=False, exclusions=Exclusions(now)
        )
        hold = _new_hold(principal.site_id, request, placement.placed, now, ttl)
        tx.holds.insert(
            hold,
            buffer_after=placement.placed.buffer_after,
            request_id=draft.request_id,
            request_hash=draft.request_hash,
        )
        return hold

    def _request(self, tx: Transaction, draft: BookingDraft) -> Request:
        service = load_service(tx, draft)
        rules.check_entity_for_service(draft, service)
        participants = rules.count_participants(draft, service)
        return resolve(tx, draft, service, participants, self._clock())


def _new_hold(
    site_id: str, request: Request, placed: Target, now: datetime, ttl: timedelta
) -> Hold:
    """The hold of `request` at `placed` (with its staff member, for an appointment)."""
    return Hold(
        id=str(uuid.uuid4()),
        site_id=site_id,
        participants=request.participants,
        expires=now + ttl,
        created=now,
        slot=placed.slot,
        schedule=placed.schedule,
    )


def _replay(tx: Transaction, draft: BookingDraft) -> Hold | None:
    """The hold an earlier request with this request_id created, if any."""
    found = tx.holds.find_by_request_id(draft.request_id)
    if found is None:
        return None
    hold, request_hash = found
    if request_hash != draft.request_hash:
        raise rules.RequestIdReused(draft.request_id)
    return hold
