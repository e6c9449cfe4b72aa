"""Weekly recurrence of sessions: an RRULE subset, expanded with dateutil in the service's zone.

Accepted: `FREQ=WEEKLY` (required), `BYDAY=MO,WE,...`, `INTERVAL=n`, and exactly one of
`COUNT=n` or `UNTIL=<date or date-time>` (a recurrence must end). An `RRULE:` prefix is allowed.
Occurrences keep the first session's local wall-clock start and length, so a class at 18:00
stays at 18:00 across a DST change; a wall time inside a DST gap moves forward like zoneinfo's
`fold=0`. At most MAX_OCCURRENCES sessions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule

from bookings_server.domain.catalog_validation import invalid
from bookings_server.domain.errors import FieldViolation, InvalidArgument

MAX_OCCURRENCES = 500
_Fail = Callable[[str], InvalidArgument]
_WEEKDAYS = {
    "MO": rrule.MO,
    "TU": rrule.TU,
    "WE": rrule.WE,
    "TH": rrule.TH,
    "FR": rrule.FR,
    "SA": rrule.SA,
    "SU": rrule.SU,
}


@dataclass(frozen=True)
class WeeklyRecurrence:
    weekdays: tuple[str, ...] = ()
    interval: int = 1
    count: int | None = None
    #: A UTC instant, or a naive local date-time (inclusive) in the service's zone.
    until: datetime | None = None


def parse_recurrence(text: str, path: str = "recurrence") -> WeeklyRecurrence:
    """Parse the RRULE subset; every problem is an InvalidArgument on `path`."""

    def fail(description: str) -> InvalidArgument:
        return invalid([FieldViolation(path, description)])

    body = text.strip().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise fail(f"not an RRULE part: {part!r}")
        if name in parts:
            raise fail(f"{name} given twice")
        parts[name] = value.strip().upper()
    unknown = sorted(set(parts) - {"FREQ", "BYDAY", "INTERVAL", "COUNT", "UNTIL"})
    if unknown:
        raise fail(f"unsupported RRULE parts {', '.join(unknown)}: use FREQ, BYDAY, COUNT, UNTIL")
    if parts.get("FREQ") != "WEEKLY":
        raise fail("only FREQ=WEEKLY is supported")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise fail("a recurrence must end: give exactly one of COUNT or UNTIL")
    weekdays = tuple(day.strip() for day in parts["BYDAY"].split(",")) if "BYDAY" in parts else ()
    if any(day not in _WEEKDAYS for day in weekdays):
        raise fail("BYDAY takes MO, TU, WE, TH, FR, SA, SU")
    interval = _bounded_int(parts.get("INTERVAL", "1"), 1, 52, "INTERVAL", fail)
    count = None
    if "COUNT" in parts:
        count = _bounded_int(parts["COUNT"], 1, MAX_OCCURRENCES, "COUNT", fail)
    until = _parse_until(parts["UNTIL"], fail) if "UNTIL" in parts else None
    return WeeklyRecurrence(weekdays, interval, count, until)


def _bounded_int(text: str, low: int, high: int, name: str, fail: _Fail) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise fail(f"{name} must be a whole number between {low} and {high}")
    return int(text)


def _parse_until(text: str, fail: _Fail) -> datetime:
    for pattern, utc in (("%Y%m%dT%H%M%SZ", True), ("%Y%m%dT%H%M%S", False), ("%Y%m%d", False)):
        try:
            parsed = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if pattern == "%Y%m%d":
            parsed = parsed.replace(hour=23, minute=59, second=59)
        return parsed.replace(tzinfo=UTC) if utc else parsed
    raise fail('UNTIL must look like "20261231" or "20261231T000000Z"')


def expand(
    rule: WeeklyRecurrence,
    first_start: datetime,
    first_end: datetime,
    timezone: str,
    path: str = "recurrence",
) -> list[tuple[datetime, datetime]]:
    """The (start, end) UTC instants of every occurrence, the first session's included if
    it falls on the rule (dateutil semantics: BYDAY decides which days occur)."""
    zone = ZoneInfo(timezone)
    local_start = first_start.astimezone(zone).replace(tzinfo=None)
    wall_length = first_end.astimezone(zone).replace(tzinfo=None) - local_start
    until = rule.until
    if until is not None and until.tzinfo is not None:
        until = until.astimezone(zone).replace(tzinfo=None)
    occurrences = rrule.rrule(
        rrule.WEEKLY,
        dtstart=local_start,
        interval=rule.interval,
        count=rule.count,
        until=until,
        byweekday=[_WEEKDAYS[day] for day in rule.weekdays] or None,
    )
    starts = list(islice(occurrences, MAX_OCCURRENCES + 1))
    if len(starts) > MAX_OCCURRENCES:
        raise invalid([FieldViolation(path, f"expands to more than {MAX_OCCURRENCES} sessions")])
    if not starts:
        raise invalid([FieldViolation(path, "expands to no sessions: UNTIL is before the start")])
    return [(_instant(start, zone), _instant(start + wall_length, zone)) for start in starts]


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)
