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

#: Longest zone name accepted (the longest IANA name is about 30 characters).
MAX_ZONE_LENGTH = 64

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


def load_zone(name: str) -> ZoneInfo | None:
    """The zone called `name`, or None when it is not a canonical IANA zone."""
    return ZoneInfo(name) if is_zone(name) else None
