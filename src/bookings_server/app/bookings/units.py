"""Capacity units as use cases need them: their capacity, and locking several at once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from bookings_server.domain.booking_rules import course_capacity
from bookings_server.domain.capacity import CapacityUnit, UnitKind
from bookings_server.domain.catalog import Service

if TYPE_CHECKING:
    # Annotations only: the worker's CLI must not load SQLAlchemy before it runs.
    from bookings_server.app.unit_of_work import Transaction


def unit_capacity(tx: Transaction, unit: CapacityUnit, service: Service) -> int:
    """Spots of the unit: the session's capacity, the course's smallest session, or 1 for a
    staff member (an appointment holds its staff member exclusively)."""
    if unit.kind is UnitKind.SESSION:
        return tx.cached_catalog.session_capacity(unit.id)
    if unit.kind is UnitKind.SCHEDULE:
        sessions = tx.cached_catalog.list_schedule_sessions(service.id)
        return course_capacity(service, sessions)
    return 1


def lock_units(tx: Transaction, units: Iterable[CapacityUnit]) -> None:
    """Lock every unit (in key order, so two callers never wait on each other in a cycle).

    Units that share a lock key are locked once. Nothing is re-read under the lock from rows
    the session cached before it: bookings and session capacities are read with Core
    statements, so they reflect the previous lock holder's commit.
    """
    by_key = {unit.lock_key: unit for unit in units}
    for key in sorted(by_key):
        tx.lock(by_key[key])
