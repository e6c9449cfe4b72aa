"""What every source of QueryAvailability entries produces: candidates, in the answer's order.

A `Source` lists the entries of one service (and staff member) for one phase (bookable, then
not bookable) in `EntryKey` order, from any key on: a page after a token starts strictly after
the previous page's last entry instead of listing the earlier pages again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from bookings_server.domain.availability.entries import AvailabilityEntry, EntryKey
from bookings_server.domain.policy import BookableStarts, clamped_shift

__all__ = [
    "Candidate",
    "Source",
    "Window",
    "after_floor",
    "key_of",
    "policy_windows",
    "starting_from",
]

#: A candidate entry in the answer's order, without the cost of building it:
#: (start, end, service id, resource id, session id, schedule id, source index, detail).
#: The first six are its `EntryKey`; the source index keeps equal keys in the order the sources
#: were built (keys are unique, so it never decides), and `detail` is the source's own note of
#: which entry this is (see `Source.pattern`).
Candidate = tuple[datetime, datetime, str, str, str, str, int, int]
#: A half-open range of starts.
Window = tuple[datetime, datetime]

_MICROSECOND = timedelta(microseconds=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


class Source(ABC):
    """The entries of one service (and staff member), produced in key order per phase."""

    @abstractmethod
    def candidates(
        self, bookable: bool, start: datetime, end: datetime, after: EntryKey | None = None
    ) -> Iterator[Candidate]:
        """This source's entries for the query range [start, end) that are (not) `bookable`,
        in key order, only those whose key is greater than `after` when given."""

    @abstractmethod
    def pattern(self, candidate: Candidate) -> AvailabilityEntry:
        """The entry `candidate` stands for, but for its times (see `PageRow`)."""


def key_of(candidate: Candidate) -> EntryKey:
    return candidate[:6]


def starting_from(instant: datetime) -> EntryKey:
    """A key just below every entry that starts at `instant` or later."""
    return (instant, _EARLIEST, "", "", "", "")


def policy_windows(
    starts: BookableStarts, start: datetime, end: datetime
) -> tuple[list[Window], list[Window]]:
    """[start, end) split into the starts the booking policy accepts and those it refuses
    (too late before `earliest`, too early after `latest`); empty windows left out."""
    if not starts.accepts_some_start:
        return [], _nonempty([(start, end)])
    low = starts.earliest
    high = None if starts.latest is None else clamped_shift(starts.latest, _MICROSECOND)
    accepted = [(max(start, low), end if high is None else min(end, high))]
    refused = [(start, min(end, low))]
    if high is not None:
        refused.append((max(start, high), end))
    return _nonempty(accepted), _nonempty(refused)


def after_floor(windows: list[Window], after: EntryKey | None) -> list[Window]:
    """The windows without the starts before `after`'s (which cannot come after it)."""
    if after is None:
        return windows
    return _nonempty([(max(low, after[0]), high) for low, high in windows])


def _nonempty(windows: list[Window]) -> list[Window]:
    return [(low, high) for low, high in windows if low < high]
