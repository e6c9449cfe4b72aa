"""Each call's deadline reaches the store (api/interceptors/deadline.py): the client's own,
capped by the server's --max-call-seconds, so a locked or hung database costs a call its
deadline, not the store's longer timeouts, and work the client gave up on is never written."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
from bookings.v1 import bookings_service_pb2
from conftest import StartServer
from fault.fault_support import harness
from google.rpc import error_details_pb2
from grpc_status import rpc_status


def _reason(error: grpc.RpcError) -> str:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return str(info.reason)
    return ""


@contextmanager
def _write_locked(path: Path) -> Iterator[threading.Event]:
    """Hold SQLite's write lock from another connection (as another process would) until
    the yielded event is set or the block ends."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Event()

    def release_when_told() -> None:
        release.wait(30)
        holder.rollback()
        holder.close()

    thread = threading.Thread(target=release_when_told)
    thread.start()
    try:
        yield release
    finally:
        release.set()
        thread.join()


@dataclass(frozen=True)
class _Seeded:
    address: str
    metadata: harness.Metadata
    request: bookings_service_pb2.CreateBookingRequest
    sqlite_path: Path


def _seeded(start_server: StartServer, max_call_seconds: float, max_workers: int = 16) -> _Seeded:
    """A server on SQLite with one class session, and a CreateBooking request for it."""
    server = start_server(max_call_seconds=max_call_seconds, max_workers=max_workers)
    metadata = harness.owner_metadata(server.config.data_dir)
    with harness.stubs(server.address, metadata) as api:
        catalog = harness.seed_catalog(api, staff=1, sessions=1, class_capacity=5)
    request = harness.create_booking_request(
        catalog.session_ids[0], catalog.class_service_id, "deadline-1"
    )
    return _Seeded(server.address, metadata, request, server.config.sqlite_path)


def test_a_call_without_a_deadline_waits_for_a_locked_store_at_most_max_call_seconds(
    start_server: StartServer,
) -> None:
    seeded = _seeded(start_server, max_call_seconds=0.5)
    with _write_locked(seeded.sqlite_path), harness.stubs(seeded.address, seeded.metadata) as api:
        started = time.monotonic()
        try:
            api.bookings.CreateBooking(seeded.request, metadata=seeded.metadata)
        except grpc.RpcError as error:
            elapsed = time.monotonic() - started
            assert error.code() is grpc.StatusCode.UNAVAILABLE
            assert _reason(error) == "STORE_BUSY"
        else:
            raise AssertionError("the call succeeded against a locked store")
    assert elapsed < 1.5  # not the 5 s busy_timeout


def test_a_create_the_client_gave_up_on_is_not_written_when_the_store_frees_up(
    start_server: StartServer,
) -> None:
    seeded = _seeded(start_server, max_call_seconds=30)
    with (
        _write_locked(seeded.sqlite_path) as release,
        harness.stubs(seeded.address, seeded.metadata) as api,
    ):
        try:
            api.bookings.CreateBooking(seeded.request, metadata=seeded.metadata, timeout=0.5)
        except grpc.RpcError as error:
            # Whichever ends first: the client's deadline, or the server's busy answer
            # timed by the same deadline.
            assert error.code() in {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE}
            if error.code() is grpc.StatusCode.UNAVAILABLE:
                assert _reason(error) == "STORE_BUSY"
        else:
            raise AssertionError("the call succeeded against a locked store")
        time.sleep(0.5)
        release.set()  # the store is free again within busy_timeout (5 s)
        time.sleep(1.0)
        assert harness.all_bookings(api) == []
