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

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bookings_server.app.bookings.staff_assignment import is_unassigned, pick, unassigned_target
from bookings_server.app.bookings.targets import AnyStaffTarget, Exclusions, Target
from bookings_server.app.bookings.units import lock_units, unit_capacity
from bookings_server.app.bookings.waiting_list import refresh_offers
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.booking import (
    Actor,
    Booking,
    BookingStatus,
    EventType,
    PaymentStatus,
)
from bookings_server.domain.booking_rules import MISSING_PERMISSION, no_room
from bookings_server.domain.capacity import CapacityUnit, unit_of
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
    decide_mark_pending,
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
    #: The time of the decision: holds live at it count as taken.
    now: datetime
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

    @property
    def exclusions(self) -> Exclusions:
        """The counts of a decision leave out the booking itself and the hold it came from."""
        return Exclusions(self.now, booking_id=self.booking.id)

    def taken_by_others(self) -> int:
        return self.exclusions.taken(self.tx, self.unit)

    def fit(self) -> tuple[bool, bool]:
        """(conflicts, overbooks): whether the booking conflicts by SPEC 4's rules, and
        whether it exceeds capacity whatever its flags (what `double_booked` records)."""
        capacity, taken = self.capacity(), self.taken_by_others()
        return (
            conflicts(self.booking, self.unit, capacity, taken),
            overbooks(self.booking, self.unit, capacity, taken),
        )


Decide = Callable[[LockedBooking], Outcome]


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

    def mark_pending(
        self,
        principal: Principal,
        booking_id: str,
        *,
        revision: int,
        payment_status: PaymentStatus | None,
        notification: Notification,
    ) -> Booking:
        """CREATED to PENDING, for services that require manual approval (or a caller who may
        override availability); capacity is decided as for a confirmation."""
        validate_revision(revision, required=True)

        def decide(locked: LockedBooking) -> Outcome:
            if not locked.service.require_manual_approval:
                _require_override(principal)
            conflict, overbooked = locked.fit()
            outcome = decide_mark_pending(
                conflict=conflict,
                overbooked=overbooked,
                payment_status=payment_status or locked.booking.payment_status,
            )
            if outcome is None:
                raise no_room(
                    locked.unit,
                    capacity=locked.capacity(),
                    taken=locked.taken_by_others(),
                    participants=locked.booking.participants,
                )
            return outcome

        return self._transition(
            principal,
            booking_id,
            Action.MARK_PENDING,
            revision,
            decide,
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
            locked = self.lock(tx, booking_id, action, now, actor_of(principal))
            check_revision(locked.booking, revision)
            require_allowed(action, locked.booking.status)
            if locked.any_staff is not None:
                locked = locked.placed(pick(tx, locked.any_staff, locked.exclusions))
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
            refresh_offers(tx, locked.unit, locked.service, now, actor_of(principal))
            return stored

    @staticmethod
    def lock(
        tx: Transaction, booking_id: str, action: Action, now: datetime, actor: Actor
    ) -> LockedBooking:
        """The booking re-read under the locks of the units it holds or is about to take, after
        its waiting list (if any) was refreshed under the same lock."""
        booking, buffer_after = tx.bookings.get_booking_and_buffer(booking_id)
        service = tx.cached_catalog.get_service(booking.service_id)
        unit = unit_of(booking, service)
        any_staff = None
        if is_unassigned(booking, service) and action in _TAKING_CAPACITY:
            any_staff = unassigned_target(tx.cached_catalog, booking, service)
        if not tx.serializes_writers:
            lock_units(tx, _units_to_lock(booking, service, unit, any_staff))
        refreshed = refresh_offers(tx, unit, service, now, actor)
        if refreshed or not tx.serializes_writers:
            booking, buffer_after = tx.bookings.get_booking_and_buffer(booking_id)
            check_unit_unchanged(booking, service, unit)
        return LockedBooking(tx, booking, service, unit, buffer_after, now, any_staff)


#: The calls that may make a booking take capacity, and so assign an "any staff" appointment.
_TAKING_CAPACITY = frozenset({Action.CONFIRM_OR_DECLINE, Action.CONFIRM, Action.MARK_PENDING})


def _units_to_lock(
    booking: Booking, service: Service, unit: CapacityUnit, any_staff: AnyStaffTarget | None
) -> tuple[CapacityUnit, ...]:
    """An unassigned appointment holds no unit: it locks the candidates it may take, or none."""
    if any_staff is not None:
        return any_staff.units
    if is_unassigned(booking, service):
        return ()
    return (unit,)


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
    if booking.hold_id:
        # Confirmed, declined, canceled or moved: the hold's spots are no longer its to keep.
        tx.holds.release(booking.hold_id)
    tx.bookings.append_event(event_type, booking, actor_of(principal), now)


def with_notification(booking: Booking, notification: Notification) -> Booking:
    """A notification sent with a change becomes the booking's last participant_notification."""
    if not notification.notify:
        return booking
    return replace(booking, notify_participants=True, notification_message=notification.message)


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.identity_type, principal.identity_id)


def _require_override(principal: Principal) -> None:
    """A booking of a service without manual approval goes PENDING only by an override."""
    if not principal.has_permission(Permission.OVERRIDE_AVAILABILITY):
        raise PermissionDenied(
            "the service does not require manual approval: marking its bookings PENDING needs "
            f"the {Permission.OVERRIDE_AVAILABILITY} permission",
            MISSING_PERMISSION,
            permission=Permission.OVERRIDE_AVAILABILITY,
        )


def require_permission(principal: Principal, permission: str, field: str) -> None:
    """PERMISSION_DENIED MISSING_PERMISSION when a request flag needs a permission not held."""
    if not principal.has_permission(permission):
        raise PermissionDenied(
            f"{field} needs the {permission} permission",
            MISSING_PERMISSION,
            permission=permission,
            field=field,
        )
