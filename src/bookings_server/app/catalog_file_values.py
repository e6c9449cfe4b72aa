"""Typed values read from a catalog file's YAML tree, each collecting its violations.

Every reader takes the Violations being collected, the value's path in the file and the raw
YAML value; a value of the wrong shape adds a violation and yields a neutral default, so one
pass reports every problem of the file.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from bookings_server.domain.catalog import Location, LocationType
from bookings_server.domain.catalog_validation import Violations

#: Up to 7 ASCII digits per part: longer numbers are refused before they are converted.
_DURATION = re.compile(r"^(?:([0-9]{1,7})d)?(?:([0-9]{1,7})h)?(?:([0-9]{1,7})m)?$")
#: The longest duration a catalog file may name (the API's limit, api/proto_types.py).
MAX_DURATION_DAYS = 3660


def check_keys(found: Violations, path: str, item: dict[str, Any], allowed: set[str]) -> None:
    for name in item:
        if name not in allowed:
            found.add(
                f"{path}.{name}" if path else str(name),
                f"unknown field; expected one of {sorted(allowed)}",
            )


def read_text(found: Violations, path: str, value: Any, *, required: bool = False) -> str:
    if value is None:
        if required:
            found.add(path, "required")
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        found.add(path, "must be text")
        return ""
    return str(value)


def read_integer(found: Violations, path: str, value: Any, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        found.add(path, "must be a whole number")
        return default
    return value


def read_flag(found: Violations, path: str, value: Any, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        found.add(path, "must be true or false")
        return default
    return value


def parse_duration(value: Any) -> timedelta:
    """Whole minutes (an integer) or "1d2h30m"-style text (ASCII digits), at most
    MAX_DURATION_DAYS days: every number is bounded before it becomes a timedelta."""
    shape = 'a duration is minutes (45) or text like "1h30m", "2d"'
    if isinstance(value, int) and not isinstance(value, bool):
        return _bounded(value, 0, 0, shape)
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        raise ValueError(shape)
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return _bounded(minutes, hours, days, shape)


def _bounded(minutes: int, hours: int, days: int, shape: str) -> timedelta:
    total = (days * 24 + hours) * 60 + minutes
    if not 0 <= total <= MAX_DURATION_DAYS * 24 * 60:
        raise ValueError(f"{shape}, of at most {MAX_DURATION_DAYS} days")
    return timedelta(minutes=total)


def read_duration(found: Violations, path: str, value: Any) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as bad:
        found.add(path, str(bad))
        return None


def read_instant(found: Violations, path: str, value: Any, *, aware: bool) -> datetime | None:
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


def read_enum(
    found: Violations, path: str, value: Any, kind: type[Any], default: Any = None
) -> Any:
    if value is None:
        if default is None:
            found.add(path, f"required: one of {[m.name for m in kind]}")
        return default
    member = kind.__members__.get(str(value).upper())
    if member is None:
        found.add(path, f"one of {[m.name for m in kind]}")
    return member if member is not None else default


def read_location(found: Violations, path: str, value: Any) -> Location | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        found.add(path, "must be a mapping")
        return None
    check_keys(found, path, value, {"id", "name", "formatted_address", "location_type"})
    kind = value.get("location_type")
    return Location(
        id=read_text(found, f"{path}.id", value.get("id")),
        name=read_text(found, f"{path}.name", value.get("name")),
        formatted_address=read_text(
            found, f"{path}.formatted_address", value.get("formatted_address")
        ),
        location_type=None
        if kind is None
        else read_enum(found, f"{path}.location_type", kind, LocationType),
    )


def read_mapping(found: Violations, path: str, value: Any, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        found.add(path, "must be a mapping")
        return {}
    check_keys(found, path, value, allowed)
    return value


def read_list(found: Violations, path: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        found.add(path, "must be a list")
        return []
    return value


def read_wall_text(found: Violations, path: str, value: Any) -> str:
    """YAML 1.1 reads an unquoted 13:00 as the base-60 number 780; turn it back into "13:00"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value // 60:02d}:{value % 60:02d}"
    return read_text(found, path, value, required=True)
