"""CreateBooking as one write transaction (SPEC section 3, RELIABILITY.md promises 1, 2, 4).

Inside `uow.write()`: read the service, resolve what is booked (session, course schedule or
appointment slot), check the rules, lock the capacity unit, look for an earlier request with
the same request_id, count the spots taken, then insert the booking, its outbox items and its
BOOKING_CREATED event. Any error rolls everything back: a failing request writes nothing.

Idempotency (SPEC 3.10): the request_id is looked up first thing in the write transaction,
and on backends where writers do not exclude each other from BEGIN (PostgreSQL) again under the
capacity lock; two retries that still race both insert, the unique (site_id, request_id) index
lets one win, and the loser returns the winner's booking.

Errors name fields relative to the booking, except `RequestFieldError`s (domain/booking_rules.py),
which name the request's own fields.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from bookings_server.app.bookings.lifecycle import lock_units
from bookings_server.app.bookings.staff_assignment import place, start_of, stored_target
from bookings_server.app.bookings.targets import Target, resolve_target
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain import booking_rules as rules
from bookings_server.domain.booking import Actor, Booking, BookingStatus, EventType, PaymentStatus
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.booking_shape import SCHEDULE, SLOT
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import FailedPrecondition, NotFound, Unavailable
from bookings_server.domain.identity import Principal
from bookings_server.domain.outbox import creation_messages
from bookings_server.store.booking_repository import DuplicateRequestId


class BookingCreator:
    """Runs CreateBooking for a verified principal, on a draft whose shape was checked
    (domain/booking_shape.py)."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def create(self, draft: BookingDraft, principal: Principal) -> Booking:
        rules.check_flow_control_allowed(draft.flow_control, principal)
        status = rules.resolve_status(draft.status, principal)
        try:
            with self._uow.write(principal.site_id) as tx:
                return self._create(tx, draft, principal, status)
        except DuplicateRequestId:
            with self._uow.read(principal.site_id) as tx:
                winner = _replay(tx, draft)
            if winner is None:
                raise Unavailable(
                    "a concurrent request with this request_id did not finish; retry",
                    reason="REQUEST_IN_FLIGHT",
                ) from None
            return winner

    def _create(
        self, tx: Transaction, draft: BookingDraft, principal: Principal, status: BookingStatus
    ) -> Booking:
        if draft.request_id:
            earlier = _replay(tx, draft)
            if earlier is not None:
                return earlier
        now = self._clock()
        service = _load_service(tx, draft)
        rules.check_entity_for_service(draft, service)
        participants = rules.count_participants(draft, service)
        flow = draft.flow_control
        rules.check_payment_option(
            draft.selected_payment_option, service, flow.skip_selected_payment_option_validation
        )
        resolved = resolve_target(tx.catalog, draft, service, flow.skip_availability_validation)
        rules.check_booking_policy(service, start_of(resolved), now, flow.ignore_booking_policy)
        lock_units(tx, resolved.units)
        if draft.request_id and not tx.serializes_writers:
            # A retry that committed while this call waited for the lock (PostgreSQL).
            earlier = _replay(tx, draft)
            if earlier is not None:
                return earlier
        placed = place(tx, resolved)
        double_booked = rules.check_capacity(
            placed.unit,
            capacity=placed.capacity,
            taken=tx.bookings.taken_spots(placed.unit),
            participants=participants,
            status=status,
            skip=flow.skip_availability_validation,
        )
        target = stored_target(resolved, placed, status)
        actor = Actor(principal.identity_type, principal.identity_id)
        booking = _new_booking(
            draft,
            actor,
            principal.site_id,
            service,
            target,
            now,
            status=status,
            participants=participants,
            double_booked=double_booked,
        )
        tx.bookings.insert_booking(
            booking,
            buffer_after=target.buffer_after,
            request_id=draft.request_id,
            request_hash=draft.request_hash,
        )
        for message in creation_messages(booking, now):
            tx.outbox.enqueue(message, now)
        tx.bookings.append_event(EventType.BOOKING_CREATED, booking, actor, now)
        return booking


def _replay(tx: Transaction, draft: BookingDraft) -> Booking | None:
    """The booking an earlier request with this request_id created, if any."""
    found = tx.bookings.find_by_request_id(draft.request_id)
    if found is None:
        return None
    booking, request_hash = found
    if request_hash != draft.request_hash:
        raise rules.RequestIdReused(draft.request_id)
    return booking


def _load_service(tx: Transaction, draft: BookingDraft) -> Service:
    """The booked service: named by the request, else by its schedule or its session."""
    if draft.service_id:
        return tx.catalog.get_service(draft.service_id)
    if draft.schedule is not None:
        try:
            return tx.catalog.get_service_by_schedule(draft.schedule.schedule_id)
        except NotFound as error:
            raise FailedPrecondition.on_field(
                f"{SCHEDULE}.schedule_id", "no such schedule", rules.SCHEDULE_NOT_FOUND
            ) from error
    assert draft.slot is not None
    return _service_of_session(tx, draft.slot.session_id)


def _service_of_session(tx: Transaction, session_id: str) -> Service:
    """A slot holding only a session id books that session's service (SPEC 3.3)."""
    service_id = tx.catalog.service_id_of_session(session_id)
    if service_id is None:
        raise FailedPrecondition.on_field(
            f"{SLOT}.session_id", f"no session {session_id!r}", rules.SESSION_NOT_FOUND
        )
    return tx.catalog.get_service(service_id)


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
    )
