"""The fuzz's view of the store: a refused call must leave every table as it was.

`StoreWatch` reads the seeded server's SQLite file over its own connection. SQLite's
`PRAGMA data_version` changes whenever another connection commits (or checkpoints), so a
checksum of every table is only computed when it did: before a call if the snapshot is stale
(an accepted call wrote), after a refused call if anything was committed meanwhile.

It also keeps a copy of the seeded store and puts it back (SQLite's online backup, so the
running server's connections simply see the seeded rows again) before every batch of
requests: accepted creates (a recurrence makes up to 500 sessions) do not pile up over a
large run and slow every later call and checksum down.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path


class StoreWatch:
    """Checksums of the tables of one SQLite database, cached per data_version."""

    def __init__(self, path: Path, seeded_copy: Path) -> None:
        self._path = path
        self._seeded = seeded_copy
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA query_only = 1")
        self._version = -1
        self._checksum = ""
        with closing(sqlite3.connect(seeded_copy)) as copy:
            self._connection.backup(copy)

    def close(self) -> None:
        self._connection.close()

    def restore_seeded(self) -> None:
        """Put the store back as it was when the watch was made."""
        with (
            closing(sqlite3.connect(self._seeded)) as seeded,
            closing(sqlite3.connect(self._path)) as live,
        ):
            seeded.backup(live)

    def _data_version(self) -> int:
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version

    def _tables_checksum(self) -> str:
        """A digest of every row of every table, read in one snapshot."""
        digest = hashlib.sha256()
        self._connection.execute("BEGIN")
        try:
            tables = self._connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            ).fetchall()
            for (table,) in tables:
                rows = self._connection.execute(f'SELECT * FROM "{table}"').fetchall()
                digest.update(table.encode())
                for row in sorted(map(repr, rows)):
                    digest.update(row.encode())
        finally:
            self._connection.execute("COMMIT")
        return digest.hexdigest()

    def snapshot(self) -> None:
        """Before a call: make sure the cached checksum is of the store as it is now."""
        version = self._data_version()
        if version != self._version:
            self._checksum = self._tables_checksum()
            self._version = version

    def changed(self) -> bool:
        """After a call: did it change any row since `snapshot`?"""
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        checksum = self._tables_checksum()
        differs = checksum != self._checksum
        self._checksum = checksum
        return differs
