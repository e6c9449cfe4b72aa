"""A first-come, first-served lock with a bounded wait, for SQLite's single writer.

SQLite lets one transaction write at a time. Threads of one process that all ask for
`BEGIN IMMEDIATE` would otherwise wait in SQLite's busy handler, which sleeps with growing
back-off (up to 100 ms) instead of queueing: a writer that arrives late often gets the lock
before one that has waited for seconds. Queueing the process's writers here first hands the
database over in arrival order, the moment the previous writer commits. Other processes
still meet SQLite's own `busy_timeout`.
"""

from __future__ import annotations

import threading
from collections import deque


class FifoLock:
    """Non-reentrant; waiters get the lock in the order they asked for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        """Take the lock, waiting at most `timeout` seconds; False if it did not come."""
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=timeout):
            return True
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        # release() handed the lock over between the timeout and the removal: it is ours.
        return True

    def release(self) -> None:
        """Hand the lock to the longest waiter, or free it."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._held = False
