"""The outbox backlog as two gauges, read from the database when Prometheus scrapes.

Reading at scrape time keeps the figures exact and costs nothing between scrapes; the read is
one indexed query bounded by a short timeout (store/outbox_backlog.py). When it fails (the
database is away or slow) the scrape still succeeds, without these two series.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import NamedTuple

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bookings_server.observability.metrics import REGISTRY

log = logging.getLogger("bookings.metrics")


class BacklogReading(NamedTuple):
    """Unsent items whose time has come, and how long the oldest of them has waited."""

    due: int
    oldest_due_age_s: float


_BACKLOG = "bookings_outbox_backlog"
_BACKLOG_HELP = "Outbox items due and not yet delivered (all sites; the same on every process)."
_AGE = "bookings_outbox_oldest_due_age_seconds"
_AGE_HELP = "Seconds since the oldest undelivered item became due (0 when none is due)."


class OutboxGauges(Collector):
    """Collects the backlog from the source the server gives it (none: no series)."""

    def __init__(self) -> None:
        self._source: Callable[[], BacklogReading] | None = None

    def read_from(self, source: Callable[[], BacklogReading] | None) -> None:
        """Read the backlog with `source` from now on (the last server built wins)."""
        self._source = source

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(_BACKLOG, _BACKLOG_HELP)
        yield GaugeMetricFamily(_AGE, _AGE_HELP)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        source = self._source
        if source is None:
            return
        try:
            backlog = source()
        # Any failure of the read must leave the rest of the scrape intact.
        except Exception as error:  # noqa: BLE001
            log.warning("outbox gauges not read", extra={"error_type": type(error).__name__})
            return
        yield GaugeMetricFamily(_BACKLOG, _BACKLOG_HELP, value=backlog.due)
        yield GaugeMetricFamily(_AGE, _AGE_HELP, value=backlog.oldest_due_age_s)


outbox_gauges = OutboxGauges()
REGISTRY.register(outbox_gauges)
