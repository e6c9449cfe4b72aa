"""request_id idempotency (SPEC 3.10, RELIABILITY.md promise 2)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import pytest
from booking_helpers import BookingEnv, booking_env, class_booking, failure, stored_counts
from bookings.v1 import booking_pb2, bookings_service_pb2, bookings_service_pb2_grpc


def confirmed(request: booking_pb2.Booking) -> booking_pb2.Booking:
    request.status = booking_pb2.BOOKING_STATUS_CONFIRMED
    return request


@pytest.fixture
def env(database_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as environment:
        yield environment


def test_a_retry_with_the_same_request_id_returns_the_same_booking(env: BookingEnv) -> None:
    client = env.visitor()
    request = class_booking(env.catalog.session, env.catalog.class_service)

    first = client.create(request, request_id="retry-1")
    second = client.create(request, request_id="retry-1")

    assert second == first
    assert stored_counts(env.database_url)[0] == 1


def test_the_same_request_id_with_another_body_is_refused(env: BookingEnv) -> None:
    client = env.visitor()
    request = class_booking(env.catalog.session, env.catalog.class_service)
    client.create(request, request_id="retry-2")
    request.total_participants = 2

    error = failure(lambda: client.create(request, request_id="retry-2"))

    assert (error.code, error.reason, error.fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "IDEMPOTENCY_KEY_REUSED",
        ("request_id",),
    )


def test_a_retry_refused_since_its_first_attempt_returns_the_stored_booking(
    env: BookingEnv,
) -> None:
    visitor = env.visitor()
    request = class_booking(env.catalog.session, env.catalog.class_service)
    first = visitor.create(request, request_id="then-full")
    env.client().create(confirmed(class_booking(env.catalog.session, env.catalog.class_service, 3)))

    second = visitor.create(request, request_id="then-full")

    assert second == first
    assert stored_counts(env.database_url)[0] == 2


def test_another_body_that_would_be_refused_is_still_a_reused_request_id(
    env: BookingEnv,
) -> None:
    owner = env.client()
    request = confirmed(class_booking(env.catalog.session, env.catalog.class_service, 3))
    owner.create(request, request_id="full-then-other")
    other = class_booking(env.catalog.session, env.catalog.class_service, 2)

    error = failure(lambda: env.visitor().create(other, request_id="full-then-other"))

    assert (error.code, error.reason) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "IDEMPOTENCY_KEY_REUSED",
    )


def test_a_refused_request_with_a_new_request_id_is_refused(env: BookingEnv) -> None:
    full = confirmed(class_booking(env.catalog.session, env.catalog.class_service, 3))
    env.client().create(full, request_id="fills")
    request = class_booking(env.catalog.session, env.catalog.class_service)

    error = failure(lambda: env.visitor().create(request, request_id="no-spot-left"))

    assert (error.code, error.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "SESSION_CAPACITY_EXCEEDED",
    )


def test_different_request_ids_create_different_bookings(env: BookingEnv) -> None:
    client = env.visitor()
    request = class_booking(env.catalog.session, env.catalog.class_service)

    first = client.create(request, request_id="a")
    second = client.create(request, request_id="b")

    assert first.id != second.id


def test_twenty_concurrent_retries_on_two_servers_create_one_booking(
    env: BookingEnv,
    start_server,
    auth_metadata,  # type: ignore[no-untyped-def]
) -> None:
    second_server = start_server(database_url=env.database_url)
    servers = [env.server, second_server]
    request = bookings_service_pb2.CreateBookingRequest(
        booking=class_booking(env.catalog.session, env.catalog.class_service),
        request_id="race-1",
    )
    barrier = threading.Barrier(20)
    ids: list[str] = []
    errors: list[BaseException] = []

    def call(index: int) -> None:
        server = servers[index % 2]
        metadata = auth_metadata(server, identity="VISITOR")
        with grpc.insecure_channel(server.address) as channel:
            stub = bookings_service_pb2_grpc.BookingsServiceStub(channel)
            grpc.channel_ready_future(channel).result(timeout=10)
            barrier.wait(timeout=30)
            try:
                ids.append(stub.CreateBooking(request, metadata=metadata, timeout=60).booking.id)
            except grpc.RpcError as error:
                errors.append(error)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(ids) == 20 and len(set(ids)) == 1
    assert stored_counts(env.database_url) == (1, 1, 1)
