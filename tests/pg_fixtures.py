"""A private PostgreSQL server that a test may freeze, kill and restart.

The session's shared server (conftest.py `postgres_server`) must stay up for every other
test, so fault tests get their own, started with the same script on a free port:
`with private_postgres() as server:` (or a fixture around it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = str(Path(__file__).resolve().parent.parent / "scripts" / "pg_test_server.sh")


@dataclass(frozen=True)
class PrivatePostgres:
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        started = subprocess.run(
            [SCRIPT, "start", str(self.directory), str(self.port)],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            pytest.fail(f"could not start PostgreSQL:\n{started.stderr}")

    def kill(self) -> None:
        """Stop the server at once (`pg_ctl stop -m immediate`: no shutdown checkpoint)."""
        subprocess.run([SCRIPT, "stop", str(self.directory)], capture_output=True, check=False)

    def freeze(self) -> None:
        """SIGSTOP the postmaster and every backend: connections stay open, nothing answers."""
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def _signal(self, signum: signal.Signals) -> None:
        for pid in self._processes():
            os.kill(pid, signum)

    def _processes(self) -> list[int]:
        """The postmaster and its children (backends, background workers)."""
        pid_file = self.directory / "data" / "postmaster.pid"
        postmaster = int(pid_file.read_text().split()[0])
        return [postmaster, *_children(postmaster)]


def _children(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            children.append(int(entry.name))
    return children


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh PostgreSQL server of the caller's own; thawed and stopped at the end."""
    shm = Path("/dev/shm")  # in memory when available, as the shared server
    directory = Path(
        tempfile.mkdtemp(prefix="bookings-pg-private-", dir=shm if shm.is_dir() else None)
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = PrivatePostgres(directory, port)
    server.start()
    try:
        yield server
    finally:
        if (directory / "data" / "postmaster.pid").exists():
            server.thaw()
        server.kill()
        shutil.rmtree(directory, ignore_errors=True)
