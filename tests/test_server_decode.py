"""Request bytes that are not a valid message answer INVALID_ARGUMENT, never INTERNAL."""

from __future__ import annotations

import grpc
import pytest
from conftest import AuthMetadata, RunningServer
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2
from grpc_status import rpc_status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings_server.api.auth.scopes import services_named
from bookings_server.api.servicers import SERVICE_NAMES

#: Truncated length-delimited field 1: never a valid message of any type.
CORRUPT = b"\x0a\x05ab"

BOOKINGS_METHODS = [
    f"/{service.full_name}/{method.name}"
    for service in services_named(SERVICE_NAMES)
    for method in service.methods
]


def _call_raw(
    server: RunningServer, method: str, body: bytes, metadata: list[tuple[str, str]]
) -> grpc.RpcError | None:
    """Send `body` as the request bytes (no serializer); the call's error, or None if OK."""
    with grpc.insecure_channel(server.address) as channel:
        try:
            if method.endswith("/WatchBookingEvents"):
                next(iter(channel.unary_stream(method)(body, metadata=metadata, timeout=1)))
            else:
                channel.unary_unary(method)(body, metadata=metadata, timeout=5)
        except grpc.RpcError as error:
            return error
        except StopIteration:
            pass
        return None


@pytest.mark.parametrize("method", BOOKINGS_METHODS)
def test_corrupt_request_bytes_are_invalid_argument_with_error_info(
    grpc_server: RunningServer, auth_metadata: AuthMetadata, method: str
) -> None:
    error = _call_raw(grpc_server, method, CORRUPT, auth_metadata(grpc_server))

    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert (info.reason, info.domain) == ("MALFORMED_REQUEST", "bookings.v1")


def test_corrupt_request_bytes_without_a_token_are_still_invalid_argument(
    grpc_server: RunningServer,
) -> None:
    error = _call_raw(grpc_server, "/bookings.v1.BookingsService/GetBooking", CORRUPT, [])

    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_corrupt_health_check_is_invalid_argument_and_a_valid_one_is_served(
    grpc_server: RunningServer,
) -> None:
    error = _call_raw(grpc_server, "/grpc.health.v1.Health/Check", CORRUPT, [])
    valid = health_pb2.HealthCheckRequest(service="").SerializeToString()

    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _call_raw(grpc_server, "/grpc.health.v1.Health/Check", valid, []) is None


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(method=st.sampled_from(BOOKINGS_METHODS), body=st.binary(max_size=64))
def test_random_request_bytes_never_produce_internal_or_unknown(
    grpc_server: RunningServer, auth_metadata: AuthMetadata, method: str, body: bytes
) -> None:
    error = _call_raw(grpc_server, method, body, auth_metadata(grpc_server))

    assert error is None or error.code() not in (
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    ), (error.code(), error.details())


def _with_nul_in_first_string(descriptor: Descriptor) -> tuple[bytes, str]:
    """A request of `descriptor` whose first (depth-first) string field holds a NUL."""
    request = message_factory.GetMessageClass(descriptor)()
    message, path = request, ""
    while True:
        fields = [f for f in message.DESCRIPTOR.fields if not f.is_repeated]
        text = next((f for f in fields if f.type == f.TYPE_STRING), None)
        if text is not None:
            setattr(message, text.name, "a\x00b")
            return request.SerializeToString(), f"{path}{text.name}"
        nested = next(
            f
            for f in message.DESCRIPTOR.fields
            if f.type == f.TYPE_MESSAGE and not f.message_type.GetOptions().map_entry
        )
        if nested.is_repeated:  # a bulk request: the first item's first string
            path = f"{path}{nested.name}[0]."
            message = getattr(message, nested.name).add()
        else:
            path = f"{path}{nested.name}."
            message = getattr(message, nested.name)


@pytest.mark.parametrize("method", BOOKINGS_METHODS)
def test_nul_characters_in_any_request_text_are_invalid_argument_naming_the_field(
    grpc_server: RunningServer, auth_metadata: AuthMetadata, method: str
) -> None:
    service_name, method_name = method.strip("/").split("/")
    descriptor = (
        next(s for s in services_named(SERVICE_NAMES) if s.full_name == service_name)
        .methods_by_name[method_name]
        .input_type
    )
    body, field = _with_nul_in_first_string(descriptor)

    error = _call_raw(grpc_server, method, body, auth_metadata(grpc_server))

    assert error is not None
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(error)
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert any(detail.Unpack(bad_request) for detail in status.details)
    assert [v.field for v in bad_request.field_violations] == [field]
