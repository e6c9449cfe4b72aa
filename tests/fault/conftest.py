"""Fixtures of the fault suite: its size, its counters, and a seeded in-process server.

BOOKINGS_FAULT_SIZE=small (default, CI: about a minute) or large (`python bench/fault.py
--size large`) scales the number of generated requests and crash cycles.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from bookings_server.config import Config
from bookings_server.server import build_server
from fault.fault_support import COUNTS, FaultSize, SeededServer, harness, seed_ids, selected_size


@pytest.fixture(scope="session")
def fault_size() -> FaultSize:
    return selected_size()


@pytest.fixture(scope="session")
def fault_counts() -> Counter[str]:
    return COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if COUNTS:
        terminalreporter.section("fault suite counts")
        for name, value in sorted(COUNTS.items()):
            terminalreporter.write_line(f"{name:32s} {value:8d}")


@pytest.fixture(scope="module")
def seeded_server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[SeededServer]:
    data_dir = tmp_path_factory.mktemp("fault-server")
    config = Config(address="127.0.0.1:0", data_dir=data_dir)
    shutil.copyfile(sqlite_template, config.sqlite_path)
    server, port = build_server(config)
    server.start()
    address = f"127.0.0.1:{port}"
    metadata = harness.owner_metadata(data_dir)
    try:
        ids = seed_ids(address, metadata)
        yield SeededServer(address, config, metadata, ids)
    finally:
        server.stop(grace=None).wait()


@pytest.fixture
def channel(seeded_server: SeededServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(
        seeded_server.address,
        options=[("grpc.max_send_message_length", 64 * 1024 * 1024)],
    ) as channel:
        yield channel
