"""`bookings serve` that also counts the SQL statements it executes (bench/run.py
--count-statements runs the server through this module).

Every statement the server sends to the database is counted by its first words (e.g.
"SELECT bookings", "INSERT INTO booking_events", "BEGIN IMMEDIATE"); a daemon thread writes
the running totals as JSON to $BENCH_STATEMENT_LOG twice a second, and the benchmark divides
the difference over a workload by the calls it made: statements per call.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from bookings_server.cli import main as cli

COUNTS: Counter[str] = Counter()
LOCK = threading.Lock()
TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)


def statement_kind(statement: str) -> str:
    """ "SELECT bookings", "INSERT booking_events", "BEGIN IMMEDIATE", "SELECT 1"..."""
    words = statement.split(None, 2)
    if not words:
        return "?"
    verb = words[0].upper()
    if verb in ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE", "SET"):
        return " ".join(words[:2]).upper()
    table = TABLE.search(statement)
    return f"{verb} {table.group(1) if table else statement[:30]}"


def _count(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _executemany: bool
) -> None:
    kind = statement_kind(statement)
    with LOCK:
        COUNTS[kind] += 1


def _commit(_conn: Any) -> None:
    with LOCK:
        COUNTS["COMMIT"] += 1


def _rollback(_conn: Any) -> None:
    with LOCK:
        COUNTS["ROLLBACK"] += 1


def _checkout(_dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    with LOCK:
        COUNTS["pool checkout (+ SELECT 1 if pre_ping)"] += 1


def _writer(path: Path) -> None:
    while True:
        time.sleep(0.5)
        with LOCK:
            snapshot = dict(COUNTS)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(snapshot))
        tmp.replace(path)


def read_counts(path: Path) -> Counter[str]:
    try:
        return Counter(json.loads(path.read_text()))
    except (OSError, ValueError):
        return Counter()


def main() -> int:
    event.listen(Engine, "before_cursor_execute", _count)
    event.listen(Engine, "commit", _commit)
    event.listen(Engine, "rollback", _rollback)
    event.listen(Pool, "checkout", _checkout)
    path = Path(os.environ["BENCH_STATEMENT_LOG"])
    threading.Thread(target=_writer, args=(path,), daemon=True, name="statement-log").start()
    return cli.main()


if __name__ == "__main__":
    sys.exit(main())
