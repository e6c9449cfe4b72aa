"""QueryAvailability's answer cache in the metrics, read from the cache at each scrape."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bookings_server.app.availability_cache import CacheStats
from bookings_server.observability.metrics import REGISTRY

_BYTES = "bookings_availability_cache_bytes"
_BYTES_HELP = "Estimated memory of the cached availability answers (this process)."
_LIMIT = "bookings_availability_cache_limit_bytes"
_LIMIT_HELP = "The cache's budget, --availability-cache-mb."
_ANSWERS = "bookings_availability_cache_answers"
_ANSWERS_HELP = "Availability answers cached (this process)."
_LOOKUPS = "bookings_availability_cache_lookups"
_LOOKUPS_HELP = "QueryAvailability calls by whether a cached answer was reused."


class AvailabilityCacheGauges(Collector):
    """Collects the stats of the cache the server gives it (none: no series)."""

    def __init__(self) -> None:
        self._source: Callable[[], CacheStats] | None = None

    def read_from(self, source: Callable[[], CacheStats] | None) -> None:
        self._source = source

    def describe(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        return iter(())

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        if self._source is None:
            return
        stats = self._source()
        yield GaugeMetricFamily(_BYTES, _BYTES_HELP, value=stats.bytes)
        yield GaugeMetricFamily(_LIMIT, _LIMIT_HELP, value=stats.max_bytes)
        yield GaugeMetricFamily(_ANSWERS, _ANSWERS_HELP, value=stats.answers)
        lookups = CounterMetricFamily(_LOOKUPS, _LOOKUPS_HELP, labels=["result"])
        lookups.add_metric(["hit"], stats.hits)
        lookups.add_metric(["miss"], stats.misses)
        yield lookups


availability_cache_gauges = AvailabilityCacheGauges()
REGISTRY.register(availability_cache_gauges)
