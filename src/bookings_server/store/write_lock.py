"""A first-come, first-served semaphore with a bounded wait: SQLite's single writer, and the
connections a process may hold.

SQLite lets one transaction write at a time. Threads of one process that all ask for
`BEGIN IMMEDIATE` would otherwise wait in SQLite's busy handler, which sleeps with growing
back-off (up to 100 ms) instead of queueing: a writer that arrives late often gets the lock
before one that has waited for seconds. Queueing the process's writers here first (one
permit) hands the database over in arrival order, the moment the previous writer commits.
Other processes still meet SQLite's own `busy_timeout`.

The same queue with `pool_size + max_overflow` permits stands in front of the connection
pool, so a session waits for a connection in arrival order and no longer than its deadline
(SQLAlchemy's pool waits a fixed `pool_timeout`).
"""

from __future__ import annotations

import threading
from collections import deque


class FifoSemaphore:
    """Non-reentrant; waiters get a permit in the order they asked for it."""

    def __init__(self, permits: int = 1) -> None:
        if permits < 1:
            raise ValueError("a FifoSemaphore needs at least one permit")
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Lock] = deque()
        self._free = permits

    def acquire(self, timeout: float) -> bool:
        """Take a permit, waiting at most `timeout` seconds; False if none came."""
        with self._mutex:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return True
            turn = threading.Lock()
            turn.acquire()
            self._waiters.append(turn)
        if turn.acquire(timeout=max(0.0, timeout)):
            return True
        with self._mutex:
            if turn in self._waiters:
                self._waiters.remove(turn)
                return False
        # release() handed a permit over between the timeout and the removal: it is ours.
        return True

    def release(self) -> None:
        """Hand the permit to the longest waiter, or give it back."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()
            else:
                self._free += 1
