"""Running calls that really overlap, against servers in this process or in subprocesses.

`bookings serve --address 127.0.0.1:0` prints "bookings: serving on port N"; its stdout goes to
a file (never a pipe a busy server could fill) that `spawn_server` polls for that line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import grpc

from bookings_server.config import Config

_PORT_LINE = re.compile(r"serving on port (\d+)")
T = TypeVar("T")


@dataclass
class ServerProcess:
    """A `bookings serve` subprocess."""

    process: subprocess.Popen[bytes]
    port: int
    config: Config
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def spawn_server(
    database_url: str, data_dir: Path, name: str, *, timeout: float = 30.0
) -> ServerProcess:
    """Start `bookings serve` on a free port sharing `data_dir` (its JWT secret) and the DB."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "bookings_server.cli.main",
        "serve",
        "--address",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--data-dir",
        str(data_dir),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    config = Config(address="127.0.0.1:0", database_url=database_url, data_dir=data_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _PORT_LINE.search(log_path.read_text(errors="replace"))
        if match:
            return ServerProcess(process, int(match.group(1)), config, log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise RuntimeError(f"server {name} did not start:\n{log_path.read_text(errors='replace')}")


@contextmanager
def server_processes(
    database_url: str, data_dir: Path, count: int
) -> Iterator[list[ServerProcess]]:
    """`count` server processes on different ports sharing one database; stopped at the end."""
    started: list[ServerProcess] = []
    try:
        for index in range(count):
            started.append(spawn_server(database_url, data_dir, f"server-{index}"))
        yield started
    finally:
        for server in started:
            server.stop()


def run_together(
    calls: Sequence[Callable[[], T]], *, timeout: float = 60.0
) -> list[T | BaseException]:
    """Run every call in its own thread, released at once by a barrier; results in order.

    A call that raises yields its exception in its place, so the caller sees every answer.
    """
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("no answer")] * len(calls)

    def worker(index: int, call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # noqa: BLE001 - collected for the caller's assertions
            results[index] = error

    threads = [
        threading.Thread(target=worker, args=(index, call), daemon=True)
        for index, call in enumerate(calls)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def channels(addresses: Sequence[str]) -> list[grpc.Channel]:
    """One channel per address, ready (connected) before the race starts."""
    opened = [grpc.insecure_channel(address) for address in addresses]
    for channel in opened:
        grpc.channel_ready_future(channel).result(timeout=10)
    return opened
