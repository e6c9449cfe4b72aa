"""ConfirmOrDecline, Confirm, Decline and Cancel: each one locked write transaction.

Every call runs the same steps inside `uow.write()`: find the booking, lock its capacity
unit (`tx.lock`), re-read the booking under the lock, check revision and status, count
the spots the unit's other bookings hold, decide (domain/lifecycle.py), then write the booking,
the participant notification (outbox) and the event, so the count and the write are one
serialized step per unit on every backend and across server processes. On SQLite the write
transaction holds the database's only write lock from its BEGIN, so the first read already
happens under the lock and is not repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookings_server.app.bookings.staff_assignment import is_unassigned, pick, unassigned_target
from bookings_server.app.bookings.targets import AnyStaffTarget, Target
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.booking import (
    Actor,
    Booking,
    BookingStatus,
    EventType,
    PaymentStatus,
)
from bookings_server.domain.booking_rules import MISSING_PERMISSION, course_capacity
from bookings_server.domain.capacity import CapacityUnit, UnitKind, unit_of
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import Aborted, PermissionDenied
from bookings_server.domain.identity import Permission, Principal
from bookings_server.domain.lifecycle import (
    Action,
    Outcome,
    apply_outcome,
    changes,
    check_cancellation_window,
    check_revision,
    conflicts,
    decide_confirm_or_decline,
    force_confirm,
    overbooks,
    require_allowed,
    validate_revision,
)
from bookings_server.domain.outbox import OutboxKind, notification_message


@dataclass(frozen=True)
class Notification:
    """The request's participant_notification; sent only when `notify` is set."""

    notify: bool = False
    message: str = ""


@dataclass
class LockedBooking:
    """A booking read while its capacity unit is locked, with what decisions need."""

    tx: Transaction
    booking: Booking
    service: Service
    unit: CapacityUnit
    #: The stored buffer after the booking's end (kept by changes that do not move it).
    buffer_after: timedelta
    #: An "any staff member" appointment about to take capacity: who could take it (locked).
    any_staff: AnyStaffTarget | None = None
    #: The booking as stored, before `placed` gave it a staff member.
    unassigned: Booking | None = None

    def placed(self, target: Target) -> LockedBooking:
        """The booking given the staff member of `target` (SPEC section 9)."""
        return replace(
            self,
            booking=replace(self.booking, slot=target.slot),
            unit=target.unit,
            buffer_after=target.buffer_after,
            unassigned=self.booking,
        )

    def decided(self, outcome: Outcome) -> Booking:
        """The booking `outcome` applies to: a staff member is kept only by a booking that
        takes capacity."""
        if self.unassigned is not None and not outcome.status.takes_capacity:
            return self.unassigned
        return self.booking

    def capacity(self) -> int:
        return unit_capacity(self.tx, self.unit, self.service)

    def taken_by_others(self) -> int:
        return self.tx.bookings.taken_spots(self.unit, exclude_booking_id=self.booking.id)

    def fit(self) -> tuple[bool, bool]:
        """(conflicts, overbooks): whether the booking conflicts by SPEC 4's rules, and
        whether it exceeds capacity whatever its flags (what `double_booked` records)."""
        capacity, taken = self.capacity(), self.taken_by_others()
        return (
            conflicts(self.booking, self.unit, capacity, taken),
            overbooks(self.booking, self.unit, capacity, taken),
        )


Decide = Callable[[LockedBooking], Outcome]


def unit_capacity(tx: Transaction, unit: CapacityUnit, service: Service) -> int:
    """Spots of the unit: the session's capacity, the course's smallest session, or 1 for a
    staff member (an appointment holds its staff member exclusively)."""
    if unit.kind is UnitKind.SESSION:
        return tx.catalog.session_capacity(unit.id)
    if unit.kind is UnitKind.SCHEDULE:
        sessions = tx.catalog.list_schedule_sessions(service.id)
        return course_capacity(service, sessions)
    return 1


class BookingLifecycle:
    """The lifecycle calls on plain data; the servicer decodes requests and encodes replies."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def confirm_or_decline(
        self,
        principal: Principal,
        booking_id: str,
        *,
        payment_status: PaymentStatus | None,
        revision: int,
    ) -> Booking:
        """SPEC 4's decision table; `revision` 0 skips the optimistic check."""
        validate_revision(revision, required=False)

        def decide(locked: LockedBooking) -> Outcome:
            booking = locked.booking
            conflict, overbooked = locked.fit()
            return decide_confirm_or_decline(
                conflict=conflict,
                overbooked=overbooked,
                payment_status=payment_status or booking.payment_status,
                requires_manual_approval=locked.service.require_manual_approval,
                skip_business_confirmation=booking.flow_control.skip_business_confirmation,
            )

        return self._transition(
            principal, booking_id, Action.CONFIRM_OR_DECLINE, revision, decide, payment_status
        )

    def confirm(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        payment_status: PaymentStatus | None,
        notification: Notification,
    ) -> Booking:
        """Force-confirm; `double_booked` when the booking does not fit."""
        validate_revision(revision, required=True)
        return self._transition(
            principal,
            booking_id,
            Action.CONFIRM,
            revision,
            lambda locked: force_confirm(conflict=locked.fit()[1]),
            payment_status,
            notification,
        )

    def decline(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        payment_status: PaymentStatus | None,
        notification: Notification,
    ) -> Booking:
        validate_revision(revision, required=True)
        return self._transition(
            principal,
            booking_id,
            Action.DECLINE,
            revision,
            lambda locked: Outcome(BookingStatus.DECLINED, locked.booking.double_booked),
            payment_status,
            notification,
        )

    def cancel(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        notification: Notification,
        ignore_cancellation_policy: bool,
    ) -> Booking:
        """Cancel and free the spots, within the service's cancellation window."""
        validate_revision(revision, required=True)
        if ignore_cancellation_policy:
            require_permission(
                principal, Permission.IGNORE_BOOKING_POLICY, "ignore_cancellation_policy"
            )
        now = self._clock()

        def decide(locked: LockedBooking) -> Outcome:
            check_cancellation_window(
                start=locked.booking.start,
                now=now,
                window=locked.service.policy.cancellation_window,
                ignore_policy=ignore_cancellation_policy,
            )
            return Outcome(BookingStatus.CANCELED, locked.booking.double_booked)

        return self._transition(
            principal, booking_id, Action.CANCEL, revision, decide, None, notification, now
        )

    def _transition(
        self,
        principal: Principal,
        booking_id: str,
        action: Action,
        revision: int,
        decide: Decide,
        payment_status: PaymentStatus | None,
        notification: Notification = Notification(),
        now: datetime | None = None,
    ) -> Booking:
        now = now or self._clock()
        with self._uow.write(principal.site_id) as tx:
            locked = self._lock(tx, booking_id, action)
            check_revision(locked.booking, revision)
            require_allowed(action, locked.booking.status)
            if locked.any_staff is not None:
                locked = locked.placed(
                    pick(tx, locked.any_staff, exclude_booking_id=locked.booking.id)
                )
            outcome = decide(locked)
            booking = locked.decided(outcome)
            if not changes(booking, outcome, payment_status) and not notification.notify:
                return booking
            updated = with_notification(
                apply_outcome(booking, outcome, payment_status, now), notification
            )
            stored = tx.bookings.update_booking(
                updated,
                expected_revision=locked.booking.revision,
                buffer_after=locked.buffer_after,
            )
            record_change(tx, principal, stored, outcome.event_type, notification, now)
            return stored

    @staticmethod
    def _lock(tx: Transaction, booking_id: str, action: Action) -> LockedBooking:
        """The booking re-read under the locks of the units it holds or is about to take."""
        booking, buffer_after = tx.bookings.get_booking_and_buffer(booking_id)
        service = tx.catalog.get_service(booking.service_id)
        unit = unit_of(booking, service)
        any_staff = None
        if is_unassigned(booking, service) and action in _TAKING_CAPACITY:
            any_staff = unassigned_target(tx.catalog, booking, service)
        if not tx.serializes_writers:
            lock_units(tx, _units_to_lock(booking, service, unit, any_staff))
            booking, buffer_after = tx.bookings.get_booking_and_buffer(booking_id)
            check_unit_unchanged(booking, service, unit)
        return LockedBooking(tx, booking, service, unit, buffer_after, any_staff)


#: The calls that may make a booking take capacity, and so assign an "any staff" appointment.
_TAKING_CAPACITY = frozenset({Action.CONFIRM_OR_DECLINE, Action.CONFIRM})


def _units_to_lock(
    booking: Booking, service: Service, unit: CapacityUnit, any_staff: AnyStaffTarget | None
) -> tuple[CapacityUnit, ...]:
    """An unassigned appointment holds no unit: it locks the candidates it may take, or none."""
    if any_staff is not None:
        return any_staff.units
    if is_unassigned(booking, service):
        return ()
    return (unit,)


def lock_units(tx: Transaction, units: Iterable[CapacityUnit]) -> None:
    """Lock every unit (in key order, so two callers never wait on each other in a cycle).

    Units that share a lock key are locked once. Nothing is re-read under the lock from rows
    the session cached before it: bookings and session capacities are read with Core
    statements, so they reflect the previous lock holder's commit.
    """
    by_key = {unit.lock_key: unit for unit in units}
    for key in sorted(by_key):
        tx.lock(by_key[key])


def reread(tx: Transaction, booking: Booking, service: Service, unit: CapacityUnit) -> Booking:
    """The booking as the lock holder sees it; ABORTED if it left `unit` meanwhile."""
    current = tx.bookings.get_booking(booking.id)
    check_unit_unchanged(current, service, unit)
    return current


def check_unit_unchanged(current: Booking, service: Service, unit: CapacityUnit) -> None:
    """ABORTED if the booking, re-read under the lock of `unit`, no longer takes room in it."""
    if unit_of(current, service) != unit:
        raise Aborted(f"booking {current.id} moved while this call waited; retry")


def record_change(
    tx: Transaction,
    principal: Principal,
    booking: Booking,
    event_type: EventType,
    notification: Notification,
    now: datetime,
) -> None:
    """The outbox items and the event of a change, in the change's transaction.

    A canceled or declined booking's pending SMS reminder is dropped. The event goes last: it
    holds the site's event-sequence lock until commit (store/booking_repository.py).
    """
    if notification.notify:
        message = notification_message(booking, now, event_type.value)
        if message is not None:
            tx.outbox.enqueue(message, now)
    if booking.status in (BookingStatus.CANCELED, BookingStatus.DECLINED):
        tx.outbox.discard_unsent(booking.id, OutboxKind.SMS_REMINDER)
    tx.bookings.append_event(event_type, booking, actor_of(principal), now)


def with_notification(booking: Booking, notification: Notification) -> Booking:
    """A notification sent with a change becomes the booking's last participant_notification."""
    if not notification.notify:
        return booking
    return replace(booking, notify_participants=True, notification_message=notification.message)


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.identity_type, principal.identity_id)


def require_permission(principal: Principal, permission: str, field: str) -> None:
    """PERMISSION_DENIED MISSING_PERMISSION when a request flag needs a permission not held."""
    if not principal.has_permission(permission):
        raise PermissionDenied(
            f"{field} needs the {permission} permission",
            MISSING_PERMISSION,
            permission=permission,
            field=field,
        )
