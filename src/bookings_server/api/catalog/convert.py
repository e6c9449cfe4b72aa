"""Protobuf <-> domain for the catalog (bookings.v1 Service, StaffMember, Session).

Decoding collects every malformed field (missing, unspecified enum, unparsable time) as a
FieldViolation named by its proto path; the domain rules (catalog_validation.py) run after.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bookings.v1 import booking_pb2, catalog_pb2
from google.protobuf.message import Message

from bookings_server.api.proto_types import (
    duration_from_proto,
    enum_from_proto,
    enum_to_proto,
    set_optional_duration,
    set_optional_timestamp,
    set_timestamp,
    timestamp_from_proto,
)
from bookings_server.domain.catalog import (
    DEFAULT_RESERVATION_TIME,
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
    SessionSpec,
    StaffMember,
    WaitingListPolicy,
    WorkingInterval,
)
from bookings_server.domain.catalog_validation import (
    Violations,
    format_wall_time,
    parse_wall_time,
)
from bookings_server.domain.errors import InvalidArgument

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")

_SERVICE_TYPE_PREFIX = "SERVICE_TYPE_"
_PAYMENT_PREFIX = "SELECTED_PAYMENT_OPTION_"
_OPTION_TYPE_PREFIX = "SERVICE_OPTION_TYPE_"
_LOCATION_PREFIX = "LOCATION_TYPE_"


# --- small pieces -------------------------------------------------------------------------


def _collect(found: Violations, decode: Callable[[], T]) -> T | None:
    """Run a api/proto_types.py decoder, adding its violations to `found` instead of raising."""
    try:
        return decode()
    except InvalidArgument as error:
        found.extend(error.violations)
        return None


def enum_field(
    found: Violations, path: str, proto_enum: Any, domain: type[E], prefix: str, value: int
) -> E | None:
    """The domain member named like the proto value; unspecified or unknown is a violation."""
    try:
        member = enum_from_proto(proto_enum, domain, value, prefix, path)
    except InvalidArgument:
        member = None
    if member is None:
        found.add(path, "required: choose one of the defined values")
    return member


def instant_field(
    found: Violations, path: str, message: Message, name: str, *, required: bool = True
) -> datetime | None:
    """A Timestamp field as an aware UTC datetime; None (with a violation if required)."""
    if required and not message.HasField(name):
        found.add(path, "required")
        return None
    return _collect(found, lambda: timestamp_from_proto(message, name, path))


def _duration_field(found: Violations, path: str, message: Message, name: str) -> timedelta | None:
    return _collect(found, lambda: duration_from_proto(message, name, path))


def location_from_proto(found: Violations, path: str, proto: booking_pb2.Location) -> Location:
    kind = None
    if proto.location_type:
        kind = enum_field(
            found,
            f"{path}.location_type",
            booking_pb2.LocationType,
            LocationType,
            _LOCATION_PREFIX,
            proto.location_type,
        )
    return Location(proto.id, proto.name, proto.formatted_address, kind)


def location_to_proto(location: Location, target: booking_pb2.Location) -> None:
    target.id = location.id
    target.name = location.name
    target.formatted_address = location.formatted_address
    if location.location_type is not None:
        target.location_type = booking_pb2.LocationType.ValueType(
            enum_to_proto(booking_pb2.LocationType, _LOCATION_PREFIX, location.location_type)
        )


# --- services -----------------------------------------------------------------------------


def service_from_proto(proto: catalog_pb2.Service, site_id: str, path: str = "service") -> Service:
    """Decode a Service message; output-only fields other than id are ignored."""
    found = Violations()
    service_type = enum_field(
        found,
        f"{path}.type",
        catalog_pb2.ServiceType,
        ServiceType,
        _SERVICE_TYPE_PREFIX,
        proto.type,
    )
    capacity = proto.default_capacity
    if service_type is ServiceType.APPOINTMENT and capacity == 0:
        capacity = 1
    payment_options = [
        enum_field(
            found,
            f"{path}.payment_options[{i}]",
            booking_pb2.SelectedPaymentOption,
            PaymentOption,
            _PAYMENT_PREFIX,
            value,
        )
        for i, value in enumerate(proto.payment_options)
    ]
    service = Service(
        id=proto.id,
        site_id=site_id,
        name=proto.name,
        type=service_type or ServiceType.APPOINTMENT,
        timezone=proto.timezone,
        schedule_id=proto.schedule_id,
        default_capacity=capacity,
        duration=_duration_field(found, f"{path}.duration", proto, "duration"),
        buffer_after=_duration_field(found, f"{path}.buffer_after", proto, "buffer_after")
        or timedelta(0),
        online_booking_enabled=(
            proto.online_booking.enabled if proto.HasField("online_booking") else True
        ),
        require_manual_approval=proto.online_booking.require_manual_approval,
        payment_options=frozenset(option for option in payment_options if option is not None),
        choices=tuple(
            _option_from_proto(found, f"{path}.choices[{i}]", option)
            for i, option in enumerate(proto.choices)
        ),
        policy=_policy_from_proto(found, f"{path}.booking_policy", proto.booking_policy),
        waiting_list=WaitingListPolicy(
            proto.waiting_list.enabled,
            proto.waiting_list.capacity,
            _duration_field(
                found,
                f"{path}.waiting_list.reservation_time",
                proto.waiting_list,
                "reservation_time",
            )
            or DEFAULT_RESERVATION_TIME,
        ),
        staff_member_ids=tuple(proto.staff_member_ids),
        location=location_from_proto(found, f"{path}.location", proto.location),
    )
    found.raise_if_any()
    return service


def _policy_from_proto(
    found: Violations, path: str, policy: catalog_pb2.BookingPolicy
) -> BookingPolicy:
    return BookingPolicy(
        min_notice=_duration_field(found, f"{path}.min_notice", policy, "min_notice")
        or timedelta(0),
        max_advance=_duration_field(found, f"{path}.max_advance", policy, "max_advance"),
        max_participants_per_booking=policy.max_participants_per_booking,
        cancellation_window=_duration_field(
            found, f"{path}.cancellation_window", policy, "cancellation_window"
        )
        or timedelta(0),
    )


def _option_from_proto(
    found: Violations, path: str, proto: catalog_pb2.ServiceOption
) -> ServiceOption:
    option_type = enum_field(
        found,
        f"{path}.type",
        catalog_pb2.ServiceOptionType,
        OptionType,
        _OPTION_TYPE_PREFIX,
        proto.type,
    )
    return ServiceOption(
        id=proto.id,
        name=proto.name,
        type=option_type or OptionType.CUSTOM,
        custom_choices=tuple(proto.custom_choices),
        duration_choices=tuple(DurationChoice(d.minutes, d.name) for d in proto.duration_choices),
    )


def service_to_proto(service: Service) -> catalog_pb2.Service:
    proto = catalog_pb2.Service(
        id=service.id,
        name=service.name,
        type=catalog_pb2.ServiceType.ValueType(
            enum_to_proto(catalog_pb2.ServiceType, _SERVICE_TYPE_PREFIX, service.type)
        ),
        default_capacity=service.default_capacity,
        timezone=service.timezone,
        online_booking=catalog_pb2.OnlineBooking(
            enabled=service.online_booking_enabled,
            require_manual_approval=service.require_manual_approval,
        ),
        payment_options=sorted(
            booking_pb2.SelectedPaymentOption.ValueType(
                enum_to_proto(booking_pb2.SelectedPaymentOption, _PAYMENT_PREFIX, option)
            )
            for option in service.payment_options
        ),
        choices=[_option_to_proto(option) for option in service.choices],
        booking_policy=catalog_pb2.BookingPolicy(
            max_participants_per_booking=service.policy.max_participants_per_booking
        ),
        staff_member_ids=service.staff_member_ids,
        waiting_list=catalog_pb2.WaitingListPolicy(
            enabled=service.waiting_list.enabled, capacity=service.waiting_list.capacity
        ),
        schedule_id=service.schedule_id,
    )
    set_optional_duration(proto, "duration", service.duration)
    if service.waiting_list.enabled:
        set_optional_duration(
            proto.waiting_list, "reservation_time", service.waiting_list.reservation_time
        )
    set_optional_duration(proto, "buffer_after", service.buffer_after)
    set_optional_duration(proto.booking_policy, "min_notice", service.policy.min_notice)
    set_optional_duration(proto.booking_policy, "max_advance", service.policy.max_advance)
    set_optional_duration(
        proto.booking_policy, "cancellation_window", service.policy.cancellation_window
    )
    location_to_proto(service.location, proto.location)
    set_optional_timestamp(proto, "created_date", service.created_date)
    set_optional_timestamp(proto, "updated_date", service.updated_date)
    set_optional_timestamp(proto, "deleted_date", service.deleted_date)
    return proto


def _option_to_proto(option: ServiceOption) -> catalog_pb2.ServiceOption:
    return catalog_pb2.ServiceOption(
        id=option.id,
        name=option.name,
        type=catalog_pb2.ServiceOptionType.ValueType(
            enum_to_proto(catalog_pb2.ServiceOptionType, _OPTION_TYPE_PREFIX, option.type)
        ),
        custom_choices=option.custom_choices,
        duration_choices=[
            booking_pb2.ChoiceDuration(minutes=d.minutes, name=d.name)
            for d in option.duration_choices
        ],
    )


# --- staff members ------------------------------------------------------------------------


def staff_from_proto(
    proto: catalog_pb2.StaffMember, site_id: str, path: str = "staff_member"
) -> StaffMember:
    found = Violations()
    hours = []
    for i, interval in enumerate(proto.working_hours):
        item = f"{path}.working_hours[{i}]"
        try:
            start = parse_wall_time(interval.start_time)
        except ValueError as bad:
            found.add(f"{item}.start_time", str(bad))
            continue
        try:
            end = parse_wall_time(interval.end_time, allow_end_of_day=True)
        except ValueError as bad:
            found.add(f"{item}.end_time", str(bad))
            continue
        weekday = interval.day_of_week - 1 if 1 <= interval.day_of_week <= 7 else -1
        hours.append(WorkingInterval(weekday, start or datetime.min.time(), end))
    blocked = []
    for i, block in enumerate(proto.blocked_times):
        item = f"{path}.blocked_times[{i}]"
        start_date = instant_field(found, f"{item}.start_date", block, "start_date")
        end_date = instant_field(found, f"{item}.end_date", block, "end_date")
        if start_date is not None and end_date is not None:
            blocked.append(BlockedTime(start_date, end_date, block.reason))
    found.raise_if_any()
    return StaffMember(
        id=proto.id,
        site_id=site_id,
        name=proto.name,
        timezone=proto.timezone,
        schedule_id=proto.schedule_id,
        email=proto.email,
        working_hours=tuple(hours),
        blocked_times=tuple(blocked),
    )


def staff_to_proto(staff: StaffMember) -> catalog_pb2.StaffMember:
    proto = catalog_pb2.StaffMember(
        id=staff.id,
        name=staff.name,
        email=staff.email,
        timezone=staff.timezone,
        schedule_id=staff.schedule_id,
        working_hours=[
            catalog_pb2.WorkingInterval(
                day_of_week=catalog_pb2.Weekday.ValueType(interval.weekday + 1),
                start_time=format_wall_time(interval.start),
                end_time=format_wall_time(interval.end),
            )
            for interval in staff.working_hours
        ],
    )
    for blocked in staff.blocked_times:
        item = proto.blocked_times.add(reason=blocked.reason)
        set_timestamp(item.start_date, blocked.start)
        set_timestamp(item.end_date, blocked.end)
    set_optional_timestamp(proto, "deleted_date", staff.deleted_date)
    return proto


# --- sessions -----------------------------------------------------------------------------


def session_spec_from_proto(proto: catalog_pb2.Session, path: str = "session") -> SessionSpec:
    """0 capacity and an absent location follow the service's."""
    found = Violations()
    start = instant_field(found, f"{path}.start_date", proto, "start_date")
    end = instant_field(found, f"{path}.end_date", proto, "end_date")
    location = None
    if proto.HasField("location"):
        location = location_from_proto(found, f"{path}.location", proto.location)
    found.raise_if_any()
    assert start is not None and end is not None
    return SessionSpec(
        service_id=proto.service_id,
        start=start,
        end=end,
        capacity=proto.capacity or None,
        staff_member_id=proto.staff_member_id,
        location=location,
    )


def session_to_proto(session: Session, *, as_stored: bool = False) -> catalog_pb2.Session:
    """`as_stored` leaves capacity 0 and location unset where the session follows the service
    (the base an update mask is applied to)."""
    proto = catalog_pb2.Session(
        id=session.id,
        service_id=session.service_id,
        capacity=0 if as_stored and session.capacity_from_service else session.capacity,
        staff_member_id=session.staff_member_id,
        timezone=session.timezone,
        schedule_id=session.schedule_id,
        recurrence_id=session.recurrence_id,
    )
    set_timestamp(proto.start_date, session.start)
    set_timestamp(proto.end_date, session.end)
    if not (as_stored and session.location_from_service):
        location_to_proto(session.location, proto.location)
    set_optional_timestamp(proto, "deleted_date", session.deleted_date)
    return proto
