"""QueryAvailability (SPEC section 5): one page of what can be booked, from catalog data.

Pure: the caller loads the catalog data of the query (`AvailabilityData`, entries.py) and
passes `now`. The entries come from the sources of sources.py, appointment slots from
slots.py; request validation and page tokens are in request.py. This module orders, filters
and pages them.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

from bookings_server.domain.availability.entries import AvailabilityData, AvailabilityPage
from bookings_server.domain.availability.request import (
    AvailabilityQuery,
    encode_page_token,
    validate_query,
)
from bookings_server.domain.availability.slots import zone_named
from bookings_server.domain.availability.sources import Candidate, Source, build_sources
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


def _ordered(query: AvailabilityQuery, sources: Sequence[Source]) -> Iterator[Candidate]:
    """Every candidate after the filters, bookable first, then by start (and the rest of
    `AvailabilityEntry.sort_key`): each phase is a lazy merge of the sources' sorted runs."""
    assert query.start is not None and query.end is not None
    phases = (True, False) if query.bookable is None else (query.bookable,)
    for bookable in phases:
        runs = [source.candidates(bookable, query.start, query.end) for source in sources]
        yield from runs[0] if len(runs) == 1 else heapq.merge(*runs)


def _limit_per_day(
    candidates: Iterable[Candidate], limit: int, zone: ZoneInfo
) -> Iterator[Candidate]:
    """At most `limit` entries per local day of `zone`, keeping the first ones in order."""
    counts: dict[date, int] = defaultdict(int)
    for candidate in candidates:
        day = candidate[0].astimezone(zone).date()
        if counts[day] < limit:
            counts[day] += 1
            yield candidate


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
    query: AvailabilityQuery, data: AvailabilityData, now: datetime
) -> AvailabilityPage:
    """One page of the query's entries: bookable first, then by start.

    Only what the page needs is generated: entries up to the page's end (plus one, to know
    whether a next page exists), and only the page's rows are built (see `PageRow`).

    Raises InvalidArgument for an invalid request (see `validate_query`) and NotFound when a
    service is missing from `data`.
    """
    offset = validate_query(query)
    services = _services(query, data)
    zone_name = query.timezone or services[0].timezone
    zone = zone_named(zone_name)
    sources = build_sources(query, data, services, now)
    candidates: Iterable[Candidate] = _ordered(query, sources) if sources else ()
    if query.slots_per_day > 0:
        candidates = _limit_per_day(candidates, query.slots_per_day, zone)
    page_end = offset + query.effective_page_size
    window = list(islice(candidates, offset, page_end + 1))
    token = encode_page_token(query, page_end) if len(window) > page_end - offset else ""
    wall_time = _WallTimes(zone)
    rows = tuple(
        (sources[c[6]].pattern(c), c[0], c[1], wall_time(c[0]), wall_time(c[1]))
        for c in window[: page_end - offset]
    )
    return AvailabilityPage(rows, token, zone_name)
