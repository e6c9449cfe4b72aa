"""An unexpected exception in any handler answers INTERNAL with a generic message and a call id;
the traceback is logged under that call id and never reaches the client."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import grpc
import pytest
from bookings.v1 import bookings_service_pb2, bookings_service_pb2_grpc
from conftest import AuthMetadata, RunningServer
from google.rpc import error_details_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from bookings_server.store.database import Database

_LEAK = "/srv/secret/path SELECT * FROM bookings"


@contextmanager
def _broken_read(self: Database) -> Iterator[None]:
    raise RuntimeError(_LEAK)
    yield  # pragma: no cover - makes this a generator


def _records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    """The records of `logger`, once there is one (access lines come as calls terminate)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [r for r in caplog.records if r.name == logger]
        if found:
            return found
        time.sleep(0.01)
    return []


def test_an_unexpected_exception_is_internal_with_a_call_id_and_its_traceback_is_logged(
    grpc_server: RunningServer,
    auth_metadata: AuthMetadata,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(Database, "read", _broken_read)
    with grpc.insecure_channel(grpc_server.address) as channel:
        stub = bookings_service_pb2_grpc.BookingsServiceStub(channel)
        with pytest.raises(grpc.RpcError) as raised:
            stub.GetBooking(
                bookings_service_pb2.GetBookingRequest(booking_id="b-1"),
                metadata=auth_metadata(grpc_server),
                timeout=5,
            )

    error = raised.value
    assert error.code() is grpc.StatusCode.INTERNAL
    assert _LEAK not in error.details() and "RuntimeError" not in error.details()
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    status.details[0].Unpack(info)
    call_id = info.metadata["call_id"]
    assert call_id in error.details()
    (logged,) = _records(caplog, "bookings.errors")
    assert logged.exc_info is not None and _LEAK in str(logged.exc_info[1])
    assert logged.call_id == call_id  # type: ignore[attr-defined]
    (access,) = _records(caplog, "bookings.access")
    assert access.call_id == call_id  # type: ignore[attr-defined]
    assert access.code == "INTERNAL"  # type: ignore[attr-defined]


def test_a_stream_the_client_cancels_is_not_logged_as_an_internal_error(
    grpc_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Like `buf curl --list-methods | head -1`: the client leaves while the server reads."""
    caplog.set_level(logging.INFO)
    with grpc.insecure_channel(grpc_server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        call = stub.ServerReflectionInfo(iter([request]), wait_for_ready=True)
        next(call)
        call.cancel()

    assert _records(caplog, "bookings.errors") == []
