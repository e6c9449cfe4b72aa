"""A QueryAvailability request as plain data, and its validation (SPEC section 5).

Field names in violations are the proto field names ("end_date", "timezone", ...), so a
client can point at the field it got wrong. The page token is read by paging.py.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings_server.domain.errors import FieldViolation, InvalidArgument
from bookings_server.domain.timezones import load_zone, zone_violation

#: The widest range one query may cover.
MAX_RANGE = timedelta(days=31)
DEFAULT_PAGE_SIZE = 100
#: Larger page sizes are served as this many (AIP-158 coerces rather than rejects).
MAX_PAGE_SIZE = 1000
#: Most services and resources one query may name (each costs catalog reads).
MAX_SERVICE_IDS = 50
MAX_RESOURCE_IDS = 100


@dataclass(frozen=True)
class AvailabilityQuery:
    """What the caller asks for. `start`/`end` are UTC instants, None when not given."""

    service_ids: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    #: "" means the first service's zone.
    timezone: str = ""
    resource_ids: tuple[str, ...] = ()
    bookable: bool | None = None
    min_open_spots: int = 0
    slots_per_day: int = 0
    page_size: int = 0
    page_token: str = ""
    #: Appointments: one entry per (service, start) for all staff members, not one per staff
    #: member (SPEC section 9).
    merge_staff: bool = False

    @property
    def effective_page_size(self) -> int:
        if self.page_size <= 0:
            return DEFAULT_PAGE_SIZE
        return min(self.page_size, MAX_PAGE_SIZE)

    @property
    def unique_service_ids(self) -> tuple[str, ...]:
        """The service ids in request order, each once."""
        return tuple(dict.fromkeys(self.service_ids))

    @property
    def resource_filter(self) -> frozenset[str]:
        """The resources entries must have; empty means any."""
        return frozenset(self.resource_ids)

    def fingerprint(self) -> str:
        """A digest of everything that selects entries; page_size and page_token excluded."""
        selection = {
            "service_ids": list(self.unique_service_ids),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "timezone": self.timezone,
            "resource_ids": sorted(self.resource_filter),
            "bookable": self.bookable,
            "open_spots": self.min_open_spots,
            "slots_per_day": self.slots_per_day,
            "merge_staff": self.merge_staff,
        }
        encoded = json.dumps(selection, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]


def _range_violations(query: AvailabilityQuery) -> list[FieldViolation]:
    violations = []
    if query.start is None:
        violations.append(FieldViolation("start_date", "is required"))
    if query.end is None:
        violations.append(FieldViolation("end_date", "is required"))
    if query.start is not None and query.end is not None:
        if query.end <= query.start:
            violations.append(FieldViolation("end_date", "must be after start_date"))
        elif query.end - query.start > MAX_RANGE:
            violations.append(
                FieldViolation(
                    "end_date", f"must be at most {MAX_RANGE.days} days after start_date"
                )
            )
    return violations


def _field_violations(query: AvailabilityQuery) -> list[FieldViolation]:
    violations = []
    if not query.service_ids:
        violations.append(FieldViolation("service_id", "at least one service id is required"))
    elif any(not service_id for service_id in query.service_ids):
        violations.append(FieldViolation("service_id", "service ids must not be empty"))
    elif len(query.service_ids) > MAX_SERVICE_IDS:
        violations.append(FieldViolation("service_id", f"at most {MAX_SERVICE_IDS} service ids"))
    violations.extend(_range_violations(query))
    if query.timezone and load_zone(query.timezone) is None:
        violations.append(zone_violation("timezone", query.timezone))
    if any(not resource_id for resource_id in query.resource_ids):
        violations.append(FieldViolation("resource_id", "resource ids must not be empty"))
    elif len(query.resource_ids) > MAX_RESOURCE_IDS:
        violations.append(FieldViolation("resource_id", f"at most {MAX_RESOURCE_IDS} resource ids"))
    for name, value in (
        ("open_spots", query.min_open_spots),
        ("slots_per_day", query.slots_per_day),
        ("page_size", query.page_size),
    ):
        if value < 0:
            violations.append(FieldViolation(name, "must not be negative"))
    return violations


def validate_query(query: AvailabilityQuery) -> None:
    """Check the request (but for its page token, see paging.py). Raises InvalidArgument
    listing every invalid field at once."""
    violations = _field_violations(query)
    if violations:
        raise InvalidArgument.of(violations)
