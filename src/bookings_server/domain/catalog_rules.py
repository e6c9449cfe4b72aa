"""Catalog rules that compare a request with what is stored, pure.

The field paths are relative to the entity ("type", "staff_member_ids[0]", "service_id");
the caller prefixes them with the entity's place in its request or file.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from bookings_server.domain.catalog import Service, ServiceType, SessionSpec
from bookings_server.domain.catalog_recurrence import expand, parse_recurrence
from bookings_server.domain.errors import FailedPrecondition, FieldViolation, InvalidArgument

_UNCHANGEABLE = "cannot change after creation"


def check_type_unchanged(stored: Service, changed: Service) -> None:
    """A service's type is fixed when it is created."""
    if changed.type is not stored.type:
        raise InvalidArgument.of([FieldViolation("type", _UNCHANGEABLE)])


def check_staff_known(staff_ids: Sequence[str], known: Collection[str]) -> None:
    """Every staff member a service names exists."""
    missing = [
        FieldViolation(f"staff_member_ids[{i}]", f"unknown staff member {staff_id!r}")
        for i, staff_id in enumerate(staff_ids)
        if staff_id not in known
    ]
    if missing:
        raise InvalidArgument.of(missing)


def check_session_service(service: Service | None, service_id: str) -> Service:
    """A session belongs to an existing class or course."""
    if service is None:
        raise InvalidArgument.of([FieldViolation("service_id", f"unknown service {service_id!r}")])
    if service.type is ServiceType.APPOINTMENT:
        raise InvalidArgument.of(
            [FieldViolation("service_id", "appointments have no sessions: use a class or course")]
        )
    return service


def check_session_staff_known(spec: SessionSpec, known: bool) -> None:
    if spec.staff_member_id and not known:
        raise InvalidArgument.of(
            [FieldViolation("staff_member_id", f"unknown staff member {spec.staff_member_id!r}")]
        )


def check_session_service_unchanged(stored_service_id: str, spec: SessionSpec) -> None:
    """A session cannot move to another service."""
    if spec.service_id != stored_service_id:
        raise InvalidArgument.of([FieldViolation("service_id", _UNCHANGEABLE)])


def occurrences(
    spec: SessionSpec, recurrence: str, timezone: str, path: str = "recurrence"
) -> list[tuple[datetime, datetime]]:
    """The (start, end) of every session `spec` and a weekly `recurrence` (may be "") define."""
    if not recurrence:
        return [(spec.start, spec.end)]
    return expand(parse_recurrence(recurrence, path), spec.start, spec.end, timezone, path)


def occurrence_keys(key: str, count: int, recurrence: str) -> list[str]:
    """The import keys of a keyed definition's sessions: "key", or "key#1" ... "key#n"."""
    return [f"{key}#{n}" for n in range(1, count + 1)] if recurrence else [key]


def check_dropped_sessions_free(path: str, booked: bool) -> None:
    """A new definition may drop earlier sessions only while none of them has bookings."""
    if booked:
        raise FailedPrecondition(
            f"{path}: the new definition drops sessions that have bookings; cancel them first",
            reason="SESSIONS_IN_USE",
        )
