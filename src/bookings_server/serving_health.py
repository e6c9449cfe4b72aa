"""Health that tells the truth: a background loop turns services NOT_SERVING while what they
depend on is down, and back to SERVING by itself.

A health check never runs a probe: the grpc_health servicer answers from memory, so it
answers at once even while the database hangs. This loop runs the checks every `interval`
seconds, on its own thread, and `set`s the statuses that changed: NOT_SERVING after
`FAILURES_TO_FLIP` failed checks in a row, SERVING at the first good one. Each check answers within
a bounded time: `DeadlineCheck` runs a blocking probe on a thread of its own and stops waiting
after its timeout. The loop ends when the server drains (`stopping` is set); the servicer
ignores `set` after `enter_graceful_shutdown`, so nothing turns a draining server SERVING.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from grpc_health.v1 import health, health_pb2

log = logging.getLogger("bookings.health")

#: The health name of the in-server outbox worker (`bookings serve --run-worker`).
OUTBOX_SERVICE = "bookings.v1.Outbox"

#: A check: None when healthy, else why not (for the log). Must return within a bounded time.
Check = Callable[[], str | None]

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING

#: Longest error text a check reports.
_MAX_PROBLEM_LENGTH = 200


#: Consecutive failed checks that turn a service NOT_SERVING: one slow probe on a loaded
#: machine is not an outage. A single good check turns it SERVING again.
FAILURES_TO_FLIP = 2


@dataclass
class _Watched:
    names: tuple[str, ...]
    check: Check
    healthy: bool = True
    failures: int = 0


class HealthMonitor:
    """Runs checks in the background and reflects them in the health servicer."""

    def __init__(
        self, servicer: health.HealthServicer, stopping: threading.Event, interval: float = 1.0
    ) -> None:
        self.interval = interval
        self._servicer = servicer
        self._stopping = stopping
        self._watched: list[_Watched] = []
        self._thread: threading.Thread | None = None

    def watch(self, names: Sequence[str], check: Check) -> None:
        """Have `names` follow `check`: SERVING now, re-checked every interval once started."""
        self._watched.append(_Watched(tuple(names), check))
        for name in names:
            self._servicer.set(name, SERVING)

    def start(self) -> None:
        """Start the loop (once); it ends when `stopping` is set."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="health-monitor", daemon=True)
            self._thread.start()

    def check_now(self) -> None:
        """Run every check once and update the statuses that changed."""
        for watched in tuple(self._watched):  # `watch` may add one meanwhile
            problem = _run_check(watched.check)
            if self._stopping.is_set():
                return
            watched.failures = 0 if problem is None else watched.failures + 1
            healthy = watched.failures < FAILURES_TO_FLIP
            if healthy != watched.healthy:
                watched.healthy = healthy
                self._report(watched.names, healthy, problem)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self.check_now()
            self._stopping.wait(self.interval)

    def _report(self, names: tuple[str, ...], healthy: bool, problem: str | None) -> None:
        for name in names:
            self._servicer.set(name, SERVING if healthy else NOT_SERVING)
        if healthy:
            log.info("health: serving again", extra={"services": list(names)})
        else:
            log.warning("health: not serving", extra={"services": list(names), "why": problem})


def _run_check(check: Check) -> str | None:
    """The check's answer; a check that raises is unhealthy (it must not stop the loop)."""
    try:
        return check()
    # Deliberately broad: a failing check is a health answer, never the end of the monitor.
    except Exception as error:  # noqa: BLE001
        return _describe(error)


class DeadlineCheck:
    """A blocking probe as a check: healthy when the probe returned within `timeout` seconds.

    Each probe runs on a daemon thread of its own, so a probe stuck on a hung database blocks
    neither the monitor nor the process exit; while it is stuck the check answers "no answer"
    after `timeout`, without starting another one, and counts its result once it returns.
    """

    def __init__(self, probe: Callable[[], None], timeout: float) -> None:
        self._probe = probe
        self._timeout = timeout
        self._attempt: _Attempt | None = None

    def __call__(self) -> str | None:
        if self._attempt is None:
            self._attempt = _Attempt(self._probe)
        if not self._attempt.done.wait(self._timeout):
            return f"the store did not answer within {self._timeout:g} s"
        attempt, self._attempt = self._attempt, None
        return None if attempt.error is None else _describe(attempt.error)


class _Attempt:
    """One probe running on its own daemon thread."""

    def __init__(self, probe: Callable[[], None]) -> None:
        self.done = threading.Event()
        self.error: Exception | None = None
        threading.Thread(target=self._run, args=(probe,), name="store-probe", daemon=True).start()

    def _run(self, probe: Callable[[], None]) -> None:
        try:
            probe()
        # Deliberately broad: whatever the driver raises means "the store is not reachable".
        except Exception as error:  # noqa: BLE001
            self.error = error
        finally:
            self.done.set()


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:_MAX_PROBLEM_LENGTH]
