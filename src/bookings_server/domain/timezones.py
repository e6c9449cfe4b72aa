"""The one IANA time-zone validator of the service: canonical zone names only.

A zone is accepted when `zoneinfo.available_timezones()` lists it, minus the names that depend
on the host or are not zones of the IANA database proper (`localtime`, `posixrules`,
`Factory`, and the `posix/` and `right/` trees): a service's hours must mean the same on every
host. Folders of the tz database ("America") are not zones.
"""

from __future__ import annotations

import functools
import zoneinfo
from zoneinfo import ZoneInfo

from bookings_server.domain.errors import FieldViolation

#: Longest zone name accepted (the longest IANA name is about 30 characters).
MAX_ZONE_LENGTH = 64
#: The reason of every refused zone name, on its field and on the error.
INVALID_TIME_ZONE = "INVALID_TIME_ZONE"

_EXCLUDED_NAMES = frozenset({"localtime", "posixrules", "Factory"})
_EXCLUDED_PREFIXES = ("posix/", "right/")


@functools.cache
def canonical_zone_names() -> frozenset[str]:
    """Every accepted zone name (read once from the tz database the process uses)."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _EXCLUDED_NAMES and not name.startswith(_EXCLUDED_PREFIXES)
    )


def is_zone(name: str) -> bool:
    """True when `name` is a canonical IANA zone name."""
    return len(name) <= MAX_ZONE_LENGTH and name in canonical_zone_names()


def zone_violation(path: str, name: str) -> FieldViolation:
    """The violation of a field holding `name`, which is not a canonical IANA zone."""
    shown = name if len(name) <= MAX_ZONE_LENGTH else name[:MAX_ZONE_LENGTH] + "..."
    return FieldViolation(
        path,
        f"{shown!r} is not a canonical IANA time zone (such as Europe/London)",
        INVALID_TIME_ZONE,
    )


def load_zone(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None when it is not a canonical IANA zone."""
    return ZoneInfo(name) if is_zone(name) else None
