"""slots_per_day: at most N entries per local day of the response's zone, the first N of the
day in the answer's order (so bookable entries, which come first, win).

A day's count runs on across both phases. A page that starts after a token has not seen the
entries before the token's position, so a day it meets for the first time starts from the
number of that day's entries the answer lists up to the position (`counted`), computed from
that day alone: each page costs work in proportion to its own days, not to earlier pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bookings_server.domain.availability.candidates import Candidate
from bookings_server.domain.availability.entries import EntryPosition

__all__ = ["Ranked", "limit_per_day", "local_day_span"]

#: An entry of the answer: (bookable, candidate, how many entries its local day has in the
#: answer up to and including it; 0 without slots_per_day).
Ranked = tuple[bool, Candidate, int]

_ONE_DAY = timedelta(days=1)


def local_day_span(day: date) -> tuple[datetime, datetime]:
    """UTC instants that include every instant whose local date is `day`, in any zone (UTC
    offsets are under a day); where the local date is `day` is checked per instant."""
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    return midnight - _ONE_DAY, midnight + 2 * _ONE_DAY


def limit_per_day(
    entries: Iterable[tuple[bool, Candidate]],
    limit: int,
    zone: ZoneInfo,
    after: EntryPosition | None,
    counted: Callable[[date, EntryPosition], int],
) -> Iterator[Ranked]:
    """The entries (those after `after`) but for each local day's entries beyond the first
    `limit`. `counted(day, after)`: how many of `day`'s entries the answer lists up to and
    including `after`, at most `limit`."""
    counts: dict[date, int] = {}
    if after is not None:
        counts[after.key[0].astimezone(zone).date()] = after.day_count
    for bookable, candidate in entries:
        day = candidate[0].astimezone(zone).date()
        used = counts.get(day)
        if used is None:
            used = 0 if after is None else counted(day, after)
        if used < limit:
            used += 1
            yield bookable, candidate, used
        counts[day] = used
