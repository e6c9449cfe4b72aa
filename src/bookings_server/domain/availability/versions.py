"""What an availability answer depends on, by name: the keys of the availability versions.

The store bumps a key in the transaction of every write that can change what it names
(migration 0008's triggers): `catalog` for any catalog change of the site, `staff/<id>/<UTC
date>` for an appointment booking or hold of a staff member starting that day,
`session/<id>` and `schedule/<id>` for the bookings and holds of a class session or course.
A computed answer stays good while the versions of its keys are what they were when it was
computed (app/availability_cache.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from bookings_server.domain.capacity import MAX_STAFF_HOLD

__all__ = ["CATALOG", "schedule_key", "session_key", "staff_day_keys"]

CATALOG = "catalog"
_DAY = timedelta(days=1)


def session_key(session_id: str) -> str:
    return f"session/{session_id}"


def schedule_key(schedule_id: str) -> str:
    return f"schedule/{schedule_id}"


def staff_day_keys(staff_ids: Iterable[str], start: datetime, end: datetime) -> Iterator[str]:
    """The keys of every staff day whose bookings can overlap [start, end): bookings start
    at most MAX_STAFF_HOLD before they stop blocking their staff member."""
    first = (start - MAX_STAFF_HOLD).astimezone(UTC).date()
    last = end.astimezone(UTC).date()
    days = [(first + _DAY * offset).isoformat() for offset in range((last - first).days + 1)]
    for staff_id in staff_ids:
        for day in days:
            yield f"staff/{staff_id}/{day}"
