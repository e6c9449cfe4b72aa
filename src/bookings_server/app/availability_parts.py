"""The parts one QueryAvailability computation reuses or computes: appointment slots per
staff member, service and day (domain/availability/staff_days.py), kept in the answer cache.

A computation first pins every part of its query that still holds (its versions, read before
the data, are the ones the part recorded; its holds and offers have not run out), then reads
bookings and holds only for the staff members with a part that does not: a write to one
staff member's day costs the next answer that staff member's bookings and that day's slots,
not the whole range's. A computed part records the versions the call read before its data
(so a write that raced the read only makes it stale sooner) and the call's first hold or
offer expiry.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from datetime import datetime

from bookings_server.app.availability_cache import AvailabilityCache, CachedPart
from bookings_server.domain.availability.freshness import appointment_keys, appointment_staff_ids
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.availability.staff_days import StaffDay, part_keys, staff_days
from bookings_server.domain.catalog import Service, ServiceType

__all__ = ["CallParts", "VersionRead"]

#: Reads the availability versions of some keys, in the computation's transaction.
VersionRead = Callable[[Collection[str]], Mapping[str, int]]


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
        self._pinned: dict[StaffDay, tuple[datetime, ...]] = {}
        #: When the parts computed by this call stop holding without a write (None: never).
        self.valid_until: datetime | None = None

    @property
    def known(self) -> Mapping[str, int]:
        """The versions read before the data: the call's, and those `stale_staff` added."""
        return self._known

    def stale_staff(self, read_versions: VersionRead, services: Sequence[Service]) -> list[str]:
        """Pins the parts of `services` that hold; the staff members with one that does not,
        whose bookings and holds the computation must read.

        First reads, with `read_versions` (before any booking is read), the versions of the
        appointment keys the call did not know yet (a query asked for the first time knows
        only the catalog's), so that its parts and answer can be reused.
        """
        query = self._query
        assert query.start is not None and query.end is not None
        days = [
            (service, day)
            for service in services
            if service.type is ServiceType.APPOINTMENT and service.duration is not None
            for staff_id in appointment_staff_ids(query, [service])
            for day in staff_days(service.id, staff_id, query.start, query.end)
        ]
        unknown = appointment_keys(query, services) - self._known.keys()
        if unknown:
            self._known = {**self._known, **read_versions(unknown)}
        stale: dict[str, None] = {}
        for _, day in days:
            part = self._cache.part(self._key(day))
            if part is not None and part.holds_at(self._known, self._now):
                self._pinned[day] = part.starts
            else:
                stale[day.staff_id] = None
        return list(stale)

    def supply(
        self, service: Service, day: StaffDay, compute: Callable[[], tuple[datetime, ...]]
    ) -> Sequence[datetime]:
        """The part `day` (domain `PartSupply`): pinned, or computed now and kept."""
        pinned = self._pinned.get(day)
        if pinned is not None:
            self._cache.count_part(hit=True)
            return pinned
        starts = compute()
        versions = {key: self._known.get(key) for key in part_keys(service, day)}
        self._cache.put(self._key(day), CachedPart(starts, versions, self.valid_until))
        self._cache.count_part(hit=False)
        return starts

    def _key(self, day: StaffDay) -> Hashable:
        return ("part", self._site_id, day)
