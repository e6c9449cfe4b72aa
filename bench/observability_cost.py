"""What metrics and tracing cost (bench/run.py workload `observability`).

The same no-op and CreateBooking load on three servers of the same database in the same run,
all started fresh for it (a process that has served the seeding is not comparable):

- `off`: neither metrics nor tracing;
- `on`: `--metrics-address` and OTLP tracing with every call sampled (`always_on`), spans
  exported to bench/otlp_sink.py, /metrics scraped every 5 s as Prometheus would;
- `sampled`: the same with `parentbased_traceidratio` at 0.1, a usual production setting.

For each workload they take turns for a few rounds, in an order reversed every other round
(off, on, sampled, sampled, on, off ...), so that drift on a shared machine and the growing
database weigh on all alike, and the runs compared are next to each other in time; the
figures are the medians of the rounds, and the cost is 1 - (observed / plain), in calls/s
and in the driven server's own CPU per call (read from /proc around each run of the load).

Health/Check (the no-op) is counted in the metrics but not traced (health probes make no
traces), so the no-op's cost is the metrics interceptor's.
"""

from __future__ import annotations

import signal
import statistics
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SCRAPE_INTERVAL_S = 5.0
#: The observed configurations, each with the sampler settings of its server.
OBSERVED = {
    "on": {"OTEL_TRACES_SAMPLER": "always_on"},
    "sampled": {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    },
}
WORKLOADS = ("noop", "create")


class OtlpSink:
    """bench/otlp_sink.py in a process of its own, for the span exports."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "otlp_sink.py")],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline().split()[1])
        self.spans = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._process.send_signal(signal.SIGTERM)
        out, _ = self._process.communicate(timeout=30)
        self.spans = int(out.split()[-1]) if out.strip() else 0


class Scraper:
    """Scrapes each /metrics URL every few seconds on a thread, like Prometheus."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)
        self.scrapes = 0
        self.last_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(SCRAPE_INTERVAL_S):
            for url in self.urls:
                with urllib.request.urlopen(url, timeout=10) as response:
                    self.last_bytes = len(response.read())
                self.scrapes += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def observed_env(sink: OtlpSink, state: str) -> dict[str, str]:
    """The standard variables that turn tracing on, with the sampler of `state`."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_SERVICE_NAME": "bookings-bench",
        **OBSERVED[state],
    }


def add_own_cpu(result: dict[str, Any], cpu_s: float) -> None:
    """The driven server's own CPU per call: the others (idle, or being scraped) are not
    counted, unlike in `server_cpu_us_per_call`."""
    result["own_cpu_us_per_call"] = cpu_s / max(result["total_ok"], 1) * 1e6


def round_order(index: int, servers: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The (state, server) pairs, reversed every other round (off, on, sampled, sampled, on,
    off ...): a drift during the run weighs on each alike."""
    return list(servers) if index % 2 == 0 else list(reversed(servers))


def summary(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per configuration and workload ("off noop", "on create", ...), and the ratios
    of each observed configuration to the plain one: calls/s, and server CPU per call."""
    medians = {key: _medians(results) for key, results in rounds.items()}
    figures: dict[str, Any] = {"medians": medians}
    for state in OBSERVED:
        for workload in WORKLOADS:
            off, on = medians[f"off {workload}"], medians[f"{state} {workload}"]
            off_cpu, on_cpu = off["own_cpu_us_per_call"], on["own_cpu_us_per_call"]
            figures[f"{workload}_{state}_over_off_calls"] = on["calls_per_s"] / off["calls_per_s"]
            figures[f"{workload}_{state}_over_off_cpu"] = on_cpu / off_cpu
            figures[f"{workload}_{state}_cpu_us_added"] = on_cpu - off_cpu
    return figures


def _medians(results: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "calls_per_s": statistics.median(r["calls_per_s"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "own_cpu_us_per_call": statistics.median(r["own_cpu_us_per_call"] for r in results),
        "rounds": [round(r["calls_per_s"], 1) for r in results],
    }


def print_summary(figures: dict[str, Any]) -> None:
    for key, row in figures["medians"].items():
        print(
            f"  observability {key:14s} {row['calls_per_s']:8.1f}/s (rounds {row['rounds']})  "
            f"p99 {row['p99_ms']:7.2f} ms  srv {row['own_cpu_us_per_call']:6.0f} us/call",
            flush=True,
        )
    for state in OBSERVED:
        for workload in WORKLOADS:
            prefix = f"{workload}_{state}"
            print(
                f"  {workload} {state}: {figures[f'{prefix}_over_off_calls']:.3f} x the calls/s "
                f"of off, {figures[f'{prefix}_over_off_cpu']:.3f} x its server CPU per call "
                f"({figures[f'{prefix}_cpu_us_added']:+.0f} us)",
                flush=True,
            )
