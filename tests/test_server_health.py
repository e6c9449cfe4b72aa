"""The standard health service answers for the whole server and for each bookings service, and
tells the truth: the bookings services follow a background probe of the store, the outbox
worker's name follows its progress, "" stays SERVING until the drain, and the drain wins."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from server_process import BOOKINGS, ServerProcess

from bookings_server.api.servicers import SERVICE_NAMES
from bookings_server.app.clock import utc_now
from bookings_server.app.outbox_delivery import OutboxWorker, WorkerSettings, WorkerThread
from bookings_server.config import Config
from bookings_server.domain.outbox import OutboxItem, OutboxKind, OutboxMessage
from bookings_server.server import build_server
from bookings_server.serving import DrainControls, drain
from bookings_server.serving_health import OUTBOX_SERVICE, HealthMonitor
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.mark.parametrize("service", ["", *SERVICE_NAMES])
def test_health_answers_serving_without_a_token(grpc_channel: grpc.Channel, service: str) -> None:
    response = health_pb2_grpc.HealthStub(grpc_channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )

    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("service", ["no.such.Service", OUTBOX_SERVICE])
def test_health_of_a_service_this_process_does_not_run_is_not_found(
    grpc_channel: grpc.Channel, service: str
) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        health_pb2_grpc.HealthStub(grpc_channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


# ---- the monitor ------------------------------------------------------------------------------


def test_one_failed_check_is_not_an_outage_two_in_a_row_are_and_one_good_one_ends_it() -> None:
    servicer = health.HealthServicer()
    monitor = HealthMonitor(servicer, threading.Event())
    answers = iter(["slow", None, "slow", "down", "down", None])
    monitor.watch(("bookings.v1.BookingsService",), lambda: next(answers))
    request = health_pb2.HealthCheckRequest(service="bookings.v1.BookingsService")

    seen = []
    for _ in range(6):
        monitor.check_now()
        seen.append(servicer.Check(request, None).status)

    assert seen == [SERVING, SERVING, SERVING, NOT_SERVING, NOT_SERVING, SERVING]


# ---- a server whose health monitor runs ------------------------------------------------------


@dataclass
class Monitored:
    """A started server with its health monitor running (as `bookings serve` has)."""

    server: grpc.Server
    controls: DrainControls
    config: Config
    channel: grpc.Channel

    def status(self, service: str) -> int:
        """The status a health check answers, within its 1 s deadline."""
        response = health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=1
        )
        return int(response.status)

    def statuses(self) -> dict[str, int]:
        return {name: self.status(name) for name in ("", *SERVICE_NAMES)}

    def wait_for(self, expected: dict[str, int], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (seen := {name: self.status(name) for name in expected}) != expected:
            assert time.monotonic() < deadline, f"health stayed {seen}"
            time.sleep(0.02)


@pytest.fixture
def monitored(tmp_path: Path, sqlite_template: Path) -> Iterator[Monitored]:
    config = Config(
        address="127.0.0.1:0",
        data_dir=tmp_path / "data",
        health_probe_interval=0.05,
        health_probe_timeout=0.3,
    )
    config.sqlite_path.parent.mkdir(parents=True)
    shutil.copyfile(sqlite_template, config.sqlite_path)
    controls = DrainControls()
    server, port = build_server(config, controls=controls)
    server.start()
    controls.monitor.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield Monitored(server, controls, config, channel)
    controls.draining.set()
    server.stop(grace=None).wait()


def all_bookings_services(status: int) -> dict[str, int]:
    return dict.fromkeys(SERVICE_NAMES, status)


def test_the_bookings_services_turn_not_serving_while_the_store_is_gone_and_back_after(
    monitored: Monitored,
) -> None:
    database = monitored.config.sqlite_path
    away = database.with_name("moved-away.sqlite3")

    database.rename(away)
    try:
        monitored.wait_for(all_bookings_services(NOT_SERVING))
        outage = monitored.statuses()
    finally:
        away.rename(database)
    monitored.wait_for(all_bookings_services(SERVING))

    assert outage == {"": SERVING, **all_bookings_services(NOT_SERVING)}


def test_a_store_held_locked_by_another_process_turns_the_services_not_serving(
    monitored: Monitored,
) -> None:
    """The probe's busy timeout is the probe timeout: a lock never stalls health."""
    holder = sqlite3.connect(monitored.config.sqlite_path, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        monitored.wait_for(all_bookings_services(NOT_SERVING))
        held = monitored.status("")
    finally:
        holder.close()
    monitored.wait_for(all_bookings_services(SERVING))

    assert held == SERVING


def test_a_draining_server_stays_not_serving_whatever_the_probe_finds(
    monitored: Monitored,
) -> None:
    stub = health_pb2_grpc.HealthStub(monitored.channel)
    watches = {
        name: stub.Watch(health_pb2.HealthCheckRequest(service=name), timeout=20)
        for name in ("", *SERVICE_NAMES)
    }
    seen: dict[str, list[int]] = {name: [] for name in watches}
    readers = [
        threading.Thread(target=_read_statuses, args=(watch, seen[name]))
        for name, watch in watches.items()
    ]
    for reader in readers:
        reader.start()
    monitored.wait_for(all_bookings_services(SERVING))

    # The health Watch streams hold the drain for its whole grace period: 20 probe intervals.
    drain(monitored.server, monitored.controls, grace=1.0)
    for reader in readers:
        reader.join(10)

    assert {name: statuses[-1] for name, statuses in seen.items()} == dict.fromkeys(
        watches, NOT_SERVING
    )
    assert all(statuses.count(NOT_SERVING) == 1 for statuses in seen.values())


def _read_statuses(watch: Iterable[health_pb2.HealthCheckResponse], into: list[int]) -> None:
    try:
        for response in watch:
            into.append(response.status)
    except grpc.RpcError:
        pass  # the stream ends when the drained server stops


# ---- the outbox worker -----------------------------------------------------------------------


class HeldSender:
    """Blocks in `send` until released: a worker stuck on a receiver that never answers."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def send(self, item: OutboxItem) -> None:
        self.entered.set()
        self.release.wait(30)


def _enqueue_one_delivery(database: Database) -> None:
    """A booking event in the outbox, as the store writes one."""
    with SqlUnitOfWork(database).write("site-a") as tx:
        tx.outbox.enqueue(OutboxMessage(OutboxKind.BOOKING_EVENT, "b-1", utc_now()), utc_now())


@pytest.fixture
def database(monitored: Monitored) -> Iterator[Database]:
    opened = Database.from_url(monitored.config.effective_database_url)
    yield opened
    opened.dispose()


def test_the_outbox_health_turns_not_serving_while_the_worker_is_stuck(
    monitored: Monitored, database: Database
) -> None:
    sender = HeldSender()
    settings = WorkerSettings(poll_interval=0.02, stall_after=timedelta(milliseconds=300))
    worker = WorkerThread(
        OutboxWorker(SqlUnitOfWork(database), sender, settings), settings.stall_after
    )
    worker.start()
    monitored.controls.monitor.watch((OUTBOX_SERVICE,), worker.problem)
    try:
        first = monitored.status(OUTBOX_SERVICE)
        _enqueue_one_delivery(database)
        assert sender.entered.wait(20)
        monitored.wait_for({OUTBOX_SERVICE: NOT_SERVING, "": SERVING})
        sender.release.set()
        monitored.wait_for({OUTBOX_SERVICE: SERVING})
    finally:
        sender.release.set()
        worker.stop()

    assert first == SERVING


def test_bookings_serve_run_worker_reports_its_outbox_worker(tmp_path: Path) -> None:
    process = ServerProcess(
        [BOOKINGS, "serve", "--address", "127.0.0.1:0", "--data-dir", str(tmp_path), "--run-worker"]
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{process.port()}") as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=OUTBOX_SERVICE), timeout=5
            )
        process.send(signal.SIGTERM)
        assert process.wait() == 0
    finally:
        process.stop()

    assert response.status == SERVING
