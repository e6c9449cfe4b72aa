"""Health checks have worker threads of their own (worker_pool.py): they answer at once even
when every ordinary worker thread waits for a locked database."""

from __future__ import annotations

import contextlib
import threading

import grpc
from conftest import StartServer
from fault.fault_support import harness
from grpc_health.v1 import health_pb2
from test_server_call_deadline import _Seeded, _seeded, _write_locked

WORKERS = 2


def test_health_answers_while_every_worker_waits_for_a_locked_store(
    start_server: StartServer,
) -> None:
    seeded = _seeded(start_server, max_call_seconds=5, max_workers=WORKERS)
    with (
        _write_locked(seeded.sqlite_path) as release,
        harness.stubs(seeded.address, seeded.metadata) as api,
    ):
        waiting = [
            threading.Thread(target=_create_and_ignore_the_answer, args=(api, seeded))
            for _ in range(WORKERS * 2)
        ]
        for thread in waiting:
            thread.start()
        threading.Event().wait(0.5)  # every worker thread is now waiting for the store

        answer = api.health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)

        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        release.set()
        for thread in waiting:
            thread.join(10)


def _create_and_ignore_the_answer(api: harness.Stubs, seeded: _Seeded) -> None:
    # The store stays locked past the deadline: any answer will do.
    with contextlib.suppress(grpc.RpcError):
        api.bookings.CreateBooking(seeded.request, metadata=seeded.metadata, timeout=5)
