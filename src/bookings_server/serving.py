"""Running a started server until SIGTERM or SIGINT, then draining it.

While running, the health monitor (serving_health.py) keeps the health statuses true to the
store and the outbox worker. On the first signal: health turns NOT_SERVING for every service
and stays so (health Watch streams see it at once; the monitor stops and the servicer ignores
any later change), the server stops accepting calls, and in-flight calls get `grace_period`
seconds to finish before they are cancelled. A second signal cancels them at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from types import FrameType

import grpc
from grpc_health.v1 import health

from bookings_server.serving_health import HealthMonitor

log = logging.getLogger("bookings.server")

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@dataclass(frozen=True)
class DrainControls:
    """What draining a built server flips: its health, and the event that ends open streams
    (WatchBookingEvents would otherwise hold the drain for the whole grace period) and the
    health monitor, which build_server gives its checks and run_until_signalled starts."""

    health: health.HealthServicer = field(default_factory=health.HealthServicer)
    draining: threading.Event = field(default_factory=threading.Event)
    monitor: HealthMonitor = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "monitor", HealthMonitor(self.health, self.draining))


def run_until_signalled(server: grpc.Server, controls: DrainControls, grace_period: float) -> None:
    """Block until SIGTERM/SIGINT, then drain `server`. Call from the main thread.

    The signal handler only sets events: it runs on the main thread between two bytecodes,
    possibly inside `server.stop`, which must not be entered again from there (two signals a
    millisecond apart would deadlock on grpc's server lock). The main thread acts on them.
    """
    stop_requested, cancel_requested = threading.Event(), threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop_requested.is_set():
            log.warning("second signal, cancelling in-flight calls", extra={"signal": name})
            cancel_requested.set()
            return
        log.info("signal received, draining", extra={"signal": name, "grace_s": grace_period})
        stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    controls.monitor.start()
    try:
        stop_requested.wait()
        drain(server, controls, grace_period, cancel_requested)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def drain(
    server: grpc.Server,
    controls: DrainControls,
    grace: float,
    cancel_requested: threading.Event | None = None,
) -> None:
    """NOT_SERVING, end open streams, refuse new calls, give in-flight calls `grace` seconds
    (or less: until `cancel_requested` is set), then stop."""
    controls.health.enter_graceful_shutdown()
    controls.draining.set()
    stopped = server.stop(grace=grace)
    while not stopped.wait(_POLL_SECONDS):
        if cancel_requested is not None and cancel_requested.is_set():
            server.stop(grace=None).wait()
            break
    log.info("server stopped")


#: How often a drain looks for a second signal.
_POLL_SECONDS = 0.05
