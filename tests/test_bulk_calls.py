"""BulkCreateBooking and BulkConfirmOrDeclineBooking (SPEC section 12) on the wire: one result
per item in request order, each item's error as its single call would answer it. The rules of
each item are the single calls' (tested with them); these run on SQLite. Races of bulk calls
against each other and single calls are in test_bulk_races.py."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from bookings.v1 import bookings_service_pb2 as pb
from google.rpc import error_details_pb2, status_pb2
from lifecycle_support import (
    CONFIRMED,
    DECLINED,
    LifecycleEnv,
    class_booking_request,
    create_bookings,
    lifecycle_env,
)


@pytest.fixture
def env(sqlite_url, start_server, auth_metadata) -> Iterator[LifecycleEnv]:  # type: ignore[no-untyped-def]
    with lifecycle_env(sqlite_url, start_server(database_url=sqlite_url), auth_metadata) as e:
        yield e


def _reason(error: pb.ItemError) -> str:
    status = status_pb2.Status.FromString(error.SerializeToString())
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError(f"no ErrorInfo in {status}")


def test_each_bulk_create_item_succeeds_or_fails_on_its_own_in_request_order(
    env: LifecycleEnv,
) -> None:
    setup = env.seeder.class_session(capacity=5)
    unknown = class_booking_request(setup)
    unknown.booking.booked_entity.slot.session_id = "no-such-session"
    request = pb.BulkCreateBookingRequest(
        create_booking_requests=[
            class_booking_request(setup),
            unknown,
            class_booking_request(setup),
        ],
        return_entity=True,
    )

    response = env.client.BulkCreateBooking(request, metadata=env.metadata)

    metadata = [r.item_metadata for r in response.results]
    assert [(m.original_index, m.success) for m in metadata] == [(0, True), (1, False), (2, True)]
    assert _reason(metadata[1].error) == "SESSION_NOT_FOUND"
    assert metadata[1].error.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert response.results[0].item.id == metadata[0].id != ""
    assert (
        response.bulk_action_metadata.total_successes,
        response.bulk_action_metadata.total_failures,
    ) == (2, 1)


def test_bulk_results_carry_the_booking_only_when_asked(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session()
    request = pb.BulkCreateBookingRequest(create_booking_requests=[class_booking_request(setup)])

    (result,) = env.client.BulkCreateBooking(request, metadata=env.metadata).results

    assert result.item_metadata.success and not result.HasField("item")


@pytest.mark.parametrize("count", [0, 9])
def test_a_bulk_create_of_none_or_more_than_eight_is_invalid(env: LifecycleEnv, count: int) -> None:
    setup = env.seeder.class_session()
    request = pb.BulkCreateBookingRequest(
        create_booking_requests=[class_booking_request(setup)] * count
    )

    with pytest.raises(grpc.RpcError) as refused:
        env.client.BulkCreateBooking(request, metadata=env.metadata)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_bulk_confirmations_of_one_session_are_decided_in_request_order(
    env: LifecycleEnv,
) -> None:
    setup = env.seeder.class_session(capacity=3)
    bookings = create_bookings(env.client, class_booking_request(setup), 5, env.metadata)
    details = [pb.ConfirmOrDeclineBookingRequest(booking_id=b.id) for b in bookings]
    details.insert(2, pb.ConfirmOrDeclineBookingRequest(booking_id="no-such-booking"))

    response = env.client.BulkConfirmOrDeclineBooking(
        pb.BulkConfirmOrDeclineBookingRequest(details=details, return_entity=True),
        metadata=env.metadata,
    )

    statuses = [r.item.status if r.item_metadata.success else None for r in response.results]
    assert statuses == [CONFIRMED, CONFIRMED, None, CONFIRMED, DECLINED, DECLINED]
    assert response.results[2].item_metadata.id == "no-such-booking"
    assert _reason(response.results[2].item_metadata.error) == "BOOKING_NOT_FOUND"


def test_a_bulk_confirmation_of_more_than_three_hundred_is_invalid(env: LifecycleEnv) -> None:
    details = [pb.ConfirmOrDeclineBookingRequest(booking_id=f"b-{i}") for i in range(301)]

    with pytest.raises(grpc.RpcError) as refused:
        env.client.BulkConfirmOrDeclineBooking(
            pb.BulkConfirmOrDeclineBookingRequest(details=details), metadata=env.metadata
        )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
