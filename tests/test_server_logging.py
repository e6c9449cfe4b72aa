"""One structured access-log line per call: method, code, duration, call id, peer; no secrets."""

from __future__ import annotations

import json
import logging
import time

import grpc
import pytest
from conftest import AuthMetadata, RunningServer
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bookings_server.logs import JsonFormatter


def _access_records(caplog: pytest.LogCaptureFixture, count: int) -> list[logging.LogRecord]:
    """The access records, once `count` have arrived (they are written as calls terminate)."""
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in caplog.records if r.name == "bookings.access"]
        if len(records) >= count or time.monotonic() > deadline:
            return records
        time.sleep(0.01)


def test_every_call_is_logged_once_with_method_code_duration_call_id_and_peer(
    grpc_server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bookings.access")
    with grpc.insecure_channel(grpc_server.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        stub.Check(health_pb2.HealthCheckRequest(), timeout=5)
        stub.Check(health_pb2.HealthCheckRequest(), timeout=5)

    first, second = _access_records(caplog, 2)

    for record in (first, second):
        assert record.method == "/grpc.health.v1.Health/Check"  # type: ignore[attr-defined]
        assert record.code == "OK"  # type: ignore[attr-defined]
        assert record.duration_ms >= 0  # type: ignore[attr-defined]
        assert record.peer.startswith("ipv4:127.0.0.1:")  # type: ignore[attr-defined]
    assert first.call_id != second.call_id  # type: ignore[attr-defined]


def test_failed_calls_are_logged_with_their_status_code_and_never_the_token(
    grpc_server: RunningServer, auth_metadata: AuthMetadata, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    metadata = auth_metadata(grpc_server)
    token = metadata[0][1].removeprefix("Bearer ")
    with grpc.insecure_channel(grpc_server.address) as channel:
        get_booking = channel.unary_unary("/bookings.v1.BookingsService/GetBooking")
        with pytest.raises(grpc.RpcError) as unauthenticated:
            get_booking(b"", metadata=[("authorization", "Bearer not-a-jwt")], timeout=5)
        with pytest.raises(grpc.RpcError) as unknown:
            channel.unary_unary("/no.such.Service/Nothing")(b"", metadata=metadata, timeout=5)

    records = _access_records(caplog, 2)

    assert unauthenticated.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert unknown.value.code() == grpc.StatusCode.UNIMPLEMENTED
    codes = {record.method: record.code for record in records}  # type: ignore[attr-defined]
    assert codes == {
        "/bookings.v1.BookingsService/GetBooking": "UNAUTHENTICATED",
        "/no.such.Service/Nothing": "UNIMPLEMENTED",
    }
    formatted = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert token not in formatted
    assert "not-a-jwt" not in formatted


def test_a_record_is_formatted_as_one_json_line_with_its_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "bookings.access", "levelname": "INFO", "msg": "rpc", "code": "OK"}
    )

    line = JsonFormatter().format(record)

    assert "\n" not in line
    entry = json.loads(line)
    assert entry["logger"] == "bookings.access"
    assert entry["message"] == "rpc"
    assert entry["code"] == "OK"
    assert entry["level"] == "INFO"
    assert entry["ts"].endswith("+00:00")
