#!/usr/bin/env python3
"""CPU cost of the RPC handlers alone (no gRPC, no other threads), with cProfile.

Seeds a catalog through a real server, then calls the servicer methods directly in this
thread, N times each, and prints CPU microseconds per call and the functions where that time
goes (cumulative). Complements `run.py --profile` (py-spy on the live server under load).

  python bench/profile_handlers.py [--database-url URL] [--calls 300] [--top 30]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_harness as harness
from bookings.v1 import availability_service_pb2, bookings_service_pb2

from bookings_server.api.availability.servicer import AvailabilityServicer
from bookings_server.api.bookings.servicer import BookingsServicer
from bookings_server.api.context import reset_principal, set_principal
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.app.unit_of_work import SqlUnitOfWork
from bookings_server.config import Config
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.page_tokens import PageTokenCodec
from bookings_server.server import build_server
from bookings_server.store.database import Database


def measure(name: str, calls: int, top: int, call: Callable[[int], Any]) -> None:
    """Time `calls` calls plainly, then profile as many more (indices calls .. 2*calls-1)."""
    call(-1)  # warm caches (statement compilation, zoneinfo)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(calls):
        call(i)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(f"\n== {name}: {cpu / calls * 1e6:.0f} us CPU, {wall / calls * 1e6:.0f} us wall per call")
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(calls, 2 * calls):
        call(i)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bookings-profile-"))
    url = args.database_url or harness.sqlite_url(data_dir)
    harness.migrate_database(url)
    config = Config(address="127.0.0.1:0", data_dir=data_dir, database_url=url)
    server, port = build_server(config)
    server.start()
    metadata = harness.owner_metadata(data_dir)
    with harness.stubs(f"127.0.0.1:{port}", metadata) as api:
        catalog = harness.seed_catalog(api, staff=20, sessions=50)
    server.stop(grace=None).wait()

    database = Database.from_url(url)
    uow = SqlUnitOfWork(database)
    tokens = PageTokenCodec.from_secret("bench")
    bookings = BookingsServicer(uow, threading.Event(), page_tokens=tokens)
    availability = AvailabilityServicer(uow, page_tokens=tokens, cache=AvailabilityCache(64 << 20))
    principal = Principal(
        site_id=harness.SITE_ID,
        identity_type=IdentityType.OWNER,
        identity_id="owner-bench",
        scopes=frozenset(harness.ALL_SCOPES),
    )
    token = set_principal(principal)
    created: list[str] = []

    def create(i: int) -> None:
        """Book session i (a class session, one participant)."""
        request = harness.create_booking_request(
            catalog.session_ids[i % len(catalog.session_ids)],
            catalog.class_service_id,
            f"profile-{len(created)}",
        )
        created.append(bookings.CreateBooking(request, None).booking.id)

    def confirm(i: int) -> None:
        bookings.ConfirmOrDeclineBooking(
            bookings_service_pb2.ConfirmOrDeclineBookingRequest(booking_id=created[i]), None
        )

    def query(days: int, service_id: str) -> Callable[[int], Any]:
        request = availability_service_pb2.QueryAvailabilityRequest(
            service_id=[service_id],
            start_date=harness.ts(catalog.window_start),
            end_date=harness.ts(catalog.window_start + timedelta(days=days)),
            page_size=1000,
        )
        return lambda _i: availability.QueryAvailability(request, None)

    try:
        measure("CreateBooking", args.calls, args.top, create)
        measure("ConfirmOrDeclineBooking", args.calls, args.top, confirm)
        measure(
            "QueryAvailability 7 days x 5 staff",
            max(args.calls // 10, 5),
            args.top,
            query(7, catalog.small_service_id),
        )
        measure(
            "QueryAvailability 31 days x 20 staff",
            max(args.calls // 100, 3),
            args.top,
            query(31, catalog.large_service_id),
        )
    finally:
        reset_principal(token)
        database.dispose()


if __name__ == "__main__":
    main()
