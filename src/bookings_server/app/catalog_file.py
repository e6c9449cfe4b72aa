"""The catalog file format of `bookings catalog import` (docs/catalog.md), parsed, pure.

Entities carry a `key`, stable across imports, that the import matches on: importing the
same file twice updates rather than duplicates. References between entities use those keys.
Problems are InvalidArgument violations whose paths are the file's own ("services[1].timezone");
`CatalogDocument.line_of` turns a path into a line number for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import yaml

from bookings_server.app.catalog_file_services import ServiceEntry, service_entry
from bookings_server.app.catalog_file_values import (
    check_keys,
    read_duration,
    read_instant,
    read_integer,
    read_list,
    read_location,
    read_mapping,
    read_text,
    read_wall_text,
)
from bookings_server.domain.catalog import (
    BlockedTime,
    Location,
    StaffMember,
    WorkingInterval,
)
from bookings_server.domain.catalog_validation import Violations, parse_wall_time
from bookings_server.domain.errors import FieldViolation, InvalidArgument

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
    check_keys(found, "", data, {"site", "staff", "services", "sessions"})
    site = site_id or str(data.get("site") or "")
    if not site:
        found.add("site", "required (or pass --site)")
    document = CatalogDocument(
        site_id=site,
        staff=tuple(_entries(found, data, "staff", _staff_entry, site)),
        services=tuple(_entries(found, data, "services", service_entry, site)),
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


def _staff_entry(found: Violations, path: str, item: dict[str, Any], site: str) -> StaffEntry:
    check_keys(
        found, path, item, {"key", "name", "email", "timezone", "working_hours", "blocked_times"}
    )
    hours: list[WorkingInterval] = []
    interval_paths: list[str] = []
    for index, interval in enumerate(
        read_list(found, f"{path}.working_hours", item.get("working_hours"))
    ):
        parsed = _intervals(found, f"{path}.working_hours[{index}]", interval)
        hours.extend(parsed)
        interval_paths.extend([f"{path}.working_hours[{index}]"] * len(parsed))
    blocked = []
    for index, block in enumerate(
        read_list(found, f"{path}.blocked_times", item.get("blocked_times"))
    ):
        item_path = f"{path}.blocked_times[{index}]"
        block = read_mapping(found, item_path, block, {"start", "end", "reason"})
        start = read_instant(found, f"{item_path}.start", block.get("start"), aware=True)
        end = read_instant(found, f"{item_path}.end", block.get("end"), aware=True)
        if start and end:
            blocked.append(
                BlockedTime(
                    start, end, read_text(found, f"{item_path}.reason", block.get("reason"))
                )
            )
    staff = StaffMember(
        id="",
        site_id=site,
        name=read_text(found, f"{path}.name", item.get("name"), required=True),
        timezone=read_text(found, f"{path}.timezone", item.get("timezone"), required=True),
        schedule_id="",
        email=read_text(found, f"{path}.email", item.get("email")),
        working_hours=tuple(hours),
        blocked_times=tuple(blocked),
    )
    key = read_text(found, f"{path}.key", item.get("key"), required=True)
    return StaffEntry(key, path, staff, tuple(interval_paths))


def _intervals(found: Violations, path: str, value: Any) -> list[WorkingInterval]:
    """One `working_hours` item: `days` (or `day`), `start`, `end` -> one interval per day."""
    item = read_mapping(found, path, value, {"day", "days", "start", "end"})
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
        start = parse_wall_time(read_wall_text(found, f"{path}.start", item.get("start")))
    except ValueError as bad:
        found.add(f"{path}.start", str(bad))
        return []
    try:
        end = parse_wall_time(
            read_wall_text(found, f"{path}.end", item.get("end")), allow_end_of_day=True
        )
    except ValueError as bad:
        found.add(f"{path}.end", str(bad))
        return []
    assert start is not None
    return [WorkingInterval(weekday, start, end) for weekday in weekdays]


def _session_entry(
    found: Violations, path: str, item: dict[str, Any], _site: str
) -> SessionEntry | None:
    check_keys(
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
    start = read_instant(found, f"{path}.start", item.get("start"), aware=False)
    length: timedelta | datetime | None
    if ("end" in item) == ("duration" in item):
        found.add(f"{path}.end", "give exactly one of end or duration")
        length = None
    elif "end" in item:
        length = read_instant(found, f"{path}.end", item["end"], aware=False)
    else:
        length = read_duration(found, f"{path}.duration", item["duration"])
    capacity = item.get("capacity")
    entry_key = read_text(found, f"{path}.key", item.get("key"), required=True)
    service_key = read_text(found, f"{path}.service", item.get("service"), required=True)
    if start is None or length is None:
        return None
    return SessionEntry(
        key=entry_key,
        path=path,
        service_key=service_key,
        start=start,
        length=length,
        capacity=None if capacity is None else read_integer(found, f"{path}.capacity", capacity),
        staff_key=read_text(found, f"{path}.staff", item.get("staff")),
        location=read_location(found, f"{path}.location", item.get("location")),
        recurrence=read_text(found, f"{path}.recurrence", item.get("recurrence")),
    )
