"""Errors stay small enough for any gRPC client (SPEC section 8, RELIABILITY.md promise 6).

gRPC clients refuse trailers above 16 KiB (and randomly above 8 KiB) with RESOURCE_EXHAUSTED,
so an error that echoed a huge id or listed hundreds of violations would reach the client as
the wrong status. Messages, metadata and violations are clipped where statuses are built.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from booking_helpers import Client, class_booking, failure
from bookings.v1 import booking_pb2
from conftest import AuthMetadata, StartServer


@pytest.fixture
def client(start_server: StartServer, auth_metadata: AuthMetadata) -> Iterator[Client]:
    server = start_server()
    with grpc.insecure_channel(server.address) as channel:
        yield Client(channel, auth_metadata(server))


@pytest.mark.parametrize("character", ["x", "\N{GRINNING FACE}"])
def test_an_error_echoing_a_huge_id_keeps_its_status(client: Client, character: str) -> None:
    error = failure(lambda: client.get(character * 20_000))

    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")


def test_an_error_with_a_hundred_violations_keeps_its_status(client: Client) -> None:
    booking = class_booking("session", "service")
    booking.ClearField("total_participants")
    for _ in range(50):
        group = booking.participants_choices.service_choices.add(number_of_participants=0)
        group.choices.extend(booking_pb2.ServiceChoice() for _ in range(21))

    error = failure(lambda: client.create(booking))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.fields, "the first violations are still reported"


def test_an_error_naming_a_huge_field_path_keeps_its_status(client: Client) -> None:
    booking = class_booking("session", "service")
    booking.extended_fields["k" * 20_000].update({"value": float("inf")})

    error = failure(lambda: client.create(booking))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
