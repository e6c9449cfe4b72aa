"""CreateBooking as one write transaction (SPEC section 3, RELIABILITY.md promises 1, 2, 4).

Inside `uow.write()`: read the service, resolve what is booked (session, course schedule or
appointment slot), check the rules, lock the capacity unit, look for an earlier request with
the same request_id, count the spots taken, then insert the booking, its outbox items and its
BOOKING_CREATED event. Any error rolls everything back: a failing request writes nothing.

Idempotency (SPEC 3.10): the request_id is looked up only when the request does not go
through, so a first attempt spends no statement on it. A retry of a stored request either
fails a rule (its own first attempt may have taken the last spot or used the hold): the
lookup then finds the stored booking and returns it instead of the error; or it reaches the
INSERT, where the unique (site_id, request_id) index refuses it (also when the retries race
on several processes), and the stored booking is returned. Either way the stored request's
hash tells a retry from another body reusing the id.

Errors name fields relative to the booking, except `RequestFieldError`s (domain/booking_rules.py),
which name the request's own fields.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

from bookings_server.app.bookings.lifecycle import actor_of
from bookings_server.app.bookings.placement import (
    Decide,
    Placement,
    Request,
    fit,
    load_service,
    place_in_line,
    refresh_line_of,
    resolve,
)
from bookings_server.app.bookings.targets import Exclusions, Target
from bookings_server.app.bookings.units import lock_units
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import Actor, Booking, BookingStatus, EventType, PaymentStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import Code, DomainError
from bookings_server.domain.holds import (
    Hold,
    check_convertible,
    check_participants_match,
    draft_from_hold,
)
from bookings_server.domain.identity import Principal
from bookings_server.domain.outbox import creation_messages
from bookings_server.domain.waiting_list import next_position
from bookings_server.store.booking_repository import DuplicateRequestId

#: The refusals a retry can owe to its own first attempt (the spot it took, the hold it used,
#: the time that passed since): a stored request_id answers them with the stored booking.
#: A store failure or a refused caller is answered as it is.
_ANSWERABLE_BY_REPLAY = frozenset(
    {
        Code.INVALID_ARGUMENT,
        Code.NOT_FOUND,
        Code.FAILED_PRECONDITION,
        Code.PERMISSION_DENIED,
        Code.ABORTED,
    }
)


class BookingCreator:
    """Runs CreateBooking for a verified principal, on a draft whose shape was checked
    (domain/booking_shape.py)."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def create(self, draft: BookingDraft, principal: Principal) -> Booking:
        rules.check_flow_control_allowed(draft.flow_control, principal)
        status = rules.resolve_status(draft.status, principal)
        return self._run(draft, principal, status, fit)

    def join_waiting_list(self, draft: BookingDraft, principal: Principal) -> Booking:
        """JoinWaitingList: a WAITING_LIST booking of a full session or course (SPEC 10)."""
        return self._run(draft, principal, BookingStatus.WAITING_LIST, place_in_line)

    def _run(
        self, draft: BookingDraft, principal: Principal, status: BookingStatus, decide: Decide
    ) -> Booking:
        try:
            with self._uow.write(principal.site_id) as tx:
                return self._create(tx, draft, principal, status, decide)
        except DuplicateRequestId:
            winner = self._stored(principal.site_id, draft)
            if winner is None:
                raise rules.RequestInFlight() from None
            return winner
        except DomainError as error:
            if not draft.request_id or error.code not in _ANSWERABLE_BY_REPLAY:
                raise
            earlier = self._stored(principal.site_id, draft)
            if earlier is None:
                raise
            return earlier

    def _stored(self, site_id: str, draft: BookingDraft) -> Booking | None:
        """The booking stored for the draft's request_id, read after the write rolled back."""
        with self._uow.read(site_id) as tx:
            return _replay(tx, draft)

    def _create(
        self,
        tx: Transaction,
        draft: BookingDraft,
        principal: Principal,
        status: BookingStatus,
        decide: Decide,
    ) -> Booking:
        hold = tx.holds.get(draft.hold_id) if draft.hold_id else None
        if hold is not None:
            draft = draft_from_hold(draft, hold)
        request = self._request(tx, draft, hold)
        lock_units(tx, request.units)
        now = self._clock()
        if hold is not None:
            check_convertible(tx.holds.get(hold.id), now)
        refresh_line_of(tx, request, now, actor_of(principal))
        placement = decide(
            tx,
            request,
            status=status,
            skip=draft.flow_control.skip_availability_validation,
            exclusions=Exclusions(now, hold_id=draft.hold_id),
        )
        return _store(tx, draft, principal, request, placement, status, now)

    def _request(self, tx: Transaction, draft: BookingDraft, hold: Hold | None) -> Request:
        """What `draft` asks for, checked against the catalog, its policy and payment options."""
        service = load_service(tx, draft)
        rules.check_entity_for_service(draft, service)
        participants = rules.count_participants(draft, service)
        if hold is not None:
            check_participants_match(hold, participants)
        flow = draft.flow_control
        rules.check_payment_option(
            draft.selected_payment_option, service, flow.skip_selected_payment_option_validation
        )
        return resolve(tx, draft, service, participants, self._clock())


def _store(
    tx: Transaction,
    draft: BookingDraft,
    principal: Principal,
    request: Request,
    placement: Placement,
    status: BookingStatus,
    now: datetime,
) -> Booking:
    """Insert the booking, settle its hold, and record its outbox items and event."""
    actor = Actor(principal.identity_type, principal.identity_id)
    booking = _new_booking(
        draft,
        actor,
        principal.site_id,
        request.service,
        placement.target,
        now,
        status=status,
        participants=request.participants,
        double_booked=placement.double_booked,
    )
    if status is BookingStatus.WAITING_LIST:
        line = tx.bookings.waiting_line(placement.target.unit)
        booking = replace(booking, line_position=next_position(line))
    tx.bookings.insert_booking(
        booking,
        buffer_after=placement.target.buffer_after,
        request_id=draft.request_id,
        request_hash=draft.request_hash,
    )
    if draft.hold_id:
        settle_hold(tx, booking)
    for message in creation_messages(booking, now):
        tx.outbox.enqueue(message, now)
    tx.bookings.append_event(EventType.BOOKING_CREATED, booking, actor, now)
    return booking


def settle_hold(tx: Transaction, booking: Booking) -> None:
    """A CREATED booking keeps its hold's spots through the hold; any other status ends it (a
    CONFIRMED or PENDING booking holds the spots itself)."""
    tx.holds.attach_booking(booking.hold_id, booking.id)
    if booking.status is not BookingStatus.CREATED:
        tx.holds.release(booking.hold_id)


def _replay(tx: Transaction, draft: BookingDraft) -> Booking | None:
    """The booking an earlier request with this request_id created, if any."""
    found = tx.bookings.find_by_request_id(draft.request_id)
    if found is None:
        return None
    booking, request_hash = found
    if request_hash != draft.request_hash:
        raise rules.RequestIdReused(draft.request_id)
    return booking


def _new_booking(
    draft: BookingDraft,
    actor: Actor,
    site_id: str,
    service: Service,
    target: Target,
    now: datetime,
    *,
    status: BookingStatus,
    participants: int,
    double_booked: bool,
) -> Booking:
    """The new booking `draft` asks for, of `service` at `target`, at revision 1."""
    return Booking(
        id=str(uuid.uuid4()),
        site_id=site_id,
        status=status,
        payment_status=PaymentStatus.UNDEFINED,
        participants=participants,
        revision=1,
        created_by=actor,
        slot=target.slot,
        schedule=target.schedule,
        title=service.name,
        tags=rules.tags_for(service),
        contact=draft.contact,
        additional_fields=draft.additional_fields,
        total_participants=draft.total_participants,
        participants_choices=draft.participants_choices,
        selected_payment_option=draft.selected_payment_option,
        start=target.start,
        end=target.end,
        external_user_id=draft.external_user_id,
        notify_participants=draft.notify_participants,
        notification_message=draft.notification_message if draft.notify_participants else "",
        send_sms_reminder=draft.send_sms_reminder,
        extended_fields=draft.extended_fields,
        double_booked=double_booked,
        flow_control=draft.flow_control,
        created_date=now,
        updated_date=now,
        hold_id=draft.hold_id,
    )
