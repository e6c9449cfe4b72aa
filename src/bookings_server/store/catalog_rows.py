"""Mapping between catalog rows and the domain dataclasses of domain/catalog.py."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from sqlalchemy import Row

from bookings_server.domain.catalog import (
    BlockedTime,
    BookingPolicy,
    DurationChoice,
    Location,
    LocationType,
    OptionType,
    PaymentOption,
    Service,
    ServiceOption,
    ServiceType,
    Session,
    StaffMember,
    WaitingListPolicy,
    WorkingInterval,
)
from bookings_server.store.models.catalog import (
    BlockedTimeRow,
    ServiceRow,
    SessionRow,
    StaffMemberRow,
    WorkingHoursRow,
)


def seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def duration(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def location_json(location: Location) -> dict[str, Any]:
    return {
        "id": location.id,
        "name": location.name,
        "formatted_address": location.formatted_address,
        "location_type": location.location_type.value if location.location_type else None,
    }


def location_from_json(data: dict[str, Any]) -> Location:
    kind = data.get("location_type")
    return Location(
        id=data.get("id", ""),
        name=data.get("name", ""),
        formatted_address=data.get("formatted_address", ""),
        location_type=LocationType(kind) if kind else None,
    )


def choices_json(choices: tuple[ServiceOption, ...]) -> list[dict[str, Any]]:
    return [
        {
            "id": option.id,
            "name": option.name,
            "type": option.type.value,
            "custom_choices": list(option.custom_choices),
            "duration_choices": [
                {"minutes": d.minutes, "name": d.name} for d in option.duration_choices
            ],
        }
        for option in choices
    ]


def choices_from_json(data: list[dict[str, Any]]) -> tuple[ServiceOption, ...]:
    return tuple(
        ServiceOption(
            id=option["id"],
            name=option["name"],
            type=OptionType(option["type"]),
            custom_choices=tuple(option["custom_choices"]),
            duration_choices=tuple(
                DurationChoice(d["minutes"], d["name"]) for d in option["duration_choices"]
            ),
        )
        for option in data
    )


def fill_service_row(row: ServiceRow, service: Service) -> None:
    """Copy every mutable field of `service` onto `row` (not ids, type or timestamps)."""
    row.name = service.name
    row.timezone = service.timezone
    row.default_capacity = service.default_capacity
    row.duration_seconds = seconds(service.duration)
    row.buffer_after_seconds = seconds(service.buffer_after) or 0
    row.online_booking_enabled = service.online_booking_enabled
    row.require_manual_approval = service.require_manual_approval
    row.payment_options = sorted(option.value for option in service.payment_options)
    row.choices = choices_json(service.choices)
    row.min_notice_seconds = seconds(service.policy.min_notice) or 0
    row.max_advance_seconds = seconds(service.policy.max_advance)
    row.max_participants_per_booking = service.policy.max_participants_per_booking
    row.cancellation_window_seconds = seconds(service.policy.cancellation_window) or 0
    row.waiting_list_enabled = service.waiting_list.enabled
    row.waiting_list_capacity = service.waiting_list.capacity
    row.waiting_list_reservation_seconds = int(
        service.waiting_list.reservation_time.total_seconds()
    )
    row.location = location_json(service.location)


def service_from_row(row: ServiceRow | Row[Any], staff_member_ids: tuple[str, ...]) -> Service:
    return Service(
        id=row.id,
        site_id=row.site_id,
        name=row.name,
        type=ServiceType(row.type),
        timezone=row.timezone,
        schedule_id=row.schedule_id,
        default_capacity=row.default_capacity,
        duration=duration(row.duration_seconds),
        buffer_after=timedelta(seconds=row.buffer_after_seconds),
        online_booking_enabled=row.online_booking_enabled,
        require_manual_approval=row.require_manual_approval,
        payment_options=frozenset(PaymentOption(value) for value in row.payment_options),
        choices=choices_from_json(row.choices),
        policy=BookingPolicy(
            min_notice=timedelta(seconds=row.min_notice_seconds),
            max_advance=duration(row.max_advance_seconds),
            max_participants_per_booking=row.max_participants_per_booking,
            cancellation_window=timedelta(seconds=row.cancellation_window_seconds),
        ),
        waiting_list=WaitingListPolicy(
            row.waiting_list_enabled,
            row.waiting_list_capacity,
            timedelta(seconds=row.waiting_list_reservation_seconds),
        ),
        staff_member_ids=staff_member_ids,
        location=location_from_json(row.location),
        created_date=row.created_date,
        updated_date=row.updated_date,
        deleted_date=row.deleted_date,
    )


def working_hours_row(
    site_id: str, staff_id: str, position: int, interval: WorkingInterval
) -> WorkingHoursRow:
    return WorkingHoursRow(
        site_id=site_id,
        staff_member_id=staff_id,
        position=position,
        weekday=interval.weekday,
        start_minute=_minute(interval.start),
        end_minute=_minute(interval.end),
    )


def blocked_time_row(
    site_id: str, staff_id: str, position: int, blocked: BlockedTime
) -> BlockedTimeRow:
    return BlockedTimeRow(
        site_id=site_id,
        staff_member_id=staff_id,
        position=position,
        start_date=blocked.start,
        end_date=blocked.end,
        reason=blocked.reason,
    )


def staff_from_rows(
    row: StaffMemberRow, hours: list[WorkingHoursRow], blocked: list[BlockedTimeRow]
) -> StaffMember:
    return StaffMember(
        id=row.id,
        site_id=row.site_id,
        name=row.name,
        timezone=row.timezone,
        schedule_id=row.schedule_id,
        email=row.email,
        working_hours=tuple(
            WorkingInterval(h.weekday, _time(h.start_minute) or time(0), _time(h.end_minute))
            for h in sorted(hours, key=lambda h: h.position)
        ),
        blocked_times=tuple(
            BlockedTime(b.start_date, b.end_date, b.reason)
            for b in sorted(blocked, key=lambda b: b.position)
        ),
        deleted_date=row.deleted_date,
    )


def session_from_rows(row: SessionRow, service: ServiceRow) -> Session:
    return _session(
        row,
        default_capacity=service.default_capacity,
        timezone=service.timezone,
        schedule_id=service.schedule_id,
        default_location=location_from_json(service.location),
    )


def session_of_service(row: SessionRow | Row[Any], service: Service) -> Session:
    """Like session_from_rows, from the already-read Service the session belongs to."""
    return _session(
        row,
        default_capacity=service.default_capacity,
        timezone=service.timezone,
        schedule_id=service.schedule_id,
        default_location=service.location,
    )


def _session(
    row: SessionRow | Row[Any],
    *,
    default_capacity: int,
    timezone: str,
    schedule_id: str,
    default_location: Location,
) -> Session:
    """A session row; a NULL capacity or location follows its service's."""
    return Session(
        id=row.id,
        site_id=row.site_id,
        service_id=row.service_id,
        start=row.start_date,
        end=row.end_date,
        capacity=default_capacity if row.capacity is None else row.capacity,
        timezone=timezone,
        schedule_id=schedule_id,
        staff_member_id=row.staff_member_id or "",
        location=default_location if row.location is None else location_from_json(row.location),
        recurrence_id=row.recurrence_id,
        capacity_from_service=row.capacity is None,
        location_from_service=row.location is None,
        deleted_date=row.deleted_date,
    )


def _minute(value: time | None) -> int:
    return 24 * 60 if value is None else value.hour * 60 + value.minute


def _time(minute: int) -> time | None:
    """Minutes since midnight; 1440 ("24:00") is None."""
    return None if minute >= 24 * 60 else time(minute // 60, minute % 60)
