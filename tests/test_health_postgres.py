"""Health on a PostgreSQL store that freezes or dies: the bookings services turn NOT_SERVING
within a few seconds, every health check answers within its 1 s deadline throughout, "" stays
SERVING, and the services are SERVING again by themselves once the database is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pg_fixtures import PrivatePostgres, private_postgres

from bookings_server.api.servicers import SERVICE_NAMES
from bookings_server.config import Config
from bookings_server.server import build_server
from bookings_server.serving import DrainControls

pytestmark = pytest.mark.postgres

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
#: What a health check must answer within, whatever the database does.
CHECK_DEADLINE_S = 1.0


@pytest.fixture
def database() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@dataclass
class HealthPoller:
    """Checks every service's health over and over from a thread, recording every answer."""

    channel: grpc.Channel
    answers: list[dict[str, int]] = field(default_factory=list)
    slowest_s: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        stub = health_pb2_grpc.HealthStub(self.channel)
        while not self._stop.is_set():
            answer = {}
            for name in ("", *SERVICE_NAMES):
                started = time.monotonic()
                request = health_pb2.HealthCheckRequest(service=name)
                answer[name] = stub.Check(request, timeout=CHECK_DEADLINE_S).status
                self.slowest_s = max(self.slowest_s, time.monotonic() - started)
            self.answers.append(answer)
            time.sleep(0.05)

    def wait_for(self, status: int, timeout: float = 15) -> float:
        """Seconds until every bookings service answers `status`."""
        started = time.monotonic()
        expected = {"": SERVING, **dict.fromkeys(SERVICE_NAMES, status)}
        while not (self.answers and self.answers[-1] == expected):
            assert self._thread.is_alive(), "a health check failed"
            assert time.monotonic() - started < timeout, f"health stayed {self.answers[-1:]}"
            time.sleep(0.02)
        return time.monotonic() - started

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        assert not self._thread.is_alive()


@pytest.fixture
def poller(database: PrivatePostgres, tmp_path: Path) -> Iterator[HealthPoller]:
    """A server on the private database with its health monitor running, being polled."""
    config = Config(address="127.0.0.1:0", data_dir=tmp_path, database_url=database.url)
    controls = DrainControls()
    server, port = build_server(config, controls=controls)
    server.start()
    controls.monitor.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health = HealthPoller(channel)
        health.wait_for(SERVING)
        yield health
        health.stop()
    controls.draining.set()
    server.stop(grace=None).wait()


def _outage(poller: HealthPoller, down: Callable[[], None], up: Callable[[], None]) -> float:
    """Seconds the services took to notice `down`; asserts they recover after `up`."""
    down()
    try:
        noticed = poller.wait_for(NOT_SERVING)
        time.sleep(1.0)  # several probes while down: the status holds
        assert poller.answers[-1][SERVICE_NAMES[0]] == NOT_SERVING
    finally:
        up()
    poller.wait_for(SERVING)
    return noticed


def test_a_frozen_database_turns_the_services_not_serving_and_back(
    database: PrivatePostgres, poller: HealthPoller
) -> None:
    noticed = _outage(poller, database.freeze, database.thaw)

    assert noticed < 5
    assert poller.slowest_s < CHECK_DEADLINE_S


def test_a_killed_database_turns_the_services_not_serving_and_back_after_a_restart(
    database: PrivatePostgres, poller: HealthPoller
) -> None:
    noticed = _outage(poller, database.kill, database.start)

    assert noticed < 5
    assert poller.slowest_s < CHECK_DEADLINE_S
