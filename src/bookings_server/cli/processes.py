"""`bookings serve --processes N`: N server processes on one port (SO_REUSEPORT).

One process serves at most about one core (the interpreter lock); CPU-bound deployments run
several on one port and the kernel spreads new connections over them. With N above 1 the
`bookings serve` process becomes a small parent that serves nothing itself:

1. it prepares the store once (the migration and demo catalog of cli/bootstrap.py, or the
   schema check on PostgreSQL) and settles the port (cli/shared_port.py);
2. it starts N children: `bookings serve` with the same arguments, plus `--processes 1
   --reuse-port`, the settled address and, with `--metrics-address`, a metrics port each;
   each child runs in a process group of its own, so a terminal's Ctrl-C reaches the parent
   only and each child gets every signal exactly once, from the parent;
3. it forwards SIGTERM and SIGINT to every child (a second signal, as for one process,
   cancels the children's in-flight calls), waits for all, and exits 0 when all exited 0.

**A child that exits on its own is not restarted.** The parent then stops the others (SIGTERM,
so they drain) and exits 1: a group that lost a process serves at less than its configured
capacity, maybe failing the same way again, and the orchestrator (systemd, Kubernetes)
that restarts failed services is better placed to decide, with backoff and alerts, than a
respawn loop that would hide the failure. Each child also watches its parent: when the
parent is gone (SIGKILL), the child drains and exits instead of serving unsupervised.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from bookings_server.cli.arg_types import positive_int
from bookings_server.cli.console import say
from bookings_server.cli.shared_port import (
    SharedPortError,
    metrics_address_of,
    reserve_shared_port,
)
from bookings_server.config import env

if TYPE_CHECKING:  # imported when a group starts: `bookings --help` does without it
    import subprocess

log = logging.getLogger("bookings.processes")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: How often the parent looks at its children, and a child at its parent.
_POLL_SECONDS = 0.1
_PARENT_POLL_SECONDS = 0.5


def add_processes_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--processes",
        type=positive_int,
        default=env("PROCESSES", "1"),
        help="server processes sharing the port with SO_REUSEPORT, under one parent that "
        "forwards signals and stops them all when one fails; 1 serves from this process "
        "(env BOOKINGS_PROCESSES; default %(default)s)",
    )
    # Set by the parent on its children only.
    parser.add_argument("--process-index", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)


def is_child(args: argparse.Namespace) -> bool:
    """Whether this `bookings serve` was started by a --processes parent."""
    return args.process_index is not None


def runs_a_group(args: argparse.Namespace) -> bool:
    """Whether this `bookings serve` is (or is part of) a group of several processes."""
    return bool(args.processes > 1 or is_child(args))


def watch_parent(args: argparse.Namespace) -> None:
    """In a child: SIGTERM itself (a drain) once the parent that started it is gone."""
    parent = args.parent_pid

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_SECONDS)
        log.warning("the parent process is gone; stopping", extra={"parent_pid": parent})
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_processes(
    args: argparse.Namespace, argv: Sequence[str], prepare: Callable[[], int | None]
) -> int:
    """Be the parent of `args.processes` servers run with `argv` (this command's arguments);
    `prepare` readies the store once, returning an exit code when it cannot."""
    try:
        shared = reserve_shared_port(args.address, join_others=args.reuse_port)
    except SharedPortError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    try:
        failure = prepare()
        if failure is not None:
            return failure
        return _Group(args, argv, shared.address).run()
    finally:
        shared.close()


class _Group:
    """The children, and what the parent does with them until they are all gone."""

    def __init__(self, args: argparse.Namespace, argv: Sequence[str], address: str) -> None:
        self._args, self._argv, self._address = args, list(argv), address
        self._children: list[subprocess.Popen[bytes]] = []
        self._signals: list[int] = []
        self._wake = threading.Event()
        self._stopping = False
        self._failed = False

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in STOP_SIGNALS}
        try:
            self._start_children()
            self._supervise()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        codes = [child.returncode for child in self._children]
        log.info("server processes stopped", extra={"exit_codes": codes})
        return 1 if self._failed or any(code != 0 for code in codes) else 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        # Only recorded here; the main loop forwards it (as serving.run_until_signalled does).
        self._signals.append(signum)
        self._wake.set()

    def _start_children(self) -> None:
        import subprocess

        for index in range(self._args.processes):
            if self._signals:  # asked to stop while starting: start no more
                break
            try:
                child = subprocess.Popen(
                    self._child_argv(index), stdin=subprocess.DEVNULL, process_group=0
                )
            except OSError as error:
                log.error("cannot start a server process", extra={"error": str(error)})
                self._failed = True
                break
            self._children.append(child)
        log.info(
            "server processes started",
            extra={
                "child_pids": [child.pid for child in self._children],
                "address": self._address,
            },
        )
        pids = " ".join(str(child.pid) for child in self._children)
        say(f"bookings: {len(self._children)} server processes on {self._address}: {pids}")

    def _child_argv(self, index: int) -> list[str]:
        argv = [sys.executable, "-m", "bookings_server.cli.main", *self._argv]
        argv += ["--processes", "1", "--reuse-port", "--address", self._address]
        argv += ["--process-index", str(index), "--parent-pid", str(os.getpid())]
        metrics = metrics_address_of(self._args.metrics_address, index)
        if metrics:
            argv += ["--metrics-address", metrics]
        return argv

    def _supervise(self) -> None:
        if self._failed:
            self._stop_all(signal.SIGTERM)
        while any(child.poll() is None for child in self._children):
            self._forward_signals()
            self._notice_exits()
            self._wake.wait(_POLL_SECONDS)
            self._wake.clear()

    def _forward_signals(self) -> None:
        while self._signals:
            signum = self._signals.pop(0)
            name = signal.Signals(signum).name
            log.info("signal received, stopping the server processes", extra={"signal": name})
            self._stopping = True
            self._stop_all(signum)

    def _notice_exits(self) -> None:
        """A child that ended before any stop was asked for stops the group."""
        if self._stopping:
            return
        for child in self._children:
            if child.returncode is not None:
                log.error(
                    "a server process exited; stopping the others (no restart: the exit code "
                    "is non-zero for the orchestrator to restart the service)",
                    extra={"child_pid": child.pid, "exit_code": child.returncode},
                )
                self._failed = self._stopping = True
                self._stop_all(signal.SIGTERM)
                return

    def _stop_all(self, signum: int) -> None:
        for child in self._children:
            if child.poll() is None:
                child.send_signal(signum)
