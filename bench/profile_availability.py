#!/usr/bin/env python3
"""CPU cost of QueryAvailability alone (no gRPC), on the bench's catalog shape.

Seeds the catalog of `bench/` (20 staff working 09:00-17:00 every day in Europe/London, a
30-minute service with 5 of them and one with all 20) through a real server, then calls the
servicer directly in this thread and prints CPU milliseconds per call, best of `--repeat`
rounds of `--calls` calls, and the same for its three stages (store reads, domain,
protobuf). `--profile 7x5|31x20` adds a cProfile listing of that query.

`--after-write` measures the cached path instead: the servicer with an availability cache,
each call right after a write to one staff day of the query (the availability version of
that day bumped, as a confirmation would, rotating over the staff and days), so every call is
a miss that only that staff day made stale; and, for comparison, the same call warm (a hit).

  python bench/profile_availability.py [--calls 20] [--repeat 3] [--profile 31x20]
  python bench/profile_availability.py --after-write [--profile 7x5]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_harness as harness
from bookings.v1 import availability_service_pb2
from sqlalchemy import text

from bookings_server.api.availability.convert import page_to_proto
from bookings_server.api.availability.servicer import AvailabilityServicer
from bookings_server.api.context import reset_principal, set_principal
from bookings_server.app.availability import load_availability_data
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.app.unit_of_work import SqlUnitOfWork
from bookings_server.config import Config
from bookings_server.domain.availability.entries import AvailabilityData
from bookings_server.domain.availability.query import query_availability
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.page_tokens import PageTokenCodec
from bookings_server.server import build_server
from bookings_server.store.database import Database

#: Page tokens of the profiled calls (any key: nothing outside this process reads them).
BENCH_TOKENS = PageTokenCodec.from_secret("bench")


def cpu_ms_per_call(call: Callable[[], Any], calls: int, repeat: int) -> float:
    call()  # warm caches (statement compilation, zoneinfo)
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for _ in range(calls):
            call()
        best = min(best, (time.process_time() - start) / calls * 1000)
    return best


def stages(
    database: Database, days: int, service_id: str, start: datetime
) -> tuple[Callable[[], Any], Callable[[], Any], Callable[[], Any]]:
    """The three stages of one call, separately: store reads, domain, protobuf encoding."""
    query = AvailabilityQuery(
        service_ids=(service_id,), start=start, end=start + timedelta(days=days), page_size=1000
    )
    now = datetime.now(UTC)

    def load() -> AvailabilityData:
        with SqlUnitOfWork(database).read(harness.SITE_ID) as tx:
            return load_availability_data(tx, query, now)

    data = load()
    page = query_availability(query, data, now)
    return load, lambda: query_availability(query, data, now), lambda: page_to_proto(page, "")


def staff_day_writes(
    database: Database, staff_ids: list[str], start: datetime, days: int
) -> Iterator[Callable[[], None]]:
    """Writes that bump one staff day's availability version each (what a confirmation's
    trigger does), moving to another staff member and day every time."""
    for step in itertools.count():
        staff_id = staff_ids[step % len(staff_ids)]
        day = (start + timedelta(days=step % days)).date().isoformat()
        key = f"staff/{staff_id}/{day}"

        def write(key: str = key) -> None:
            with database.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO availability_versions (site_id, key, version) "
                        "VALUES (:site, :key, 1) ON CONFLICT (site_id, key) "
                        "DO UPDATE SET version = availability_versions.version + 1"
                    ),
                    {"site": harness.SITE_ID, "key": key},
                )

        yield write


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", choices=["7x5", "31x20"], help="cProfile this query")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument(
        "--after-write", action="store_true", help="cached path: each call after a staff-day write"
    )
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bookings-avail-profile-"))
    url = harness.sqlite_url(data_dir)
    harness.migrate_database(url)
    server, port = build_server(Config(address="127.0.0.1:0", data_dir=data_dir, database_url=url))
    server.start()
    with harness.stubs(f"127.0.0.1:{port}", harness.owner_metadata(data_dir)) as api:
        catalog = harness.seed_catalog(api, staff=20, sessions=50)
    server.stop(grace=None).wait()

    database = Database.from_url(url)
    cache = AvailabilityCache(64 << 20) if args.after_write else None
    availability = AvailabilityServicer(
        SqlUnitOfWork(database), page_tokens=BENCH_TOKENS, cache=cache
    )
    principal = Principal(
        site_id=harness.SITE_ID,
        identity_type=IdentityType.OWNER,
        identity_id="owner-bench",
        scopes=frozenset(harness.ALL_SCOPES),
    )
    token = set_principal(principal)

    def plain(days: int, service_id: str) -> Callable[[], Any]:
        request = availability_service_pb2.QueryAvailabilityRequest(
            service_id=[service_id],
            start_date=harness.ts(catalog.window_start),
            end_date=harness.ts(catalog.window_start + timedelta(days=days)),
            page_size=1000,
        )
        return lambda: availability.QueryAvailability(request, None)

    def after_write(days: int, service_id: str) -> Callable[[], Any]:
        call = plain(days, service_id)
        small = service_id == catalog.small_service_id
        staff = catalog.staff_ids[:5] if small else catalog.staff_ids
        writes = staff_day_writes(database, staff, catalog.window_start, days)
        return lambda: (next(writes)(), call())

    query = after_write if args.after_write else plain
    shapes = (("7x5", 7, catalog.small_service_id), ("31x20", 31, catalog.large_service_id))
    if args.after_write:
        for name, days, service_id in shapes:
            warm = cpu_ms_per_call(plain(days, service_id), args.calls, args.repeat)
            missed = cpu_ms_per_call(query(days, service_id), args.calls, args.repeat)
            print(f"{name}: after a staff-day write {missed:.2f} ms CPU per call, warm {warm:.2f}")
        if args.profile:
            days, service_id = {name: (d, s) for name, d, s in shapes}[args.profile]
            call = query(days, service_id)
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [call() for _ in range(args.calls)])
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
        reset_principal(token)
        database.dispose()
        return

    try:
        queries = {
            "7x5": query(7, catalog.small_service_id),
            "31x20": query(31, catalog.large_service_id),
        }
        for name, days, service_id in (
            ("7x5", 7, catalog.small_service_id),
            ("31x20", 31, catalog.large_service_id),
        ):
            total = cpu_ms_per_call(queries[name], args.calls, args.repeat)
            parts = [
                cpu_ms_per_call(stage, args.calls, args.repeat)
                for stage in stages(database, days, service_id, catalog.window_start)
            ]
            print(
                f"{name}: {total:.2f} ms CPU per call (load {parts[0]:.2f},"
                f" domain {parts[1]:.2f}, protobuf {parts[2]:.2f})"
            )
        if args.profile:
            profiler = cProfile.Profile()
            call = queries[args.profile]
            profiler.runcall(lambda: [call() for _ in range(args.calls)])
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        reset_principal(token)
        database.dispose()


if __name__ == "__main__":
    main()
