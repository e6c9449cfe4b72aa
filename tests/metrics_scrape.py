"""Scraping a /metrics endpoint the way Prometheus does, for the metrics tests."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

SampleKey = tuple[str, frozenset[tuple[str, str]]]


@dataclass(frozen=True)
class Scrape:
    """The samples of one scrape, by sample name and labels."""

    samples: dict[SampleKey, float]

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when absent (a series not created yet counts nothing)."""
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def has(self, name: str) -> bool:
        return any(sample == name for sample, _ in self.samples)

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of `name` whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= ls)

    def minus(self, earlier: Scrape) -> Scrape:
        """What changed since `earlier` (for counters: what happened in between)."""
        keys = self.samples.keys() | earlier.samples.keys()
        return Scrape({k: self.samples.get(k, 0.0) - earlier.samples.get(k, 0.0) for k in keys})


def scrape(url: str) -> Scrape:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples: dict[SampleKey, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return Scrape(samples)


def scrape_when(url: str, settled: Callable[[Scrape], bool], timeout: float = 10.0) -> Scrape:
    """The first scrape for which `settled` holds: a call is counted as handled by grpc's
    callback, which may run just after the client has its answer."""
    deadline = time.monotonic() + timeout
    while True:
        result = scrape(url)
        if settled(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def all_handled(since: Scrape, calls: int) -> Callable[[Scrape], bool]:
    """Settled once `calls` calls started since `since`, and as many were handled."""

    def settled(now: Scrape) -> bool:
        delta = now.minus(since)
        started = delta.total("grpc_server_started_total")
        return started == calls and delta.total("grpc_server_handled_total") == calls

    return settled
