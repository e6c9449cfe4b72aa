"""Races of BulkConfirmOrDeclineBooking against each other and single confirmations (SPEC
section 12): never an overbooking, never a deadlock (a deadlock would show as a timeout).

Three sessions of capacity 5 get 60 CREATED bookings; four bulk calls of 12 items each (their
items interleaved across the sessions, each call in another order) race with 12 single
confirmations. SQLite runs threads against one server; PostgreSQL spreads the calls over two
server processes (the `race` fixture of test_races.py).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from lifecycle_support import CONFIRMED, DECLINED, class_booking_request, create_bookings
from race_helpers import run_together
from test_races import RaceTargets, race  # noqa: F401  (the fixture)

SESSIONS = 3
CAPACITY = 5
PER_SESSION = 20
BULK_CALLS = 4


def _bulk(client: Any, metadata: Any, bookings: list[booking_pb2.Booking]) -> Any:
    details = [pb.ConfirmOrDeclineBookingRequest(booking_id=b.id) for b in bookings]
    request = pb.BulkConfirmOrDeclineBookingRequest(details=details, return_entity=True)
    return client.BulkConfirmOrDeclineBooking(request, metadata=metadata, timeout=60)


def _single(client: Any, metadata: Any, booking: booking_pb2.Booking) -> Any:
    request = pb.ConfirmOrDeclineBookingRequest(booking_id=booking.id)
    return client.ConfirmOrDeclineBooking(request, metadata=metadata, timeout=60)


def test_bulk_and_single_confirmations_racing_never_overbook_or_deadlock(
    race: RaceTargets,  # noqa: F811
) -> None:
    setups = [race.seeder.class_session(capacity=CAPACITY) for _ in range(SESSIONS)]
    by_session = [
        create_bookings(race.clients[0], class_booking_request(s), PER_SESSION, race.metadata[0])
        for s in setups
    ]
    everyone = [b for trio in zip(*by_session, strict=True) for b in trio]
    shuffler = random.Random(7)
    bulk_items = everyone[: BULK_CALLS * 12]
    calls = []
    for index in range(BULK_CALLS):
        items = bulk_items[index::BULK_CALLS]
        shuffler.shuffle(items)
        server = index % len(race.clients)
        calls.append(
            lambda c=race.clients[server], m=race.metadata[server], i=items: _bulk(c, m, i)
        )
    for index, booking in enumerate(everyone[BULK_CALLS * 12 :]):
        server = index % len(race.clients)
        calls.append(
            lambda c=race.clients[server], m=race.metadata[server], b=booking: _single(c, m, b)
        )

    answers = run_together(calls, timeout=120)

    assert not [a for a in answers if isinstance(a, BaseException)]
    statuses = race.stored_statuses(everyone)
    assert statuses == {
        CONFIRMED: SESSIONS * CAPACITY,
        DECLINED: len(everyone) - SESSIONS * CAPACITY,
    }
    for bookings in by_session:
        assert Counter(race.stored_statuses(bookings))[CONFIRMED] == CAPACITY
