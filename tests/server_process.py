"""A server in a child process (`bookings serve` or a script), for signal and CLI tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

#: The `bookings` console script of the interpreter running the tests.
BOOKINGS = str(Path(sys.executable).with_name("bookings"))
_SERVING = re.compile(r"serving on port (\d+)")


class ServerProcess:
    """A child process whose stdout and stderr lines are collected as they arrive."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers = [
            threading.Thread(target=_collect, args=(self.process.stdout, self.stdout), daemon=True),
            threading.Thread(target=_collect, args=(self.process.stderr, self.stderr), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def wait_for_stdout(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """The first stdout line matching `predicate`; fails if the process exits first."""
        return self._wait_for(self.stdout, predicate, timeout)

    def wait_for_stderr(self, predicate: Callable[[str], bool], timeout: float = 20.0) -> str:
        """The first stderr line matching `predicate`; fails if the process exits first."""
        return self._wait_for(self.stderr, predicate, timeout)

    def _wait_for(self, lines: list[str], predicate: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(lines):
                if predicate(line):
                    return line
            if self.process.poll() is not None and not self._reading():
                break
            time.sleep(0.02)
        raise AssertionError(
            f"no such line; exit {self.process.poll()}\n"
            f"stdout: {''.join(self.stdout)}\nstderr: {''.join(self.stderr)}"
        )

    def port(self) -> int:
        """The port from the "serving on port N" line."""
        line = self.wait_for_stdout(lambda text: _SERVING.search(text) is not None)
        match = _SERVING.search(line)
        assert match is not None
        return int(match.group(1))

    def send(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)

    def wait(self, timeout: float = 20.0) -> int:
        """Exit code; the output readers have finished when this returns."""
        code = self.process.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.wait()

    def _reading(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)


def bookings_serve(
    data_dir: Path,
    *flags: str,
    address: str = "127.0.0.1:0",
    env: dict[str, str] | None = None,
) -> ServerProcess:
    """`bookings serve` (by default on a free port) with its own data directory."""
    return ServerProcess(
        [BOOKINGS, "serve", "--address", address, "--data-dir", str(data_dir), *flags], env=env
    )


def _collect(stream: object, lines: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        lines.append(line)
