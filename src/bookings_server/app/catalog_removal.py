"""DeleteService, DeleteStaffMember and DeleteSession: each one write transaction.

The entity's active bookings are read; if any and the caller did not ask to cancel them, the
delete is refused (domain/catalog_removal.py). Otherwise each one is canceled as CancelBooking
would (under its capacity unit's lock, with its event, a participant notification, its hold
released and its waiting list offered the freed spots) and the entity is marked deleted, all in
the same commit. A delete of something already deleted changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from bookings_server.app.bookings.lifecycle import (
    Notification,
    actor_of,
    record_change,
    with_notification,
)
from bookings_server.app.bookings.units import lock_units
from bookings_server.app.bookings.waiting_list import refresh_offers
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import Transaction, UnitOfWork
from bookings_server.domain.booking import Booking, BookingStatus, EventType
from bookings_server.domain.capacity import unit_of
from bookings_server.domain.catalog import Service, Session, StaffMember
from bookings_server.domain.catalog_removal import (
    DEFAULT_MESSAGE,
    DeleteOptions,
    EntityReference,
    check_removable,
)
from bookings_server.domain.identity import Principal
from bookings_server.domain.lifecycle import Outcome, apply_outcome

Entity = TypeVar("Entity", Service, StaffMember, Session)


class CatalogRemoval:
    """Deletes catalog entities of the principal's site."""

    def __init__(self, uow: UnitOfWork, clock: Clock = utc_now) -> None:
        self._uow = uow
        self._clock = clock

    def delete_service(
        self, principal: Principal, service_id: str, options: DeleteOptions
    ) -> tuple[Service, int]:
        """The deleted service (its sessions too) and how many bookings were canceled."""

        def mark(tx: Transaction, now: datetime) -> Service:
            tx.catalog.mark_sessions_deleted(tx.catalog.session_ids_of_service(service_id), now)
            return tx.catalog.mark_service_deleted(service_id, now)

        return self._delete(
            principal,
            EntityReference("service", service_id),
            lambda tx: tx.catalog.get_service(service_id),
            mark,
            options,
        )

    def delete_staff_member(
        self, principal: Principal, staff_member_id: str, options: DeleteOptions
    ) -> tuple[StaffMember, int]:
        """The deleted staff member and how many of their appointments were canceled."""
        return self._delete(
            principal,
            EntityReference("staff_member", staff_member_id),
            lambda tx: tx.catalog.get_staff_member(staff_member_id),
            lambda tx, now: tx.catalog.mark_staff_deleted(staff_member_id, now),
            options,
        )

    def delete_session(
        self, principal: Principal, session_id: str, options: DeleteOptions
    ) -> tuple[Session, int]:
        """The deleted session and how many of its bookings were canceled."""

        def mark(tx: Transaction, now: datetime) -> Session:
            tx.catalog.mark_sessions_deleted([session_id], now)
            return tx.catalog.get_session(session_id)

        return self._delete(
            principal,
            EntityReference("session", session_id),
            lambda tx: tx.catalog.get_session(session_id),
            mark,
            options,
        )

    def _delete(
        self,
        principal: Principal,
        reference: EntityReference,
        read: Callable[[Transaction], Entity],
        mark: Callable[[Transaction, datetime], Entity],
        options: DeleteOptions,
    ) -> tuple[Entity, int]:
        now = self._clock()
        with self._uow.write(principal.site_id) as tx:
            current = read(tx)  # NotFound for unknown ids and other sites' ids
            if current.deleted_date is not None:
                return current, 0
            active = tx.bookings.active_bookings(reference, now)
            check_removable(reference, len(active), options)
            _cancel_all(tx, principal, active, options, now)
            return mark(tx, now), len(active)


def _cancel_all(
    tx: Transaction,
    principal: Principal,
    bookings: list[Booking],
    options: DeleteOptions,
    now: datetime,
) -> None:
    """Cancel every booking under its unit's lock (all locks first, in key order)."""
    if not bookings:
        return
    services = {b.service_id: tx.catalog.get_service(b.service_id) for b in bookings}
    units = {b.id: unit_of(b, services[b.service_id]) for b in bookings}
    lock_units(tx, [unit for unit in units.values() if unit.id])
    notification = Notification(notify=True, message=options.message or DEFAULT_MESSAGE)
    for booking in bookings:
        current = tx.bookings.get_booking(booking.id)
        if current.status is BookingStatus.CANCELED:
            continue
        outcome = Outcome(BookingStatus.CANCELED, current.double_booked)
        canceled = apply_outcome(current, outcome, None, now)
        canceled = with_notification(canceled, notification)
        stored = tx.bookings.update_booking(canceled, expected_revision=current.revision)
        record_change(tx, principal, stored, EventType.BOOKING_CANCELED, notification, now)
        refresh_offers(
            tx, units[booking.id], services[booking.service_id], now, actor_of(principal)
        )
