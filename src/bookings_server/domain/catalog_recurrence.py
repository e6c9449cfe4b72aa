"""Weekly recurrence of sessions: an RRULE subset, expanded with dateutil in the service's zone.

Accepted: `FREQ=WEEKLY` (required), `BYDAY=MO,WE,...`, `INTERVAL=n`, and exactly one of
`COUNT=n` or `UNTIL=<date or date-time>` (a recurrence must end). An `RRULE:` prefix is allowed.
Occurrences keep the first session's local wall-clock start and length, so a class at 18:00
stays at 18:00 across a DST change; a wall time inside a DST gap moves forward like zoneinfo's
`fold=0`. At most MAX_OCCURRENCES sessions.

Client text is checked as text before anything converts it: the rule's length, numbers as at
most MAX_NUMBER_DIGITS ASCII digits, UNTIL by its exact shape and its year, so no over-long
integer reaches `int()` and no far date reaches time-zone arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from dateutil import rrule

from bookings_server.domain.catalog_validation import EARLIEST_YEAR, LATEST_YEAR, invalid
from bookings_server.domain.errors import FieldViolation, InvalidArgument

MAX_OCCURRENCES = 500
MAX_INTERVAL = 52
#: Longest rule text accepted; the longest useful rule is about 80 characters.
MAX_RULE_LENGTH = 200
#: Longest number accepted (leading zeros included): enough for every valid value.
MAX_NUMBER_DIGITS = 6
_Fail = Callable[[str], InvalidArgument]
_PARTS = ("FREQ", "BYDAY", "INTERVAL", "COUNT", "UNTIL")
#: "20261231", "20261231T180000" (local) or "20261231T180000Z" (UTC).
_UNTIL = re.compile(r"(\d{8})(T\d{6}Z?)?", re.ASCII)
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

    if len(text) > MAX_RULE_LENGTH:
        raise fail(f"at most {MAX_RULE_LENGTH} characters")
    parts = _split_parts(text.strip().removeprefix("RRULE:"), fail)
    _check_part_names(parts, fail)
    weekdays = tuple(day.strip() for day in parts["BYDAY"].split(",")) if "BYDAY" in parts else ()
    if any(day not in _WEEKDAYS for day in weekdays):
        raise fail("BYDAY takes MO, TU, WE, TH, FR, SA, SU")
    interval = _bounded_int(parts.get("INTERVAL", "1"), MAX_INTERVAL, "INTERVAL", fail)
    count = None
    if "COUNT" in parts:
        count = _bounded_int(parts["COUNT"], MAX_OCCURRENCES, "COUNT", fail)
    until = _parse_until(parts["UNTIL"], fail) if "UNTIL" in parts else None
    return WeeklyRecurrence(weekdays, interval, count, until)


def _split_parts(body: str, fail: _Fail) -> dict[str, str]:
    """`NAME=value` parts, names and values upper-cased; a part given twice is refused."""
    parts: dict[str, str] = {}
    for part in body.split(";"):
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise fail(f"not an RRULE part: {part!r}")
        if name in parts:
            raise fail(f"{name} given twice")
        parts[name] = value.strip().upper()
    return parts


def _check_part_names(parts: dict[str, str], fail: _Fail) -> None:
    unknown = sorted(set(parts) - set(_PARTS))
    if unknown:
        raise fail(f"unsupported RRULE parts {', '.join(unknown)}: use FREQ, BYDAY, COUNT, UNTIL")
    if parts.get("FREQ") != "WEEKLY":
        raise fail("only FREQ=WEEKLY is supported")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise fail("a recurrence must end: give exactly one of COUNT or UNTIL")


def _bounded_int(text: str, high: int, name: str, fail: _Fail) -> int:
    """A whole number 1..high written in ASCII digits (no sign), checked before `int()`."""
    digits = text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS
    if not digits or not 1 <= int(text) <= high:
        raise fail(f"{name} must be a whole number between 1 and {high}")
    return int(text)


def _parse_until(text: str, fail: _Fail) -> datetime:
    """A date (that whole day, local), a local date-time, or a UTC date-time ("...Z")."""
    shape = _UNTIL.fullmatch(text)
    if shape is None:
        raise fail('UNTIL must look like "20261231" or "20261231T000000Z"')
    if not EARLIEST_YEAR <= int(text[:4]) <= LATEST_YEAR:
        raise fail(f"UNTIL must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    time_part = shape.group(2) or "T235959"
    try:
        parsed = datetime.strptime(shape.group(1) + time_part.removesuffix("Z"), "%Y%m%dT%H%M%S")
    except ValueError as error:
        raise fail(f"UNTIL is not a real date and time: {text!r}") from error
    return parsed.replace(tzinfo=UTC) if time_part.endswith("Z") else parsed


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
    spans = [(_instant(start, zone), _instant(start + wall_length, zone)) for start in starts]
    if spans[-1][1].year > LATEST_YEAR:
        raise invalid([FieldViolation(path, f"expands to sessions after the year {LATEST_YEAR}")])
    return spans


def _instant(local: datetime, zone: ZoneInfo) -> datetime:
    return local.replace(tzinfo=zone).astimezone(UTC)
