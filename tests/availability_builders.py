"""Catalog builders for the availability tests: small, explicit, and in UTC unless named."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bookings_server.domain.catalog import (
    BookingPolicy,
    Service,
    ServiceType,
    Session,
    StaffMember,
    WorkingInterval,
)

SITE = "site-a"
EVERY_DAY = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(zone: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall time in `zone` (fold=0) as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def hours(
    start: str, end: str | None, weekdays: range | tuple[int, ...] = EVERY_DAY
) -> tuple[WorkingInterval, ...]:
    """Working hours "HH:MM" to "HH:MM" (None: midnight) on the given weekdays."""
    end_time = None if end is None else time.fromisoformat(end)
    return tuple(WorkingInterval(day, time.fromisoformat(start), end_time) for day in weekdays)


def hours_on(day: date, start: str, end: str | None) -> tuple[WorkingInterval, ...]:
    return hours(start, end, (day.weekday(),))


def staff_member(
    staff_id: str = "staff-1",
    zone: str = "UTC",
    working_hours: tuple[WorkingInterval, ...] = (),
    **overrides: Any,
) -> StaffMember:
    member = StaffMember(
        id=staff_id,
        site_id=SITE,
        name=f"Name of {staff_id}",
        timezone=zone,
        schedule_id=f"schedule-{staff_id}",
        email=f"{staff_id}@example.com",
        working_hours=working_hours,
    )
    return replace(member, **overrides)


def appointment_service(
    service_id: str = "haircut",
    minutes: int = 60,
    buffer_minutes: int = 0,
    staff_ids: tuple[str, ...] = ("staff-1",),
    zone: str = "UTC",
    policy: BookingPolicy | None = None,
    **overrides: Any,
) -> Service:
    service = Service(
        id=service_id,
        site_id=SITE,
        name=service_id.title(),
        type=ServiceType.APPOINTMENT,
        timezone=zone,
        schedule_id=f"schedule-{service_id}",
        duration=timedelta(minutes=minutes),
        buffer_after=timedelta(minutes=buffer_minutes),
        staff_member_ids=staff_ids,
        policy=policy or BookingPolicy(),
    )
    return replace(service, **overrides)


def group_service(
    service_id: str = "yoga",
    service_type: ServiceType = ServiceType.CLASS,
    capacity: int = 10,
    zone: str = "UTC",
    **overrides: Any,
) -> Service:
    service = Service(
        id=service_id,
        site_id=SITE,
        name=service_id.title(),
        type=service_type,
        timezone=zone,
        schedule_id=f"schedule-{service_id}",
        default_capacity=capacity,
    )
    return replace(service, **overrides)


def session(
    session_id: str,
    service: Service,
    start: datetime,
    minutes: int = 60,
    capacity: int | None = None,
    staff_id: str = "",
) -> Session:
    return Session(
        id=session_id,
        site_id=SITE,
        service_id=service.id,
        start=start,
        end=start + timedelta(minutes=minutes),
        capacity=capacity if capacity is not None else service.default_capacity,
        timezone=service.timezone,
        schedule_id=service.schedule_id,
        staff_member_id=staff_id,
    )
