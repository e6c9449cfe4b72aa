"""QueryAvailability's answers, kept in the server process and reused while they are right.

An answer is reused only when, read in the query's own transaction, every availability
version it depends on is what it was when the answer was computed, and the clock has not
reached the instant its flags or counted holds change (domain/availability/freshness.py). So
several processes on one database never serve an answer older than the last commit: a write
in another process bumps the versions in its own transaction.

The versions an answer records are those read *before* its data: on PostgreSQL each statement
of a read sees the latest commits, so a version read after the data could be newer than the
data. Keys first learnt from the data are recorded as unknown (None), which never matches: the
next query of the same kind reads them first and stores an answer that can be reused.

Memory is bounded: answers are evicted least recently used first once their estimated size
passes the budget.

Below the answers, the same budget and LRU keep their parts (app/availability_parts.py): one
staff member's free starts for one service and day, reused by the next computation of any
answer that covers them while their own versions hold.

One computation per query at a time: right after a write, every concurrent query of the same
kind misses at once; one computes (`computing`), the others wait for its answer and take it if
it is at least as new as the versions they read themselves, else wait for the next one,
instead of computing the same answer side by side.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bookings_server.domain.availability.entries import AvailabilityPage

__all__ = ["AvailabilityAnswer", "AvailabilityCache", "CacheStats", "CachedPart", "Turn"]

T = TypeVar("T")

#: Rough bytes of one answer row (pattern shared, instants and wall-time texts own), and of
#: one recorded version; the estimate only needs to be proportional.
_ROW_BYTES = 400
_KEY_BYTES = 120
_ANSWER_BYTES = 2000
_PART_BYTES = 300
_VALUE_BYTES = 60


@dataclass(eq=False)
class AvailabilityAnswer:
    """One page of a query's answer and what it stays right for."""

    page: AvailabilityPage
    next_page_token: str
    #: The versions of what the answer depends on, read before its data (None: not).
    versions: Mapping[str, int | None]
    #: The first instant it may be wrong at without any write (None: never).
    valid_until: datetime | None
    #: The transport's encoding of this answer, filled in by the transport on first use.
    wire: object | None = field(default=None)

    @property
    def size(self) -> int:
        return _ANSWER_BYTES + _ROW_BYTES * len(self.page.rows) + _KEY_BYTES * len(self.versions)

    def holds_at(self, versions: Mapping[str, int], now: datetime) -> bool:
        """True when the answer is right for a call at `now` that read these versions: its own
        versions (read before its data) are known and at least as new, key by key."""
        return _holds(self.versions, self.valid_until, versions, now)


@dataclass(eq=False)
class CachedPart(Generic[T]):
    """One part of answers (app/availability_parts.py) and what it stays right for."""

    value: T
    versions: Mapping[str, int | None]
    valid_until: datetime | None
    #: How many instants or counts `value` holds (for its estimated size).
    weight: int = 1

    @property
    def size(self) -> int:
        return _PART_BYTES + _VALUE_BYTES * self.weight + _KEY_BYTES * len(self.versions)

    def holds_at(self, versions: Mapping[str, int], now: datetime) -> bool:
        """Like `AvailabilityAnswer.holds_at`."""
        return _holds(self.versions, self.valid_until, versions, now)


def _holds(
    recorded: Mapping[str, int | None],
    valid_until: datetime | None,
    read: Mapping[str, int],
    now: datetime,
) -> bool:
    if valid_until is not None and now >= valid_until:
        return False
    return all(
        version is not None and (seen := read.get(key)) is not None and version >= seen
        for key, version in recorded.items()
    )


Cached = AvailabilityAnswer | CachedPart[Any]


@dataclass(frozen=True)
class Turn:
    """`AvailabilityCache.computing`'s answer: compute now, or what another thread computed."""

    leader: bool
    answer: AvailabilityAnswer | None


@dataclass(frozen=True)
class CacheStats:
    answers: int
    bytes: int
    max_bytes: int
    hits: int
    misses: int
    parts: int = 0
    part_hits: int = 0
    part_misses: int = 0


class AvailabilityCache:
    """Answers by (site, query) and parts by their own keys, least recently used evicted
    first past `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._items: OrderedDict[Hashable, Cached] = OrderedDict()
        self._bytes = 0
        self._parts = 0
        #: Lookups by (of a part, reused).
        self._lookups: Counter[tuple[bool, bool]] = Counter()
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}

    def get(self, key: Hashable) -> AvailabilityAnswer | None:
        found = self._get(key)
        return found if isinstance(found, AvailabilityAnswer) else None

    def part(self, key: Hashable) -> CachedPart[Any] | None:
        found = self._get(key)
        return found if isinstance(found, CachedPart) else None

    def _get(self, key: Hashable) -> Cached | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: Hashable, item: Cached) -> None:
        size = item.size
        if size > self._max_bytes:
            return
        with self._lock:
            replaced = self._items.pop(key, None)
            if replaced is not None:
                self._forget(replaced)
            self._items[key] = item
            self._bytes += size
            self._parts += isinstance(item, CachedPart)
            while self._bytes > self._max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._forget(evicted)

    def _forget(self, item: Cached) -> None:
        self._bytes -= item.size
        self._parts -= isinstance(item, CachedPart)

    @contextmanager
    def computing(self, key: Hashable, wait_s: float) -> Iterator[Turn]:
        """Whether to compute `key`'s answer inside this block: yes when no other thread is
        computing it; else, after waiting for that one (at most `wait_s`), no, with what it
        stored (the caller checks that it holds, and may ask for a turn again). A leader gets
        the answer stored so far too: another thread may have stored one that holds for it
        between its miss and its turn."""
        with self._lock:
            running = self._computing.get(key)
            if running is None:
                done = self._computing[key] = threading.Event()
        if running is not None:
            running.wait(wait_s)
            yield Turn(leader=False, answer=self.get(key))
            return
        try:
            yield Turn(leader=True, answer=self.get(key))
        finally:
            with self._lock:
                del self._computing[key]
            done.set()

    def count(self, *, hit: bool, part: bool = False) -> None:
        """One lookup of an answer (or, with `part`, of a part): reused or computed."""
        with self._lock:
            self._lookups[part, hit] += 1

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(
                answers=len(self._items) - self._parts,
                bytes=self._bytes,
                max_bytes=self._max_bytes,
                hits=self._lookups[False, True],
                misses=self._lookups[False, False],
                parts=self._parts,
                part_hits=self._lookups[True, True],
                part_misses=self._lookups[True, False],
            )
