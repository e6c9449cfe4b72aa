"""The parts one QueryAvailability computation reuses or computes, kept in the answer cache:

- appointment slots per staff member, service and UTC day (domain/availability/staff_days.py):
  the free starts, without any clock;
- the occupancy of each class session and course schedule (spots taken, waiting, offered).

A computation first reads the versions of every key its data depends on that it did not know
yet (they follow from the catalog: staff days, sessions, schedules), before any booking is
read. It then pins every part that still holds (the versions it read are the ones the part
recorded; the holds and offers the part counted have not run out) and reads bookings, holds
and counts only for the staff members, sessions and schedules with a part that does not. So a
write to one staff member's day or one session costs the next answer that staff member's
bookings and days, or that session's counts, not the whole range's. A computed part records
the versions read before the data (a write that raced the read only makes it stale sooner)
and the call's first hold or offer expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any

from bookings_server.app.availability_cache import AvailabilityCache, CachedPart
from bookings_server.domain.availability.entries import Occupancy
from bookings_server.domain.availability.freshness import appointment_staff_ids
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.staff_days import StaffDay, part_keys, staff_days
from bookings_server.domain.availability.versions import schedule_key, session_key
from bookings_server.domain.catalog import Service, ServiceType

__all__ = ["SCHEDULE", "SESSION", "CallParts", "VersionRead"]

#: Reads the availability versions of some keys, in the computation's transaction.
VersionRead = Callable[[Collection[str]], Mapping[str, int]]

#: The kinds of group occupancy parts, and the version key of each.
SESSION = "session"
SCHEDULE = "schedule"
_GROUP_KEYS = {SESSION: session_key, SCHEDULE: schedule_key}


class CallParts:
    """The parts of one computation of `query` for one site, at `now`, with the versions
    `known` read before its data."""

    def __init__(
        self,
        cache: AvailabilityCache,
        site_id: str,
        query: AvailabilityQuery,
        known: Mapping[str, int],
        now: datetime,
    ) -> None:
        self._cache = cache
        self._site_id = site_id
        self._query = query
        self._known = known
        self._now = now
        self._days: dict[StaffDay, tuple[datetime, ...]] = {}
        self._groups: dict[tuple[str, str], Occupancy] = {}
        self._counted: list[tuple[Hashable, CachedPart[Occupancy]]] = []
        self._valid_until: datetime | None = None
        self._keys: frozenset[str] = frozenset()

    def answer_versions(self) -> dict[str, int | None]:
        """The versions of the keys `learn` was given (the answer's), as read before the data."""
        return self._recorded(self._keys)

    def learn(self, read_versions: VersionRead, keys: Collection[str]) -> None:
        """Reads, before any booking is read, the versions of `keys` the call did not know
        (a query asked for the first time knows only the catalog's), so that its parts and
        its answer can be reused."""
        self._keys = frozenset(keys)
        unknown = self._keys - self._known.keys()
        if unknown:
            self._known = {**self._known, **read_versions(unknown)}

    def stale_staff(self, services: Sequence[Service]) -> list[str]:
        """Pins the appointment parts of `services` that hold; the staff members with one
        that does not, whose bookings and holds the computation must read. With
        `merge_staff` (pooled staff are computed together) every one of them."""
        query = self._query
        assert query.start is not None and query.end is not None
        if query.merge_staff:
            return appointment_staff_ids(query, list(services))
        stale: dict[str, None] = {}
        for service in services:
            if service.type is not ServiceType.APPOINTMENT or service.duration is None:
                continue
            for staff_id in appointment_staff_ids(query, [service]):
                for day in staff_days(service.id, staff_id, query.start, query.end):
                    part = self._holding(self._day_key(day))
                    if part is None:
                        stale[staff_id] = None
                    else:
                        self._days[day] = part.value
        return list(stale)

    def stale_groups(self, kind: str, ids: Sequence[str], waitlist: bool) -> list[str]:
        """Pins the occupancy parts of these sessions or schedules that hold; the ids of the
        others, whose bookings, holds and offers the computation must count."""
        stale = []
        for group_id in ids:
            part = self._holding(self._group_key(kind, group_id, waitlist))
            if part is None:
                stale.append(group_id)
            else:
                self._groups[kind, group_id] = part.value
        return stale

    def occupancy(
        self, kind: str, ids: Sequence[str], waitlist: bool, counted: Mapping[str, Occupancy]
    ) -> dict[str, Occupancy]:
        """The occupancy of every one of `ids`: pinned, or `counted` now (kept by `finish`)."""
        found = {}
        for group_id in ids:
            pinned = self._groups.get((kind, group_id))
            if pinned is not None:
                self._cache.count(hit=True, part=True)
                found[group_id] = pinned
                continue
            occupancy = counted.get(group_id, Occupancy())
            part = CachedPart(occupancy, self._recorded([_GROUP_KEYS[kind](group_id)]), None)
            self._counted.append((self._group_key(kind, group_id, waitlist), part))
            self._cache.count(hit=False, part=True)
            found[group_id] = occupancy
        return found

    def finish(self, valid_until: datetime | None) -> None:
        """Keeps the counted parts, and those computed from now on, until `valid_until` (the
        computation's first hold or offer expiry; None: no expiry)."""
        self._valid_until = valid_until
        for key, part in self._counted:
            part.valid_until = valid_until
            self._cache.put(key, part)
        self._counted.clear()

    def supply(
        self, service: Service, day: StaffDay, compute: Callable[[], tuple[datetime, ...]]
    ) -> Sequence[datetime]:
        """The part `day` (domain `PartSupply`): pinned, or computed now and kept."""
        pinned = self._days.get(day)
        if pinned is not None:
            self._cache.count(hit=True, part=True)
            return pinned
        starts = compute()
        versions = self._recorded(part_keys(service, day))
        part = CachedPart(starts, versions, self._valid_until, weight=len(starts))
        self._cache.put(self._day_key(day), part)
        self._cache.count(hit=False, part=True)
        return starts

    def _holding(self, key: Hashable) -> CachedPart[Any] | None:
        part = self._cache.part(key)
        if part is None or not part.holds_at(self._known, self._now):
            return None
        return part

    def _recorded(self, keys: Collection[str]) -> dict[str, int | None]:
        """What a part or answer of `keys` records: their versions read before the data."""
        return {key: self._known.get(key) for key in keys}

    def _day_key(self, day: StaffDay) -> Hashable:
        return ("staff-day", self._site_id, day)

    def _group_key(self, kind: str, group_id: str, waitlist: bool) -> Hashable:
        # Without a waiting list the line is not counted: such a part says nothing of it.
        return (kind, self._site_id, group_id, waitlist)
