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
_PARTS = "bookings_availability_cache_parts"
_PARTS_HELP = "Parts of answers cached (one staff member's slots of a service for a day)."
_PART_LOOKUPS = "bookings_availability_cache_part_lookups"
_PART_LOOKUPS_HELP = "Parts taken by answers being computed, by whether a cached one was reused."


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
        yield GaugeMetricFamily(_PARTS, _PARTS_HELP, value=stats.parts)
        yield _lookups(_LOOKUPS, _LOOKUPS_HELP, stats.hits, stats.misses)
        yield _lookups(_PART_LOOKUPS, _PART_LOOKUPS_HELP, stats.part_hits, stats.part_misses)


def _lookups(name: str, documentation: str, hits: int, misses: int) -> CounterMetricFamily:
    lookups = CounterMetricFamily(name, documentation, labels=["result"])
    lookups.add_metric(["hit"], hits)
    lookups.add_metric(["miss"], misses)
    return lookups


availability_cache_gauges = AvailabilityCacheGauges()
REGISTRY.register(availability_cache_gauges)
