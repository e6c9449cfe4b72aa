"""`bookings serve --processes N`: N servers on one port under a parent that stops them all.

Each test runs a real `bookings serve` and its children. The access log says which process
served a call: with several processes every log line carries its `pid`.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from metrics_scrape import scrape_when
from server_process import ServerProcess, bookings_serve

from bookings_server.cli.main import build_parser
from bookings_server.cli.shared_port import metrics_address_of

_GROUP = re.compile(r"bookings: (\d+) server processes on (\S+): ([\d ]+)$")
_METRICS_URL = re.compile(r"metrics on (http://\S+)")
HEALTH_CHECK = {"grpc_service": "grpc.health.v1.Health", "grpc_method": "Check"}
FAST_DRAIN = ("--grace-period", "1")


@pytest.fixture
def parents() -> Iterator[list[ServerProcess]]:
    """Parents started by the test; stopped at the end (their children follow them)."""
    started: list[ServerProcess] = []
    yield started
    for parent in started:
        if parent.process.poll() is None:
            parent.send(signal.SIGTERM)
            try:
                parent.wait(timeout=20)
            except subprocess.TimeoutExpired:
                parent.stop()


def serve_group(
    parents: list[ServerProcess], data_dir: Path, *flags: str, address: str
) -> tuple[ServerProcess, list[int], int]:
    """A started `--processes` parent, its children's pids once all serve, and the port."""
    parent = bookings_serve(data_dir, *FAST_DRAIN, *flags, address=address)
    parents.append(parent)
    line = parent.wait_for_stdout(lambda text: _GROUP.search(text) is not None, timeout=60)
    match = _GROUP.search(line.strip())
    assert match is not None
    children = [int(pid) for pid in match.group(3).split()]
    assert len(children) == int(match.group(1))
    deadline = time.monotonic() + 60
    while sum("serving on port" in text for text in parent.stdout) < len(children):
        assert time.monotonic() < deadline, "".join(parent.stderr)
        assert parent.process.poll() is None, "".join(parent.stderr)
        time.sleep(0.05)
    return parent, children, int(match.group(2).rsplit(":", 1)[1])


def free_port() -> int:
    """A port nothing listens on now (port 0 is not one port several processes can share)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def health_checks(port: int, count: int) -> None:
    """`count` checks, each on a connection of its own (SO_REUSEPORT spreads connections)."""
    for _ in range(count):
        options = [("grpc.use_local_subchannel_pool", 1)]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=10
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING


def pids_serving_checks(parent: ServerProcess, count: int) -> list[int]:
    """The `pid` of each access-log line of a Health/Check, once `count` are written."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(text) for text in list(parent.stderr) if text.startswith("{")]
        pids = [
            line["pid"]
            for line in lines
            if line["logger"] == "bookings.access"
            and line["method"] == "/grpc.health.v1.Health/Check"
        ]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.02)


def parent_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1])


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists()


def test_two_processes_share_the_port_both_serve_calls_and_sigterm_stops_them_all(
    tmp_path: Path, parents: list[ServerProcess]
) -> None:
    port = free_port()
    parent, children, served_port = serve_group(
        parents,
        tmp_path / "data",
        "--processes",
        "2",
        "--metrics-address",
        "127.0.0.1:0",
        address=f"127.0.0.1:{port}",
    )
    assert served_port == port
    assert [parent_of(child) for child in children] == [parent.process.pid] * 2

    health_checks(port, 40)

    pids = pids_serving_checks(parent, 40)
    assert len(pids) == 40
    assert set(pids) == set(children)  # each child served some
    urls = sorted({m.group(1) for t in parent.stdout if (m := _METRICS_URL.search(t))})
    assert len(urls) == 2  # one metrics port per process
    started = [
        scrape_when(url, lambda now: now.total("grpc_server_started_total", **HEALTH_CHECK) > 0)
        for url in urls
    ]
    assert sum(s.total("grpc_server_started_total", **HEALTH_CHECK) for s in started) == 40
    assert "".join(parent.stdout).count("owner token") == 1

    began = time.monotonic()
    parent.send(signal.SIGTERM)

    assert parent.wait(timeout=20) == 0
    assert time.monotonic() - began < 10
    assert all(gone(child) for child in children)


def test_a_child_that_dies_makes_the_parent_stop_the_others_and_exit_non_zero(
    tmp_path: Path, parents: list[ServerProcess]
) -> None:
    parent, children, port = serve_group(
        parents, tmp_path / "data", "--processes", "2", address="127.0.0.1:0"
    )
    assert port != 0  # the parent settled port 0 on one port for both

    subprocess.run(["kill", "-KILL", str(children[0])], check=True)

    assert parent.wait(timeout=20) == 1
    assert gone(children[1])
    stderr = "".join(parent.stderr)
    assert "a server process exited; stopping the others" in stderr
    assert f'"child_pid": {children[0]}, "exit_code": -9' in stderr


def test_children_whose_parent_was_killed_drain_and_exit(
    tmp_path: Path, parents: list[ServerProcess]
) -> None:
    parent, children, _ = serve_group(
        parents, tmp_path / "data", "--processes", "2", address="127.0.0.1:0"
    )

    parent.stop()  # SIGKILL: no chance to stop its children

    deadline = time.monotonic() + 15
    while not all(gone(child) for child in children):
        assert time.monotonic() < deadline, "a child outlived its parent"
        time.sleep(0.1)


def test_several_processes_refuse_a_port_another_program_listens_on(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"

        parent = bookings_serve(tmp_path / "data", "--processes", "2", address=address)

        assert parent.wait() == 1
    stderr = "".join(parent.stderr)
    assert f"bookings: cannot listen on {address}: the address is already in use" in stderr
    assert "server processes started" not in stderr


def test_several_processes_are_refused_where_so_reuseport_does_not_exist(tmp_path: Path) -> None:
    without_reuseport = (
        "import socket, sys; del socket.SO_REUSEPORT; "
        "from bookings_server.cli.main import main; sys.exit(main(sys.argv[1:]))"
    )
    where = ["--data-dir", str(tmp_path / "data"), "--address", "127.0.0.1:0"]
    result = subprocess.run(
        [sys.executable, "-c", without_reuseport, "serve", "--processes", "2", *where],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "--processes above 1 needs SO_REUSEPORT" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the store


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_processes_must_be_a_whole_number_of_at_least_one(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["serve", "--processes", value])
    assert exited.value.code == 2
    assert "--processes" in capsys.readouterr().err


def test_processes_default_to_one_and_read_their_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert build_parser().parse_args(["serve"]).processes == 1
    monkeypatch.setenv("BOOKINGS_PROCESSES", "4")
    assert build_parser().parse_args(["serve"]).processes == 4
    assert build_parser().parse_args(["serve", "--processes", "2"]).processes == 2


def test_each_process_gets_its_own_metrics_port_counting_up_from_the_given_one() -> None:
    assert [metrics_address_of("0.0.0.0:9464", index) for index in range(3)] == [
        "0.0.0.0:9464",
        "0.0.0.0:9465",
        "0.0.0.0:9466",
    ]
    assert metrics_address_of("127.0.0.1:0", 2) == "127.0.0.1:0"  # each picks a free one
    assert metrics_address_of(None, 1) is None
