"""QueryAvailability (SPEC section 5): one page of what can be booked, from catalog data.

Pure: the caller loads the catalog data of the query (`AvailabilityData`, entries.py) and
passes `now`. The entries come from the sources of sources.py, appointment slots from
slots.py; request validation is in request.py, page tokens in paging.py. This module orders,
limits per day (day_limit.py) and pages them.

Paging is keyset: a page starts strictly after the previous page's last entry (its
`EntryPosition`: phase and `EntryKey`), each source starts generating there, and a page costs
what its own entries cost, whichever page it is.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice, takewhile
from zoneinfo import ZoneInfo

from bookings_server.domain.availability.candidates import (
    Candidate,
    Source,
    key_of,
    starting_from,
)
from bookings_server.domain.availability.day_limit import Ranked, limit_per_day, local_day_span
from bookings_server.domain.availability.entries import (
    AvailabilityData,
    AvailabilityPage,
    EntryKey,
    EntryPosition,
)
from bookings_server.domain.availability.request import AvailabilityQuery, validate_query
from bookings_server.domain.availability.slots import zone_named
from bookings_server.domain.availability.sources import build_sources
from bookings_server.domain.availability.staff_days import PartSupply
from bookings_server.domain.catalog import Service
from bookings_server.domain.errors import NotFound

__all__ = ["query_availability"]


def _services(query: AvailabilityQuery, data: AvailabilityData) -> list[Service]:
    services = []
    for service_id in query.unique_service_ids:
        service = data.services.get(service_id)
        if service is None:
            raise NotFound(
                f"service {service_id!r} not found", "SERVICE_NOT_FOUND", service_id=service_id
            )
        services.append(service)
    return services


class _Answer:
    """The query's entries in the answer's order, before slots_per_day: bookable first, then
    by key; each phase is a lazy merge of the sources' runs."""

    def __init__(self, query: AvailabilityQuery, sources: Sequence[Source]) -> None:
        assert query.start is not None and query.end is not None
        self._sources = sources
        self._start, self._end = query.start, query.end
        self._phases = (True, False) if query.bookable is None else (query.bookable,)

    def _run(self, bookable: bool, after: EntryKey | None, end: datetime) -> Iterable[Candidate]:
        runs = [source.candidates(bookable, self._start, end, after) for source in self._sources]
        return runs[0] if len(runs) == 1 else heapq.merge(*runs)

    def after(self, position: EntryPosition | None) -> Iterator[tuple[bool, Candidate]]:
        """Every entry after `position` (every entry without one), with its phase."""
        for bookable in self._phases:
            key = None
            if position is not None:
                if bookable and not position.bookable:
                    continue  # the position is past the bookable phase
                if bookable == position.bookable:
                    key = position.key
            for candidate in self._run(bookable, key, self._end):
                yield bookable, candidate

    def count_through(self, day: date, zone: ZoneInfo, position: EntryPosition, limit: int) -> int:
        """How many entries of the local `day` come up to and including `position` (at most
        `limit`): generated from that day's span only."""
        low, high = local_day_span(day)
        found = 0
        for bookable in self._phases:
            if position.bookable and not bookable:
                break  # past the position's phase
            run: Iterable[Candidate] = takewhile(
                lambda c: c[0] < high, self._run(bookable, starting_from(low), min(high, self._end))
            )
            if bookable == position.bookable:
                run = takewhile(lambda c: key_of(c) <= position.key, run)
            on_day = (c for c in run if c[0].astimezone(zone).date() == day)
            found += sum(1 for _ in islice(on_day, limit - found))
            if found >= limit:
                break
        return found


def _ranked(
    query: AvailabilityQuery, answer: _Answer, zone: ZoneInfo, after: EntryPosition | None
) -> Iterator[Ranked]:
    """The entries after `after` with their day counts, slots_per_day applied."""
    entries = answer.after(after)
    limit = query.slots_per_day
    if limit <= 0:
        return ((bookable, candidate, 0) for bookable, candidate in entries)
    return limit_per_day(
        entries,
        limit,
        zone,
        after,
        lambda day, position: answer.count_through(day, zone, position, limit),
    )


class _WallTimes:
    """Wall-clock ISO texts of instants in one zone, each computed once per query."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._known: dict[datetime, str] = {}

    def __call__(self, instant: datetime) -> str:
        found = self._known.get(instant)
        if found is None:
            found = instant.astimezone(self._zone).replace(tzinfo=None).isoformat()
            self._known[instant] = found
        return found


def query_availability(
    query: AvailabilityQuery,
    data: AvailabilityData,
    now: datetime,
    after: EntryPosition | None = None,
    parts: PartSupply | None = None,
) -> AvailabilityPage:
    """The page of the query's entries that follows `after` (the first page without it):
    bookable first, then by start.

    Only what the page needs is generated: entries up to the page's end (plus one, to know
    whether a next page exists), and only the page's rows are built (see `PageRow`).

    With `parts`, appointment slots are read from parts (staff_days.py) that `parts`
    supplies, computed or kept from earlier queries; the page is the same either way.

    Raises InvalidArgument for an invalid request (see `validate_query`) and NotFound when a
    service is missing from `data`.
    """
    validate_query(query)
    services = _services(query, data)
    zone_name = query.timezone or services[0].timezone
    zone = zone_named(zone_name)
    sources = build_sources(query, data, services, now, parts)
    size = query.effective_page_size
    window = list(islice(_ranked(query, _Answer(query, sources), zone, after), size + 1))
    page = window[:size]
    wall_time = _WallTimes(zone)
    rows = tuple(
        (sources[c[6]].pattern(c), c[0], c[1], wall_time(c[0]), wall_time(c[1])) for _, c, _ in page
    )
    return AvailabilityPage(rows, _position(page[-1]) if len(window) > size else None, zone_name)


def _position(last: Ranked) -> EntryPosition:
    bookable, candidate, day_count = last
    return EntryPosition(bookable, key_of(candidate), day_count)
