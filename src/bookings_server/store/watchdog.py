"""Cutting a PostgreSQL connection whose transaction outlived its deadline.

`statement_timeout` only helps while the server runs: a stopped (SIGSTOP) or unreachable
server never cancels anything, and the kernel keeps acknowledging what the client sends, so
neither TCP keepalive nor `tcp_user_timeout` fires. psycopg then waits on the socket forever.
The watchdog shuts the socket down when the alarm rings: the blocked call fails at once with
a lost connection, the thread is free, and the server side, when it runs again, finds the
connection gone and rolls the transaction back.

One daemon thread serves every alarm of the process, sleeping until the earliest one.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import socket
import threading
import time


class Alarm:
    """One armed alarm: it rings once, unless disarmed first.

    It holds a duplicate of the connection's socket, so the socket it cuts is that
    connection's even if the driver closed its own descriptor and the number was reused.
    """

    def __init__(self, at: float, fd: int) -> None:
        self.at = at
        self._socket = socket.socket(fileno=os.dup(fd))
        self._lock = threading.Lock()
        self._state = "armed"

    @property
    def rang(self) -> bool:
        return self._state == "rang"

    def disarm(self) -> None:
        """Called when the transaction ends, before its connection goes back to the pool."""
        with self._lock:
            if self._state == "armed":
                self._state = "disarmed"
            self._socket.close()

    def ring(self) -> None:
        with self._lock:
            if self._state != "armed":
                return
            self._state = "rang"
            with contextlib.suppress(OSError):  # the peer closed it: nothing left to cut
                self._socket.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Rings alarms at their time, from one background thread started on first use."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._alarms: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, at: float, fd: int) -> Alarm:
        """Shut socket `fd` down at monotonic time `at`, unless the alarm is disarmed first."""
        alarm = Alarm(at, fd)
        with self._condition:
            heapq.heappush(self._alarms, (at, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="store-watchdog", daemon=True
                )
                self._thread.start()
            elif self._alarms[0][2] is alarm:
                self._condition.notify()
        return alarm

    def _run(self) -> None:
        while True:
            with self._condition:
                due = self._due()
            for alarm in due:
                alarm.ring()

    def _due(self) -> list[Alarm]:
        """Wait until an alarm is due (holding the condition); pop every due one."""
        while True:
            now = time.monotonic()
            if self._alarms and self._alarms[0][0] <= now:
                due = []
                while self._alarms and self._alarms[0][0] <= now:
                    due.append(heapq.heappop(self._alarms)[2])
                return due
            timeout = self._alarms[0][0] - now if self._alarms else None
            self._condition.wait(timeout)
