"""Store failures in the log: one line when an episode starts, not a traceback per call.

An episode of one reason (STORE_FULL, STORE_UNAVAILABLE, ...) starts with its first failure
and ends with the next transaction that succeeds (for out-of-space and busy: the next write
that commits). While it lasts, a reminder with the number of failed transactions is written at
most every `repeat_s` seconds; its end is one line too, at the same level, so an operator who
filters on WARNING sees both ends.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

log = logging.getLogger("bookings.store")


@dataclass
class _Episode:
    started: float
    last_logged: float
    failures: int = 1


class FailureEpisodes:
    """Thread-safe; one per Database."""

    def __init__(self, write_reasons: frozenset[str], repeat_s: float = 60.0) -> None:
        self._write_reasons = write_reasons
        self._repeat_s = repeat_s
        self._lock = threading.Lock()
        self._open: dict[str, _Episode] = {}

    def failed(self, reason: str, cause: BaseException) -> bool:
        """Count a failure of `reason`; True when it starts a new episode."""
        now = time.monotonic()
        with self._lock:
            episode = self._open.get(reason)
            if episode is None:
                self._open[reason] = _Episode(started=now, last_logged=now)
            else:
                episode.failures += 1
                if now - episode.last_logged < self._repeat_s:
                    return False
                episode.last_logged = now
        fields = {"reason": reason, "error": _describe(cause)}
        if episode is None:
            log.warning("store failing", extra=fields)
            return True
        log.warning("store still failing", extra={**fields, "failures": episode.failures})
        return False

    def succeeded(self, *, wrote: bool) -> frozenset[str]:
        """A transaction succeeded: end the open episodes it disproves; their reasons.

        Only a write proves that writes work again (`write_reasons`: out of space, locked);
        any transaction proves the store answers.
        """
        if not self._open:  # unlocked fast path: the common case
            return frozenset()
        with self._lock:
            ended = {
                reason: episode
                for reason, episode in self._open.items()
                if wrote or reason not in self._write_reasons
            }
            for reason in ended:
                del self._open[reason]
        now = time.monotonic()
        for reason, episode in ended.items():
            log.warning(
                "store recovered",
                extra={
                    "reason": reason,
                    "failures": episode.failures,
                    "duration_s": round(now - episode.started, 3),
                },
            )
        return frozenset(ended)


def _describe(error: BaseException) -> str:
    """The driver's error, on one line (for the server's log only, never for a client)."""
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split())
    return f"{type(cause).__module__}.{type(cause).__name__}: {text[:300]}"
