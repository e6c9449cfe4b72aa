"""`bookings serve --metrics-address`: its endpoint, and one metrics port per process.

Several processes sharing a gRPC port (--reuse-port) each count the calls they serve on their
own endpoint; Prometheus scrapes each and adds them up. Two processes cannot share a metrics
address: the second refuses to start.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from metrics_scrape import Scrape, scrape_when
from server_process import ServerProcess, bookings_serve

_METRICS_URL = re.compile(r"metrics on (http://\S+)")
HEALTH_CHECK = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check"}


@pytest.fixture
def processes() -> Iterator[list[ServerProcess]]:
    """Server processes started by the test; each is stopped (SIGTERM) at the end."""
    started: list[ServerProcess] = []
    yield started
    for process in started:
        if process.process.poll() is None:
            process.send(signal.SIGTERM)
        process.stop()


def serve(
    processes: list[ServerProcess], data_dir: Path, *flags: str, **kwargs: object
) -> ServerProcess:
    process = bookings_serve(data_dir, *flags, **kwargs)  # type: ignore[arg-type]
    processes.append(process)
    return process


def metrics_url(process: ServerProcess) -> str:
    line = process.wait_for_stdout(lambda text: _METRICS_URL.search(text) is not None)
    match = _METRICS_URL.search(line)
    assert match is not None
    return match.group(1)


def health_checks(port: int, count: int) -> None:
    """`count` checks, each on a connection of its own (SO_REUSEPORT balances connections)."""
    for _ in range(count):
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def checks_counted(result: Scrape) -> tuple[float, float]:
    """(started, handled OK) Health/Check calls."""
    started = result.total("grpc_server_started_total", **HEALTH_CHECK)
    handled = result.total("grpc_server_handled_total", **HEALTH_CHECK, grpc_code="OK")
    return started, handled


def test_serve_with_a_metrics_address_serves_prometheus_text_at_metrics(
    tmp_path: Path, processes: list[ServerProcess]
) -> None:
    server = serve(processes, tmp_path / "data", "--metrics-address", "127.0.0.1:0")
    port, url = server.port(), metrics_url(server)

    health_checks(port, 2)

    result = scrape_when(url, lambda now: checks_counted(now) == (2, 2))
    assert url.endswith("/metrics")
    assert checks_counted(result) == (2, 2)
    labels = {"grpc_type": "unary", **HEALTH_CHECK}
    assert result.value("grpc_server_handling_seconds_count", **labels) == 2


def test_processes_sharing_a_port_each_count_the_calls_they_served(
    tmp_path: Path, processes: list[ServerProcess]
) -> None:
    data = tmp_path / "data"
    first = serve(processes, data, "--reuse-port", "--metrics-address", "127.0.0.1:0")
    port = first.port()
    second = serve(
        processes,
        data,
        "--reuse-port",
        "--metrics-address",
        "127.0.0.1:0",
        address=f"127.0.0.1:{port}",
    )
    assert second.port() == port
    urls = [metrics_url(first), metrics_url(second)]

    health_checks(port, 40)

    counted = [
        checks_counted(scrape_when(url, lambda now: len(set(checks_counted(now))) == 1))
        for url in urls
    ]
    assert sum(started for started, _ in counted) == 40
    assert all(started == handled > 0 for started, handled in counted)  # both served some


def test_a_second_process_on_a_taken_metrics_address_refuses_to_start(
    tmp_path: Path, processes: list[ServerProcess]
) -> None:
    first = serve(processes, tmp_path / "one", "--metrics-address", "127.0.0.1:0")
    taken = metrics_url(first).removeprefix("http://").removesuffix("/metrics")

    second = serve(processes, tmp_path / "two", env={"BOOKINGS_METRICS_ADDRESS": taken})

    assert second.wait() == 1
    assert f"bookings: cannot serve metrics on {taken}: the address is already in use" in "".join(
        second.stderr
    )
