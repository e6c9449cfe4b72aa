"""What a use case runs on: a unit of work that opens transactions of one site.

Each use case takes a `UnitOfWork` and a `Clock` (app/clock.py). Inside `write(site_id)` it
reads and writes through the transaction's repositories and takes capacity locks with
`tx.lock(unit)`; everything commits together when the block ends, or nothing does. The SQL
implementation is store/unit_of_work.py; tests use it on a temporary SQLite file.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from typing import Protocol

from bookings_server.store.unit_of_work import SqlUnitOfWork, Transaction

__all__ = ["SqlUnitOfWork", "Transaction", "UnitOfWork"]


class UnitOfWork(Protocol):
    def read(self, site_id: str) -> AbstractContextManager[Transaction]:
        """One read snapshot of the site's data."""
        ...

    def write(self, site_id: str) -> AbstractContextManager[Transaction]:
        """One write transaction: all or nothing."""
        ...

    def availability_versions(self, site_id: str, keys: Collection[str]) -> dict[str, int]:
        """The site's availability versions of `keys` (0 for a key never bumped), read in one
        statement (the cheapest read there is: a cached answer is checked with it)."""
        ...
