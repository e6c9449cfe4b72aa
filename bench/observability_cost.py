"""What metrics and tracing cost (bench/run.py workload `observability`).

The same no-op and CreateBooking load on two servers of the same database in the same run:
the run's plain server, and one with `--metrics-address` and OTLP tracing on (every call
sampled, spans exported to bench/otlp_sink.py, /metrics scraped every 5 s as Prometheus
would). The two alternate for a few rounds, so drift on a shared machine hits both; the
figures are the medians of the rounds, and the cost is 1 - (observed / plain).

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
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
SCRAPE_INTERVAL_S = 5.0


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
    """Scrapes /metrics every few seconds on a thread, like Prometheus."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.scrapes = 0
        self.last_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(SCRAPE_INTERVAL_S):
            with urllib.request.urlopen(self.url, timeout=10) as response:
                self.last_bytes = len(response.read())
            self.scrapes += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)


def observed_env(sink: OtlpSink) -> dict[str, str]:
    """The standard variables that turn tracing on, every call sampled."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": sink.endpoint,
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_SERVICE_NAME": "bookings-bench",
    }


def summary(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per configuration and workload ("off noop", "on create", ...), and the ratios
    of observed to plain: calls/s, and server CPU per call."""
    medians = {
        key: {
            "calls_per_s": statistics.median(r["calls_per_s"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "server_cpu_us_per_call": statistics.median(
                r["server_cpu_us_per_call"] for r in results
            ),
            "rounds": [round(r["calls_per_s"], 1) for r in results],
        }
        for key, results in rounds.items()
    }
    figures: dict[str, Any] = {"medians": medians}
    for workload in ("noop", "create"):
        off, on = medians[f"off {workload}"], medians[f"on {workload}"]
        figures[f"{workload}_on_over_off_calls"] = on["calls_per_s"] / off["calls_per_s"]
        figures[f"{workload}_on_over_off_cpu"] = (
            on["server_cpu_us_per_call"] / off["server_cpu_us_per_call"]
        )
        figures[f"{workload}_cpu_us_added"] = (
            on["server_cpu_us_per_call"] - off["server_cpu_us_per_call"]
        )
    for state in ("off", "on"):
        figures[f"create_x_noop_{state}"] = (
            medians[f"{state} create"]["calls_per_s"] / medians[f"{state} noop"]["calls_per_s"]
        )
    return figures


def print_summary(figures: dict[str, Any]) -> None:
    for key, row in figures["medians"].items():
        print(
            f"  observability {key:11s} {row['calls_per_s']:8.1f}/s (rounds {row['rounds']})  "
            f"p99 {row['p99_ms']:7.2f} ms  srv {row['server_cpu_us_per_call']:6.0f} us/call",
            flush=True,
        )
    for workload in ("noop", "create"):
        print(
            f"  {workload} with metrics+tracing: "
            f"{figures[f'{workload}_on_over_off_calls']:.3f} x the calls/s without, "
            f"{figures[f'{workload}_on_over_off_cpu']:.3f} x the server CPU per call "
            f"({figures[f'{workload}_cpu_us_added']:+.0f} us)",
            flush=True,
        )
