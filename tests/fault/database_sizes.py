"""How much the database fault tests do at each BOOKINGS_FAULT_SIZE (fault_support.SIZES).

BOOKINGS_FAULT_RACES=N overrides the races per store, to run the large size at a reduced
scale (`python bench/fault.py --size large --races-per-store 500`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from fault.fault_support import FaultSize


@dataclass(frozen=True)
class DatabaseFaultSize:
    #: PostgreSQL kill -9 / restart cycles, and SIGSTOP hangs, under load.
    database_kills: int
    database_hangs: int
    #: Client threads per server process, and seconds of load around each fault.
    load_threads: int
    load_seconds: float
    #: Contested races per store (SQLite, PostgreSQL), each with RACE_CONTENDERS contenders.
    races_per_store: int
    #: Races run at once (each on its own session).
    races_at_once: int


DATABASE_SIZES = {
    "small": DatabaseFaultSize(1, 1, 4, 1.0, 24, 2),
    "large": DatabaseFaultSize(5, 5, 8, 2.0, 5000, 3),
}


def database_size(size: FaultSize) -> DatabaseFaultSize:
    chosen = DATABASE_SIZES[size.name]
    races = os.environ.get("BOOKINGS_FAULT_RACES")
    return replace(chosen, races_per_store=int(races)) if races else chosen
