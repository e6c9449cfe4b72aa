"""Catalog validation rules (SPEC sections 6 and 8), pure.

Each check collects every problem it finds, and raises one InvalidArgument whose
FieldViolations name the offending fields by path. The `validate_*` functions name them
relative to the entity ("timezone", "working_hours[0].end_time"); callers prefix them with the
entity's place (`with_field_prefix`): the API request's field ("service.timezone"), the YAML
import's path ("services[2].timezone").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, time, timedelta
from itertools import pairwise

from bookings_server.domain.catalog import (
    BookingPolicy,
    OptionType,
    Service,
    ServiceOption,
    ServiceType,
    SessionSpec,
    StaffMember,
    WorkingInterval,
)
from bookings_server.domain.errors import FieldViolation, InvalidArgument
from bookings_server.domain.timezones import is_zone, zone_violation

MIN_CAPACITY = 1
MAX_CAPACITY = 1000
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320
MAX_ID_LENGTH = 100
MAX_STAFF_PER_SERVICE = 500
MAX_CHOICES = 100
MAX_WORKING_INTERVALS = 100
MAX_BLOCKED_TIMES = 1000
MAX_SLOT_LENGTH = timedelta(days=1)
MAX_SESSION_LENGTH = timedelta(days=7)
MAX_POLICY_PERIOD = timedelta(days=3650)
#: Instants outside these years are refused: nobody books them, and they overflow local time.
EARLIEST_YEAR = 1970
LATEST_YEAR = 2200
_WALL_TIME = re.compile(r"(\d\d):(\d\d)", re.ASCII)


class Violations:
    """Collects FieldViolations; `raise_if_any` raises them as one InvalidArgument."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, path: str, description: str) -> None:
        self.items.append(FieldViolation(path, description))

    def extend(self, violations: Iterable[FieldViolation]) -> None:
        self.items.extend(violations)

    def raise_if_any(self) -> None:
        if self.items:
            raise invalid(self.items)


def invalid(violations: list[FieldViolation]) -> InvalidArgument:
    return InvalidArgument.of(violations)


def check_timezone(found: Violations, path: str, name: str) -> None:
    if not name:
        found.add(path, "required: an IANA time zone such as Europe/London")
    elif not is_zone(name):
        found.items.append(zone_violation(path, name))


def check_name(found: Violations, path: str, name: str) -> None:
    if "\x00" in name:
        found.add(path, "must not contain NUL characters")
    elif not name.strip():
        found.add(path, "required")
    elif len(name) > MAX_NAME_LENGTH:
        found.add(path, f"at most {MAX_NAME_LENGTH} characters")


def check_instant(found: Violations, path: str, value: datetime | None) -> None:
    if value is None:
        found.add(path, "required")
    elif not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        found.add(path, f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")


def check_capacity(found: Violations, path: str, capacity: int) -> None:
    if not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
        found.add(path, f"must be between {MIN_CAPACITY} and {MAX_CAPACITY}, got {capacity}")


def parse_wall_time(text: str, *, allow_end_of_day: bool = False) -> time | None:
    """Parse "HH:MM" (24-hour clock). "24:00" is None, allowed only as an interval's end.

    Two ASCII digits each: fullwidth or superscript digits are refused, as text, before `int()`.
    Raises ValueError with a description for anything else.
    """
    shape = _WALL_TIME.fullmatch(text)
    if shape is None:
        raise ValueError(f'expected "HH:MM", got {text!r}')
    hours, minutes = int(shape.group(1)), int(shape.group(2))
    if (hours, minutes) == (24, 0) and allow_end_of_day:
        return None
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a time of day: {text!r}")
    return time(hours, minutes)


def format_wall_time(value: time | None) -> str:
    return "24:00" if value is None else value.strftime("%H:%M")


#: The longest a freed spot may be kept for the next in line.
MAX_RESERVATION_TIME = timedelta(days=7)


def validate_service(service: Service) -> None:
    """Every problem of its fields, named relative to it ("name", "timezone")."""
    found = Violations()
    check_name(found, "name", service.name)
    check_timezone(found, "timezone", service.timezone)
    if service.type is ServiceType.APPOINTMENT:
        if service.default_capacity != 1:
            found.add("default_capacity", "appointments have capacity 1")
        if service.duration is None:
            found.add("duration", "required for appointments")
    else:
        check_capacity(found, "default_capacity", service.default_capacity)
    if service.duration is not None and not timedelta(0) < service.duration <= MAX_SLOT_LENGTH:
        found.add("duration", "must be positive and at most one day")
    if not timedelta(0) <= service.buffer_after <= MAX_SLOT_LENGTH:
        found.add("buffer_after", "must be between zero and one day")
    _check_policy(found, "booking_policy", service.policy)
    if not 0 <= service.waiting_list.capacity <= MAX_CAPACITY:
        found.add("waiting_list.capacity", f"must be between 0 and {MAX_CAPACITY}")
    if not timedelta(0) < service.waiting_list.reservation_time <= MAX_RESERVATION_TIME:
        found.add("waiting_list.reservation_time", "must be more than 0 and at most 7 days")
    _check_choices(found, "choices", service.choices)
    _check_ids(found, "staff_member_ids", service.staff_member_ids, MAX_STAFF_PER_SERVICE)
    found.raise_if_any()


def _check_policy(found: Violations, path: str, policy: BookingPolicy) -> None:
    limit = "at most 10 years"
    for name, value in (
        ("min_notice", policy.min_notice),
        ("cancellation_window", policy.cancellation_window),
    ):
        if value < timedelta(0):
            found.add(f"{path}.{name}", "must not be negative")
        elif value > MAX_POLICY_PERIOD:
            found.add(f"{path}.{name}", limit)
    if policy.max_advance is not None and policy.max_advance <= timedelta(0):
        found.add(f"{path}.max_advance", "must be positive (leave it unset for no limit)")
    elif policy.max_advance is not None and policy.max_advance > MAX_POLICY_PERIOD:
        found.add(f"{path}.max_advance", limit)
    if not 0 <= policy.max_participants_per_booking <= MAX_CAPACITY:
        found.add(
            f"{path}.max_participants_per_booking",
            f"must be between 0 (the capacity) and {MAX_CAPACITY}",
        )


def _check_choices(found: Violations, path: str, choices: tuple[ServiceOption, ...]) -> None:
    if len(choices) > MAX_CHOICES:
        found.add(path, f"at most {MAX_CHOICES} options")
        return
    seen: set[str] = set()
    for index, option in enumerate(choices):
        item = f"{path}[{index}]"
        if not option.id.strip():
            found.add(f"{item}.id", "required")
        elif option.id in seen:
            found.add(f"{item}.id", f"duplicate option id {option.id!r}")
        seen.add(option.id)
        if option.type is OptionType.CUSTOM:
            values = option.custom_choices
            if not values:
                found.add(f"{item}.custom_choices", "a CUSTOM option needs at least one value")
            elif len(set(values)) != len(values) or any(not v.strip() for v in values):
                found.add(f"{item}.custom_choices", "values must be non-empty and distinct")
        else:
            minutes = [d.minutes for d in option.duration_choices]
            if not minutes:
                found.add(f"{item}.duration_choices", "a DURATION option needs at least one value")
            elif len(set(minutes)) != len(minutes) or any(not 0 < m <= 1440 for m in minutes):
                found.add(
                    f"{item}.duration_choices", "minutes must be distinct, between 1 and 1440"
                )


def _check_ids(found: Violations, path: str, ids: tuple[str, ...], limit: int) -> None:
    if len(ids) > limit:
        found.add(path, f"at most {limit} ids")
        return
    seen: set[str] = set()
    for index, value in enumerate(ids):
        if not value or len(value) > MAX_ID_LENGTH:
            found.add(f"{path}[{index}]", "not an id")
        elif value in seen:
            found.add(f"{path}[{index}]", f"duplicate id {value!r}")
        seen.add(value)


def validate_staff_member(staff: StaffMember) -> None:
    """Every problem of its fields, named relative to it ("name", "timezone")."""
    found = Violations()
    check_name(found, "name", staff.name)
    email = staff.email
    if len(email) > MAX_EMAIL_LENGTH or (email and "@" not in email) or "\x00" in email:
        found.add("email", "not an email address")
    check_timezone(found, "timezone", staff.timezone)
    found.extend(working_hours_violations("working_hours", staff.working_hours))
    if len(staff.blocked_times) > MAX_BLOCKED_TIMES:
        found.add("blocked_times", f"at most {MAX_BLOCKED_TIMES} entries")
    for index, blocked in enumerate(staff.blocked_times):
        item = f"blocked_times[{index}]"
        check_instant(found, f"{item}.start_date", blocked.start)
        check_instant(found, f"{item}.end_date", blocked.end)
        if blocked.end <= blocked.start:
            found.add(f"{item}.end_date", "must be after the start")
    found.raise_if_any()


def working_hours_violations(
    path: str, intervals: tuple[WorkingInterval, ...]
) -> list[FieldViolation]:
    """An interval must end after it starts; two intervals of one day must not overlap."""
    if len(intervals) > MAX_WORKING_INTERVALS:
        return [FieldViolation(path, f"at most {MAX_WORKING_INTERVALS} intervals")]
    found = Violations()
    by_day: dict[int, list[tuple[int, int, int]]] = {}
    for index, interval in enumerate(intervals):
        item = f"{path}[{index}]"
        if not 0 <= interval.weekday <= 6:
            found.add(f"{item}.day_of_week", "required: a day of the week")
            continue
        start, end = _minutes(interval.start), _minutes(interval.end)
        if end <= start:
            found.add(f"{item}.end_time", "must be after the start time")
            continue
        by_day.setdefault(interval.weekday, []).append((start, end, index))
    for day in by_day.values():
        day.sort()
        for (_, previous_end, _), (start, _, index) in pairwise(day):
            if start < previous_end:
                found.add(f"{path}[{index}]", "overlaps another interval of the same day")
    return found.items


def _minutes(value: time | None) -> int:
    return 24 * 60 if value is None else value.hour * 60 + value.minute


def validate_session(spec: SessionSpec) -> None:
    """Every problem of its fields, named relative to it ("name", "timezone")."""
    found = Violations()
    if not spec.service_id:
        found.add("service_id", "required")
    check_instant(found, "start_date", spec.start)
    check_instant(found, "end_date", spec.end)
    if spec.end <= spec.start:
        found.add("end_date", "must be after the start")
    elif spec.end - spec.start > MAX_SESSION_LENGTH:
        found.add("end_date", "a session lasts at most 7 days")
    if spec.capacity is not None:
        check_capacity(found, "capacity", spec.capacity)
    found.raise_if_any()
