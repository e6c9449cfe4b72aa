"""The services of a catalog file: each `services[i]` item read into a ServiceEntry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bookings_server.app.catalog_file_values import (
    check_keys,
    read_duration,
    read_enum,
    read_flag,
    read_integer,
    read_list,
    read_location,
    read_mapping,
    read_text,
)
from bookings_server.domain.catalog import (
    DEFAULT_RESERVATION_TIME,
    BookingPolicy,
    DurationChoice,
    Location,
    OptionType,
    PaymentOption,
    Service,
    ServiceOption,
    ServiceType,
    WaitingListPolicy,
)
from bookings_server.domain.catalog_validation import Violations


@dataclass(frozen=True)
class ServiceEntry:
    key: str
    path: str
    service: Service
    staff_keys: tuple[str, ...]


_SERVICE_FIELDS = {
    "key",
    "name",
    "type",
    "timezone",
    "default_capacity",
    "duration",
    "buffer_after",
    "online_booking",
    "payment_options",
    "choices",
    "booking_policy",
    "waiting_list",
    "staff",
    "location",
}


def service_entry(found: Violations, path: str, item: dict[str, Any], site: str) -> ServiceEntry:
    check_keys(found, path, item, _SERVICE_FIELDS)
    service_type = read_enum(found, f"{path}.type", item.get("type"), ServiceType)
    online = read_mapping(
        found,
        f"{path}.online_booking",
        item.get("online_booking"),
        {"enabled", "require_manual_approval"},
    )
    policy = read_mapping(
        found,
        f"{path}.booking_policy",
        item.get("booking_policy"),
        {"min_notice", "max_advance", "max_participants_per_booking", "cancellation_window"},
    )
    waiting = read_mapping(
        found,
        f"{path}.waiting_list",
        item.get("waiting_list"),
        {"enabled", "capacity", "reservation_time"},
    )
    default_capacity = 1 if service_type is ServiceType.APPOINTMENT else 0
    service = Service(
        id="",
        site_id=site,
        name=read_text(found, f"{path}.name", item.get("name"), required=True),
        type=service_type or ServiceType.APPOINTMENT,
        timezone=read_text(found, f"{path}.timezone", item.get("timezone"), required=True),
        schedule_id="",
        default_capacity=read_integer(
            found, f"{path}.default_capacity", item.get("default_capacity"), default_capacity
        ),
        duration=read_duration(found, f"{path}.duration", item.get("duration")),
        buffer_after=read_duration(found, f"{path}.buffer_after", item.get("buffer_after"))
        or timedelta(0),
        online_booking_enabled=read_flag(
            found, f"{path}.online_booking.enabled", online.get("enabled"), True
        ),
        require_manual_approval=read_flag(
            found,
            f"{path}.online_booking.require_manual_approval",
            online.get("require_manual_approval"),
            False,
        ),
        payment_options=_payment_options(found, path, item.get("payment_options")),
        choices=tuple(
            _option(found, f"{path}.choices[{i}]", option)
            for i, option in enumerate(read_list(found, f"{path}.choices", item.get("choices")))
        ),
        policy=_booking_policy(found, f"{path}.booking_policy", policy),
        waiting_list=WaitingListPolicy(
            read_flag(found, f"{path}.waiting_list.enabled", waiting.get("enabled"), False),
            read_integer(found, f"{path}.waiting_list.capacity", waiting.get("capacity")),
            read_duration(
                found, f"{path}.waiting_list.reservation_time", waiting.get("reservation_time")
            )
            or DEFAULT_RESERVATION_TIME,
        ),
        location=read_location(found, f"{path}.location", item.get("location")) or Location(),
    )
    staff_keys = tuple(
        read_text(found, f"{path}.staff[{i}]", key, required=True)
        for i, key in enumerate(read_list(found, f"{path}.staff", item.get("staff")))
    )
    return ServiceEntry(
        read_text(found, f"{path}.key", item.get("key"), required=True), path, service, staff_keys
    )


def _payment_options(found: Violations, path: str, value: Any) -> frozenset[PaymentOption]:
    return frozenset(
        read_enum(
            found, f"{path}.payment_options[{i}]", option, PaymentOption, PaymentOption.UNDEFINED
        )
        for i, option in enumerate(read_list(found, f"{path}.payment_options", value))
    )


def _booking_policy(found: Violations, path: str, policy: dict[str, Any]) -> BookingPolicy:
    return BookingPolicy(
        min_notice=read_duration(found, f"{path}.min_notice", policy.get("min_notice"))
        or timedelta(0),
        max_advance=read_duration(found, f"{path}.max_advance", policy.get("max_advance")),
        max_participants_per_booking=read_integer(
            found,
            f"{path}.max_participants_per_booking",
            policy.get("max_participants_per_booking"),
        ),
        cancellation_window=read_duration(
            found, f"{path}.cancellation_window", policy.get("cancellation_window")
        )
        or timedelta(0),
    )


def _option(found: Violations, path: str, value: Any) -> ServiceOption:
    item = read_mapping(
        found, path, value, {"id", "name", "type", "custom_choices", "duration_choices"}
    )
    durations = []
    for i, choice in enumerate(
        read_list(found, f"{path}.duration_choices", item.get("duration_choices"))
    ):
        choice = read_mapping(found, f"{path}.duration_choices[{i}]", choice, {"minutes", "name"})
        durations.append(
            DurationChoice(
                read_integer(found, f"{path}.duration_choices[{i}].minutes", choice.get("minutes")),
                read_text(found, f"{path}.duration_choices[{i}].name", choice.get("name")),
            )
        )
    return ServiceOption(
        id=read_text(found, f"{path}.id", item.get("id"), required=True),
        name=read_text(found, f"{path}.name", item.get("name")),
        type=read_enum(found, f"{path}.type", item.get("type"), OptionType, OptionType.CUSTOM),
        custom_choices=tuple(
            read_text(found, f"{path}.custom_choices[{i}]", v)
            for i, v in enumerate(
                read_list(found, f"{path}.custom_choices", item.get("custom_choices"))
            )
        ),
        duration_choices=tuple(durations),
    )
