"""Shared fixtures: real servers from build_server on port 0.

pytest-grpc's `grpc_server` and `grpc_addr` are overridden so its `grpc_channel` and
`grpc_stub` fixtures talk to the real server (its own `grpc_addr` leaks a socket).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from bookings_server.config import Config
from bookings_server.server import build_server


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    config: Config

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


StartServer = Callable[..., RunningServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Start real servers on port 0; every one started is stopped at the end of the test."""
    started: list[RunningServer] = []

    def start(**overrides: Any) -> RunningServer:
        config = replace(Config(address="127.0.0.1:0", data_dir=tmp_path / "data"), **overrides)
        server, port = build_server(config)
        server.start()
        running = RunningServer(server, port, config)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop(grace=None).wait()


@pytest.fixture
def grpc_server(start_server: StartServer) -> RunningServer:
    return start_server()


@pytest.fixture
def grpc_addr(grpc_server: RunningServer) -> str:
    return grpc_server.address


@pytest.fixture
def grpc_channel(grpc_addr: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(grpc_addr) as channel:
        yield channel
