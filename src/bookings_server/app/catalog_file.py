"""The catalog file format of `bookings catalog import` (docs/catalog.md), parsed, pure.

Entities carry a `key`, stable across imports, that the import matches on: importing the
same file twice updates rather than duplicates. References between entities use those keys.
Problems are InvalidArgument violations whose paths are the file's own ("services[1].timezone");
`CatalogDocument.line_of` turns a path into a line number for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

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
    StaffMember,
    WaitingListPolicy,
    WorkingInterval,
)
from bookings_server.domain.catalog_validation import Violations, parse_wall_time
from bookings_server.domain.errors import FieldViolation, InvalidArgument

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")
_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        [
            ("MO", "MONDAY"),
            ("TU", "TUESDAY"),
            ("WE", "WEDNESDAY"),
            ("TH", "THURSDAY"),
            ("FR", "FRIDAY"),
            ("SA", "SATURDAY"),
            ("SU", "SUNDAY"),
        ]
    )
    for name in names
}


@dataclass(frozen=True)
class StaffEntry:
    key: str
    path: str
    staff: StaffMember
    #: The file path of each working interval (one `days: [MO, TU]` item gives several).
    interval_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServiceEntry:
    key: str
    path: str
    service: Service
    staff_keys: tuple[str, ...]


@dataclass(frozen=True)
class SessionEntry:
    """A session (or a recurrence of them). A naive `start` is wall time in the service's zone."""

    key: str
    path: str
    service_key: str
    start: datetime
    length: timedelta | datetime
    capacity: int | None = None
    staff_key: str = ""
    location: Location | None = None
    recurrence: str = ""


@dataclass(frozen=True)
class CatalogDocument:
    site_id: str
    staff: tuple[StaffEntry, ...] = ()
    services: tuple[ServiceEntry, ...] = ()
    sessions: tuple[SessionEntry, ...] = ()
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        return line_of(self.lines, path)


def line_of(lines: dict[str, int], path: str) -> int | None:
    """The line of `path`, or of its nearest enclosing entry."""
    while path:
        if path in lines:
            return lines[path]
        path = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", path)
    return None


def line_index(text: str) -> dict[str, int]:
    """The line of every path in a YAML text; empty if it is not valid YAML."""
    try:
        return _line_index(yaml.compose(text))
    except yaml.YAMLError:
        return {}


def parse_catalog(text: str, site_id: str = "") -> CatalogDocument:
    """Parse a catalog file. `site_id`, if given, overrides the file's `site`."""
    try:
        data = yaml.safe_load(text)
        lines = _line_index(yaml.compose(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InvalidArgument(
            f"not valid YAML{where}: {error}", violations=[FieldViolation("", str(error))]
        ) from error
    if not isinstance(data, dict):
        raise InvalidArgument.field("", "the file must be a mapping with staff, services, sessions")
    found = Violations()
    _check_keys(found, "", data, {"site", "staff", "services", "sessions"})
    site = site_id or str(data.get("site") or "")
    if not site:
        found.add("site", "required (or pass --site)")
    document = CatalogDocument(
        site_id=site,
        staff=tuple(_entries(found, data, "staff", _staff_entry, site)),
        services=tuple(_entries(found, data, "services", _service_entry, site)),
        sessions=tuple(_entries(found, data, "sessions", _session_entry, site)),
        lines=lines,
    )
    for section in ("staff", "services", "sessions"):
        keys = [entry.key for entry in getattr(document, section)]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                found.add(f"{section}[{index}].key", f"duplicate key {key!r}")
    found.raise_if_any()
    return document


def _line_index(node: yaml.Node | None, path: str = "") -> dict[str, int]:
    lines: dict[str, int] = {}
    if node is None:
        return lines
    if path:
        lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            lines.update(_line_index(value, f"{path}.{key.value}" if path else str(key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_index(item, f"{path}[{index}]"))
    return lines


def _entries(
    found: Violations, data: dict[str, Any], section: str, parse: Any, site: str
) -> list[Any]:
    items = data.get(section) or []
    if not isinstance(items, list):
        found.add(section, "must be a list")
        return []
    entries = []
    for index, item in enumerate(items):
        path = f"{section}[{index}]"
        if not isinstance(item, dict):
            found.add(path, "must be a mapping")
            continue
        entry = parse(found, path, item, site)
        if entry is not None:
            entries.append(entry)
    return entries


def _check_keys(found: Violations, path: str, item: dict[str, Any], allowed: set[str]) -> None:
    for name in item:
        if name not in allowed:
            found.add(
                f"{path}.{name}" if path else str(name),
                f"unknown field; expected one of {sorted(allowed)}",
            )


def _text(found: Violations, path: str, value: Any, *, required: bool = False) -> str:
    if value is None:
        if required:
            found.add(path, "required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        found.add(path, "must be text")
        return ""
    return str(value)


def _integer(found: Violations, path: str, value: Any, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        found.add(path, "must be a whole number")
        return default
    return value


def _flag(found: Violations, path: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        found.add(path, "must be true or false")
        return default
    return value


def parse_duration(value: Any) -> timedelta:
    """Whole minutes (an integer) or "1d2h30m"-style text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(minutes=value)
    match = _DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError('a duration is minutes (45) or text like "1h30m", "2d"')
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _duration(found: Violations, path: str, value: Any) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as bad:
        found.add(path, str(bad))
        return None


def _instant(found: Violations, path: str, value: Any, *, aware: bool) -> datetime | None:
    if value is None:
        found.add(path, "required")
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            found.add(path, "not a date-time like 2026-12-01T18:00:00Z")
            return None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    if aware:
        found.add(path, "give the UTC offset, e.g. 2026-12-01T18:00:00Z")
        return None
    return moment


def _enum(found: Violations, path: str, value: Any, kind: type[Any], default: Any = None) -> Any:
    if value is None:
        if default is None:
            found.add(path, f"required: one of {[m.name for m in kind]}")
        return default
    member = kind.__members__.get(str(value).upper())
    if member is None:
        found.add(path, f"one of {[m.name for m in kind]}")
    return member if member is not None else default


def _location(found: Violations, path: str, value: Any) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        found.add(path, "must be a mapping")
        return None
    _check_keys(found, path, value, {"id", "name", "formatted_address", "location_type"})
    kind = value.get("location_type")
    return Location(
        id=_text(found, f"{path}.id", value.get("id")),
        name=_text(found, f"{path}.name", value.get("name")),
        formatted_address=_text(found, f"{path}.formatted_address", value.get("formatted_address")),
        location_type=None
        if kind is None
        else _enum(found, f"{path}.location_type", kind, LocationType),
    )


def _mapping(found: Violations, path: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        found.add(path, "must be a mapping")
        return {}
    _check_keys(found, path, value, allowed)
    return value


def _list(found: Violations, path: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        found.add(path, "must be a list")
        return []
    return value


def _staff_entry(found: Violations, path: str, item: dict[str, Any], site: str) -> StaffEntry:
    _check_keys(
        found, path, item, {"key", "name", "email", "timezone", "working_hours", "blocked_times"}
    )
    hours: list[WorkingInterval] = []
    interval_paths: list[str] = []
    for index, interval in enumerate(
        _list(found, f"{path}.working_hours", item.get("working_hours"))
    ):
        parsed = _intervals(found, f"{path}.working_hours[{index}]", interval)
        hours.extend(parsed)
        interval_paths.extend([f"{path}.working_hours[{index}]"] * len(parsed))
    blocked = []
    for index, block in enumerate(_list(found, f"{path}.blocked_times", item.get("blocked_times"))):
        item_path = f"{path}.blocked_times[{index}]"
        block = _mapping(found, item_path, block, {"start", "end", "reason"})
        start = _instant(found, f"{item_path}.start", block.get("start"), aware=True)
        end = _instant(found, f"{item_path}.end", block.get("end"), aware=True)
        if start and end:
            blocked.append(
                BlockedTime(start, end, _text(found, f"{item_path}.reason", block.get("reason")))
            )
    staff = StaffMember(
        id="",
        site_id=site,
        name=_text(found, f"{path}.name", item.get("name"), required=True),
        timezone=_text(found, f"{path}.timezone", item.get("timezone"), required=True),
        schedule_id="",
        email=_text(found, f"{path}.email", item.get("email")),
        working_hours=tuple(hours),
        blocked_times=tuple(blocked),
    )
    key = _text(found, f"{path}.key", item.get("key"), required=True)
    return StaffEntry(key, path, staff, tuple(interval_paths))


def _intervals(found: Violations, path: str, value: Any) -> list[WorkingInterval]:
    """One `working_hours` item: `days` (or `day`), `start`, `end` -> one interval per day."""
    item = _mapping(found, path, value, {"day", "days", "start", "end"})
    days = item.get("days", item.get("day"))
    names = days if isinstance(days, list) else [days]
    weekdays = []
    for name in names:
        weekday = _WEEKDAYS.get(str(name).upper())
        if weekday is None:
            found.add(f"{path}.days", "days of the week: MO..SU or MONDAY..SUNDAY")
            return []
        weekdays.append(weekday)
    try:
        start = parse_wall_time(_wall_text(found, f"{path}.start", item.get("start")))
    except ValueError as bad:
        found.add(f"{path}.start", str(bad))
        return []
    try:
        end = parse_wall_time(
            _wall_text(found, f"{path}.end", item.get("end")), allow_end_of_day=True
        )
    except ValueError as bad:
        found.add(f"{path}.end", str(bad))
        return []
    assert start is not None
    return [WorkingInterval(weekday, start, end) for weekday in weekdays]


def _wall_text(found: Violations, path: str, value: Any) -> str:
    """YAML 1.1 reads an unquoted 13:00 as the base-60 number 780; turn it back into "13:00"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 60:02d}:{value % 60:02d}"
    return _text(found, path, value, required=True)


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


def _service_entry(found: Violations, path: str, item: dict[str, Any], site: str) -> ServiceEntry:
    _check_keys(found, path, item, _SERVICE_FIELDS)
    service_type = _enum(found, f"{path}.type", item.get("type"), ServiceType)
    online = _mapping(
        found,
        f"{path}.online_booking",
        item.get("online_booking"),
        {"enabled", "require_manual_approval"},
    )
    policy = _mapping(
        found,
        f"{path}.booking_policy",
        item.get("booking_policy"),
        {"min_notice", "max_advance", "max_participants_per_booking", "cancellation_window"},
    )
    waiting = _mapping(
        found, f"{path}.waiting_list", item.get("waiting_list"), {"enabled", "capacity"}
    )
    default_capacity = 1 if service_type is ServiceType.APPOINTMENT else 0
    service = Service(
        id="",
        site_id=site,
        name=_text(found, f"{path}.name", item.get("name"), required=True),
        type=service_type or ServiceType.APPOINTMENT,
        timezone=_text(found, f"{path}.timezone", item.get("timezone"), required=True),
        schedule_id="",
        default_capacity=_integer(
            found, f"{path}.default_capacity", item.get("default_capacity"), default_capacity
        ),
        duration=_duration(found, f"{path}.duration", item.get("duration")),
        buffer_after=_duration(found, f"{path}.buffer_after", item.get("buffer_after"))
        or timedelta(0),
        online_booking_enabled=_flag(
            found, f"{path}.online_booking.enabled", online.get("enabled"), True
        ),
        require_manual_approval=_flag(
            found,
            f"{path}.online_booking.require_manual_approval",
            online.get("require_manual_approval"),
            False,
        ),
        payment_options=_payment_options(found, path, item.get("payment_options")),
        choices=tuple(
            _option(found, f"{path}.choices[{i}]", option)
            for i, option in enumerate(_list(found, f"{path}.choices", item.get("choices")))
        ),
        policy=_booking_policy(found, f"{path}.booking_policy", policy),
        waiting_list=WaitingListPolicy(
            _flag(found, f"{path}.waiting_list.enabled", waiting.get("enabled"), False),
            _integer(found, f"{path}.waiting_list.capacity", waiting.get("capacity")),
        ),
        location=_location(found, f"{path}.location", item.get("location")) or Location(),
    )
    staff_keys = tuple(
        _text(found, f"{path}.staff[{i}]", key, required=True)
        for i, key in enumerate(_list(found, f"{path}.staff", item.get("staff")))
    )
    return ServiceEntry(
        _text(found, f"{path}.key", item.get("key"), required=True), path, service, staff_keys
    )


def _payment_options(found: Violations, path: str, value: Any) -> frozenset[PaymentOption]:
    return frozenset(
        _enum(found, f"{path}.payment_options[{i}]", option, PaymentOption, PaymentOption.UNDEFINED)
        for i, option in enumerate(_list(found, f"{path}.payment_options", value))
    )


def _booking_policy(found: Violations, path: str, policy: dict[str, Any]) -> BookingPolicy:
    return BookingPolicy(
        min_notice=_duration(found, f"{path}.min_notice", policy.get("min_notice")) or timedelta(0),
        max_advance=_duration(found, f"{path}.max_advance", policy.get("max_advance")),
        max_participants_per_booking=_integer(
            found,
            f"{path}.max_participants_per_booking",
            policy.get("max_participants_per_booking"),
        ),
        cancellation_window=_duration(
            found, f"{path}.cancellation_window", policy.get("cancellation_window")
        )
        or timedelta(0),
    )


def _option(found: Violations, path: str, value: Any) -> ServiceOption:
    item = _mapping(
        found, path, value, {"id", "name", "type", "custom_choices", "duration_choices"}
    )
    durations = []
    for i, choice in enumerate(
        _list(found, f"{path}.duration_choices", item.get("duration_choices"))
    ):
        choice = _mapping(found, f"{path}.duration_choices[{i}]", choice, {"minutes", "name"})
        durations.append(
            DurationChoice(
                _integer(found, f"{path}.duration_choices[{i}].minutes", choice.get("minutes")),
                _text(found, f"{path}.duration_choices[{i}].name", choice.get("name")),
            )
        )
    return ServiceOption(
        id=_text(found, f"{path}.id", item.get("id"), required=True),
        name=_text(found, f"{path}.name", item.get("name")),
        type=_enum(found, f"{path}.type", item.get("type"), OptionType, OptionType.CUSTOM),
        custom_choices=tuple(
            _text(found, f"{path}.custom_choices[{i}]", v)
            for i, v in enumerate(
                _list(found, f"{path}.custom_choices", item.get("custom_choices"))
            )
        ),
        duration_choices=tuple(durations),
    )


def _session_entry(
    found: Violations, path: str, item: dict[str, Any], _site: str
) -> SessionEntry | None:
    _check_keys(
        found,
        path,
        item,
        {
            "key",
            "service",
            "start",
            "end",
            "duration",
            "capacity",
            "staff",
            "location",
            "recurrence",
        },
    )
    start = _instant(found, f"{path}.start", item.get("start"), aware=False)
    length: timedelta | datetime | None
    if ("end" in item) == ("duration" in item):
        found.add(f"{path}.end", "give exactly one of end or duration")
        length = None
    elif "end" in item:
        length = _instant(found, f"{path}.end", item["end"], aware=False)
    else:
        length = _duration(found, f"{path}.duration", item["duration"])
    capacity = item.get("capacity")
    entry_key = _text(found, f"{path}.key", item.get("key"), required=True)
    service_key = _text(found, f"{path}.service", item.get("service"), required=True)
    if start is None or length is None:
        return None
    return SessionEntry(
        key=entry_key,
        path=path,
        service_key=service_key,
        start=start,
        length=length,
        capacity=None if capacity is None else _integer(found, f"{path}.capacity", capacity),
        staff_key=_text(found, f"{path}.staff", item.get("staff")),
        location=_location(found, f"{path}.location", item.get("location")),
        recurrence=_text(found, f"{path}.recurrence", item.get("recurrence")),
    )
