"""Races for waiting-list offers (SPEC section 10): a freed spot goes to one booking only.

A full session of capacity 3 has 6 bookings on its list. Cancellations of the 3 confirmed
bookings race with confirmations of every waiting booking, twice over. Offers and
confirmations decide under the session's lock, so at no point do more than 3 participants
hold the session, and nobody is double_booked. SQLite runs threads against one server;
PostgreSQL spreads the calls over two server processes (the `race` fixture of test_races.py).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import grpc
from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from lifecycle_support import CONFIRMED, ClassSetup, class_booking_request
from race_helpers import run_together
from test_races import REPETITIONS, RaceTargets, race  # noqa: F401  (the fixture)

from bookings_server.domain.catalog import WaitingListPolicy

CAPACITY = 3
WAITING = 6
ALREADY_DECIDED = "already decided"


def _join(targets: RaceTargets, setup: ClassSetup) -> booking_pb2.Booking:
    join = pb.JoinWaitingListRequest(booking=class_booking_request(setup).booking)
    return targets.clients[0].JoinWaitingList(join, metadata=targets.metadata[0]).booking


def _server(targets: RaceTargets, index: int) -> tuple[Any, Any]:
    server = index % len(targets.clients)
    return targets.clients[server], targets.metadata[server]


def _cancel(client: Any, metadata: Any, booking: booking_pb2.Booking) -> Any:
    current = client.GetBooking(pb.GetBookingRequest(booking_id=booking.id), metadata=metadata)
    request = pb.CancelBookingRequest(
        booking_id=booking.id,
        revision=current.booking.revision,
        ignore_cancellation_policy=True,
    )
    return client.CancelBooking(request, metadata=metadata, timeout=60)


def _confirm(client: Any, metadata: Any, booking: booking_pb2.Booking) -> Any:
    request = pb.ConfirmOrDeclineBookingRequest(booking_id=booking.id)
    try:
        return client.ConfirmOrDeclineBooking(request, metadata=metadata, timeout=60)
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.FAILED_PRECONDITION:
            return ALREADY_DECIDED  # by an earlier round: not a failure of the race
        raise


def test_cancellations_racing_confirmations_never_give_a_freed_spot_twice(
    race: RaceTargets,  # noqa: F811
) -> None:
    policy = WaitingListPolicy(enabled=True, capacity=WAITING)
    for _ in range(REPETITIONS):
        setup = race.seeder.class_session(capacity=CAPACITY, waiting_list=policy)
        client, metadata = race.clients[0], race.metadata[0]
        confirmed = [
            client.ConfirmOrDeclineBooking(
                pb.ConfirmOrDeclineBookingRequest(
                    booking_id=client.CreateBooking(
                        class_booking_request(setup), metadata=metadata
                    ).booking.id
                ),
                metadata=metadata,
            ).booking
            for _ in range(CAPACITY)
        ]
        waiting = [_join(race, setup) for _ in range(WAITING)]
        calls = [
            partial(_cancel, *_server(race, index), booking)
            for index, booking in enumerate(confirmed)
        ]
        for round_ in range(2):
            calls += [
                partial(_confirm, *_server(race, index + round_), booking)
                for index, booking in enumerate(waiting)
            ]

        answers = run_together(calls, timeout=120)

        assert not [a for a in answers if isinstance(a, BaseException)]
        stored = [
            client.GetBooking(pb.GetBookingRequest(booking_id=b.id), metadata=metadata).booking
            for b in waiting
        ]
        holding = [b for b in stored if b.status == CONFIRMED]
        assert len(holding) <= CAPACITY
        assert not any(b.double_booked for b in stored)
