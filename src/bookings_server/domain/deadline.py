"""How long the call being served may still take: a deadline every layer can read.

The api layer sets it from the gRPC deadline (capped by the server's maximum) for the thread
serving the call; the store reads it when a transaction begins (connect, statement, lock and
busy timeouts) and before it commits. No deadline means no call is waiting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Deadline:
    """An instant on the monotonic clock (`time.monotonic()` seconds)."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def sooner(self, other: Deadline | None) -> Deadline:
        """The earlier of the two (`other` None: no other deadline)."""
        return self if other is None else min(self, other)


#: The deadline of the call the current thread serves, if any.
current_deadline: ContextVar[Deadline | None] = ContextVar("bookings_deadline", default=None)


def earliest(deadline: Deadline | None, within_s: float | None) -> Deadline | None:
    """`deadline`, brought forward to `within_s` seconds from now when that comes first."""
    if within_s is None:
        return deadline
    return Deadline.after(within_s).sooner(deadline)


@contextmanager
def deadline_scope(deadline: Deadline | None) -> Iterator[None]:
    """Make `deadline` the current one for the block."""
    token = current_deadline.set(deadline)
    try:
        yield
    finally:
        current_deadline.reset(token)
