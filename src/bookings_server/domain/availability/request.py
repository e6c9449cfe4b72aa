"""A QueryAvailability request as plain data: validation and page tokens (SPEC section 5).

Field names in violations are the proto field names ("end_date", "timezone", ...), so a
client can point at the field it got wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from bookings_server.domain.errors import FieldViolation, InvalidArgument
from bookings_server.domain.timezones import load_zone

#: The widest range one query may cover.
MAX_RANGE = timedelta(days=31)
DEFAULT_PAGE_SIZE = 100
#: Larger page sizes are served as this many (AIP-158 coerces rather than rejects).
MAX_PAGE_SIZE = 1000
#: Most services and resources one query may name (each costs catalog reads).
MAX_SERVICE_IDS = 50
MAX_RESOURCE_IDS = 100
_TOKEN_VERSION = 1


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
        }
        encoded = json.dumps(selection, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:32]


def encode_page_token(query: AvailabilityQuery, offset: int) -> str:
    """An opaque token for the page starting at `offset` of this query's entries."""
    payload = json.dumps({"v": _TOKEN_VERSION, "o": offset, "q": query.fingerprint()})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_page_token(query: AvailabilityQuery) -> int:
    """The offset the query's page_token points at (0 without a token).

    A token that is malformed or was issued for a different query is INVALID_ARGUMENT.
    """
    if not query.page_token:
        return 0
    invalid = InvalidArgument.field(
        "page_token", "not a page token of this query (send the same request with it)"
    )
    padded = query.page_token + "=" * (-len(query.page_token) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise invalid from error
    if not isinstance(payload, dict):
        raise invalid
    offset = payload.get("o")
    if (
        payload.get("v") != _TOKEN_VERSION
        or payload.get("q") != query.fingerprint()
        or not isinstance(offset, int)
        or isinstance(offset, bool)
        or offset < 0
    ):
        raise invalid
    return offset


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
        violations.append(FieldViolation("timezone", f"unknown IANA time zone {query.timezone!r}"))
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


def validate_query(query: AvailabilityQuery) -> int:
    """Check the request; returns the paging offset. Raises InvalidArgument listing every
    invalid field at once."""
    violations = _field_violations(query)
    if violations:
        raise InvalidArgument.of(violations)
    return decode_page_token(query)
