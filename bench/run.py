#!/usr/bin/env python3
"""Benchmarks of the bookings server, as ratios to ceilings measured in the same run.

Starts `bookings serve` from the working tree in a subprocess (SQLite in a temp data dir by
default, PostgreSQL with --database-url or --postgres), seeds a catalog over CatalogService,
and drives each workload from a separate load-generator process (bench/load.py: grpc.aio,
N calls in flight for a fixed time after a warm-up). Prints calls/s, p50, p99, errors, the
server's CPU per call and its RSS (VmRSS) after each workload, and the ratio of its calls/s to
each of three ceilings, measured first by the same load generator at the same concurrency:
  bare    a bare grpcio server, no interceptors, same worker threads as the project server,
          serving grpc.health.v1 Health/Check (bench/ceiling_servers.py, its own process)
  noop    the project's no-op: Health/Check on `bookings serve` (the targets' reference)
  insert  a bare grpcio server whose handler does one SQLite INSERT + COMMIT (WAL,
          synchronous=NORMAL, SQLAlchemy Core) per call (bench/ceiling_servers.py)
Writes everything as JSON (default bench/results/<time>-<backend>.json).

Workloads (--workloads, comma separated, default all):
  create          CreateBooking of one participant in a class session (sessions rotate)
  create_confirm  CreateBooking then ConfirmOrDeclineBooking; figures are pairs
  hold_then_book  CreateHold, CreateBooking(hold_id), ConfirmOrDeclineBooking; figures are triples
  bulk_confirm_300  one BulkConfirmOrDeclineBooking of 300 items versus 300 single
                  ConfirmOrDeclineBooking calls (rows bulk_confirm_300 and confirm_single), a
                  fixed amount of work each (--bulk-calls bulk calls, 300 x as many singles) on
                  CREATED bookings prepared with BulkCreateBooking (not measured)
  avail_7x5       QueryAvailability, 7 days, 30-min service with 5 staff (one page, <= 1000)
  mixed_7x5       avail_7x5's query with one write per --mixed-reads-per-write (10) queries:
                  an appointment slot of the 5-staff service in the queried week booked,
                  confirmed, and cancelled 8 confirmations later, the slots moving over staff
                  members and days; the queries are measured (calls/s, p50, p99), the writes
                  counted apart; reported beside avail_7x5 as mixed / read-only
  mixed_classes_7x5  the same with the class service queried too (its week's daily sessions):
                  first read-only (row avail_classes_7x5), then with writes that take turns
                  between appointment slots and class sessions; reported as mixed / read-only
  avail_31x20     QueryAvailability, 31 days, 30-min service with 20 staff (first page of 1000)
  avail_1k        avail_7x5 with 1,000 bookings stored (bulk-loaded through the store layer)
  avail_1m        avail_7x5 with --large-bookings (1,000,000) stored; the RSS after it is
                  reported on a line of its own
  reuseport       noop, create and avail_7x5 on two server processes sharing one port
                  (SO_REUSEPORT) versus one, both over 4 client connections; prints
                  each 2-process / 1-process calls/s ratio (a target on PostgreSQL:
                  CreateBooking >= 1.5)
  observability   noop and create on fresh servers with --metrics-address and OTLP tracing
                  on (every call sampled; 10 % sampled), spans exported to bench/otlp_sink.py,
                  /metrics scraped every 5 s, versus a fresh plain one, taking turns for
                  --observability-rounds rounds (bench/observability_cost.py)

Each avail_* workload (the warm figure: identical queries, N in flight) is followed by its
cold and warm latency, --cold-samples queries each, one at a time: cold = each query right
after a write that changes the queried answer (a slot of the queried service booked and
confirmed, or cancelled again), warm = the same query repeated with no write in between.

--cache-stats (off by default: the metrics interceptor costs a little) serves the first
server's metrics and prints, after each availability workload, how many answers were computed
and reused, and how many parts (app/availability_parts.py) below them.

--workers-curve 2,4,8,16 (off by default) also runs create and avail_7x5 on a fresh server
per value, started with BOOKINGS_MAX_WORKERS set to it: calls/s, p99 and server CPU/call.

Examples:
  python bench/run.py                                   # everything on SQLite, 10 s each
  python bench/run.py --postgres                        # the same on a durable PostgreSQL
  python bench/run.py --workloads create,avail_7x5 --duration 5
  python bench/run.py --profile create                  # py-spy the server during `create`
  python bench/run.py --workloads avail_7x5,mixed_7x5 --duration 5
  python bench/run.py --workloads avail_7x5,mixed_7x5 --cache-stats
  python bench/run.py --workloads '' --workers-curve 2,4,8,16   # the curve alone
  python bench/run.py --postgres --workloads reuseport  # create on 2 processes vs 1 (>= 1.5)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_harness as harness
import bulk_confirm
import ceiling_servers
import observability_cost
from count_statements import read_counts

BENCH_DIR = Path(__file__).resolve().parent
ALL_WORKLOADS = (
    "create",
    "create_confirm",
    "hold_then_book",
    "bulk_confirm_300",
    "avail_7x5",
    "mixed_7x5",
    "mixed_classes_7x5",
    "avail_31x20",
    "avail_1k",
    "avail_1m",
    "reuseport",
    "observability",
)
AVAILABILITY_WORKLOADS = ("avail_7x5", "avail_31x20", "avail_1k", "avail_1m")
#: The ceilings, in the order they are measured and printed: key, label, workload of load.py.
CEILINGS = (
    ("bare", "ceiling: bare grpcio", "noop"),
    ("noop", "noop", "noop"),
    ("insert", "ceiling: SQLite INSERT", "ceiling_insert"),
)
CURVE_WORKLOADS = ("create", "avail_7x5")
PG_DIR = Path("/tmp/bookings-bench-pg")
#: The project's throwaway PostgreSQL; PG_DURABLE=1 keeps fsync and synchronous commit on.
PG_SCRIPT = harness.ROOT / "scripts" / "pg_test_server.sh"


class Measured(Protocol):
    """A server process whose CPU and RSS a drive reads."""

    @property
    def name(self) -> str: ...

    @property
    def pid(self) -> int: ...


@dataclass
class Run:
    """State of one benchmark run."""

    args: argparse.Namespace
    workdir: Path
    database_url: str
    backend: str
    servers: list[harness.ServerProcess] = field(default_factory=list)
    metadata: harness.Metadata = field(default_factory=list)
    catalog: harness.Catalog | None = None
    results: dict[str, Any] = field(default_factory=dict)
    stored_bookings: int = 0
    #: The first server's /metrics port (--cache-stats), else None.
    metrics_port: int | None = None

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def port(self) -> int:
        return self.servers[0].port


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- database


def postgres_url(args: argparse.Namespace) -> str:
    """Start the throwaway PostgreSQL (durable) and create a fresh database for this run."""
    import psycopg

    env = dict(os.environ, PG_DURABLE="1")
    log(f"starting PostgreSQL with {PG_SCRIPT} (PG_DURABLE=1) in {PG_DIR}")
    started = subprocess.run(
        [str(PG_SCRIPT), "start", str(PG_DIR), str(args.pg_port)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if started.returncode != 0:
        raise SystemExit(f"could not start PostgreSQL:\n{started.stderr}")
    host_url = started.stdout.strip().rsplit("/", 1)[0]
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{host_url}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
    return f"{host_url}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def stop_postgres(args: argparse.Namespace, url: str) -> None:
    """Drop this run's database; stop the server --postgres started (unless --keep)."""
    import psycopg

    host_url, _, name = url.replace("+psycopg", "").rpartition("/")
    with psycopg.connect(f"{host_url}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[arg-type]
    if args.postgres and not args.keep:
        subprocess.run([str(PG_SCRIPT), "stop", str(PG_DIR)], capture_output=True, check=False)


def postgres_settings(url: str) -> dict[str, str]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: str(connection.exec_driver_sql(f"SHOW {name}").scalar())
                for name in ("server_version", "fsync", "synchronous_commit", "full_page_writes")
            }
    finally:
        engine.dispose()


# ---------------------------------------------------------------- servers and load


def start_server(
    run: Run,
    *,
    name: str,
    port: int,
    extra_args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> harness.ServerProcess:
    server = harness.ServerProcess(
        data_dir=run.data_dir,
        port=port,
        database_url=run.args.database_url
        or (None if run.backend == "sqlite" else run.database_url),
        reuse_port=run.args.reuse_port_supported,
        extra_args=("--log-level", run.args.server_log_level, *extra_args),
        name=name,
        env={"BENCH_STATEMENT_LOG": str(statement_log(run, name)), **(env or {})},
    )
    log(f"starting {name} on {server.address}")
    server.start()
    run.servers.append(server)
    return server


def statement_log(run: Run, name: str) -> Path:
    return run.workdir / f"statements-{name}.json"


def statement_counts(run: Run) -> Counter[str]:
    """Statements executed so far by all servers (--count-statements)."""
    total: Counter[str] = Counter()
    if run.args.count_statements:
        time.sleep(1.0)  # the server writes its totals twice a second
        for server in run.servers:
            total.update(read_counts(statement_log(run, server.name)))
    return total


def drive(
    run: Run,
    label: str,
    workload: str,
    params: dict[str, Any],
    *,
    channels: int = 1,
    work: tuple[int, int] | None = None,
    port: int | None = None,
    concurrency: int | None = None,
    servers: list[Measured] | None = None,
) -> dict[str, Any]:
    """Run bench/load.py in its own process against the running server(s): for the warm-up
    and the window of the run's settings, or for `work` = (warm-up calls, measured calls).
    `port` targets another server than the first; `servers` are the processes whose CPU and
    RSS are read (default: every project server running)."""
    measured: list[Measured] = list(run.servers) if servers is None else servers
    spec: dict[str, Any] = {
        "targets": [f"127.0.0.1:{port or run.port}"],
        "channels": channels,
        "concurrency": concurrency or run.args.concurrency,
        "warmup": run.args.warmup,
        "duration": run.args.duration,
        "metadata": run.metadata,
        "workload": workload,
        "params": params,
        "label": label,
    }
    if work is not None:
        spec["warmup_calls"], spec["calls"] = work
    statements_before = statement_counts(run)
    cache_before = cache_lookups(run)
    cpu_before = {s.name: harness.proc_cpu_seconds(s.pid) for s in measured}
    profiler = start_profiler(run, label)
    started = time.perf_counter()
    load = subprocess.run(
        [sys.executable, str(BENCH_DIR / "load.py")],
        input=json.dumps(spec),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    stop_profiler(profiler)
    if load.returncode != 0:
        raise RuntimeError(f"load generator failed for {label} (exit {load.returncode})")
    result: dict[str, Any] = json.loads(load.stdout)
    server_cpu = sum(harness.proc_cpu_seconds(s.pid) - cpu_before[s.name] for s in measured)
    done = result["total_ok"]  # warm-up included, like the server CPU figure
    result["server_cpu_s"] = server_cpu
    result["server_cpu_util"] = server_cpu / wall
    result["client_cpu_util"] = result["client_cpu_s"] / wall
    result["server_cpu_us_per_call"] = server_cpu / max(done, 1) * 1e6
    result["server_processes"] = len(measured)
    result["server_rss_kib"] = {s.name: harness.proc_rss_kib(s.pid) for s in measured}
    result["server_rss_mib"] = sum(result["server_rss_kib"].values()) / 1024
    result["load_average_1m"] = os.getloadavg()[0]
    if run.metrics_port is not None:
        cache_after = cache_lookups(run)
        cache_after.subtract(cache_before)
        result["availability_cache"] = dict(cache_after)
    if run.args.count_statements:
        statements = statement_counts(run)
        statements.subtract(statements_before)
        calls = max(done + result["errors"], 1)
        result["statements_per_call"] = {
            kind: round(n / calls, 2) for kind, n in statements.most_common() if n > 0
        }
        result["statements_per_call_total"] = round(
            sum(n for kind, n in statements.items() if not kind.startswith("pool")) / calls, 2
        )
    return result


_LOOKUP_LINE = re.compile(
    r'^bookings_availability_cache_(part_)?lookups_total\{result="(hit|miss)"\} (\S+)$'
)


def cache_lookups(run: Run) -> Counter[str]:
    """The first server's availability cache lookups so far (--cache-stats): answers and
    parts, reused ("hit") and computed ("miss")."""
    found: Counter[str] = Counter()
    if run.metrics_port is None:
        return found
    url = f"http://127.0.0.1:{run.metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        for line in response.read().decode().splitlines():
            match = _LOOKUP_LINE.match(line)
            if match:
                kind = "parts" if match.group(1) else "answers"
                found[f"{kind}_{'reused' if match.group(2) == 'hit' else 'computed'}"] = int(
                    float(match.group(3))
                )
    return found


def print_cache(label: str, result: dict[str, Any]) -> None:
    """The availability cache's work during a workload (warm-up included), if recorded."""
    cache = result.get("availability_cache")
    if not cache or not (cache.get("answers_computed") or cache.get("answers_reused")):
        return
    answers = cache["answers_computed"] + cache["answers_reused"]
    parts = cache["parts_computed"] + cache["parts_reused"]
    reused = f" ({cache['parts_reused'] / parts:.1%} reused)" if parts else ""
    print(
        f"  {label} cache: {cache['answers_computed']} of {answers} answers computed "
        f"({cache['answers_computed'] / answers:.1%}); parts computed "
        f"{cache['parts_computed']}, reused {cache['parts_reused']}{reused}"
    )


def start_profiler(run: Run, label: str) -> subprocess.Popen[bytes] | None:
    if label not in run.args.profile:
        return None
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    suffix = "svg" if run.args.profile_format == "flamegraph" else "txt"
    out = run.args.results_dir / f"profile-{run.backend}-{label}.{suffix}"
    log(f"    profiling {label} with py-spy -> {out}")
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(run.servers[0].pid),
            "--output",
            str(out),
            "--format",
            run.args.profile_format,
            "--duration",
            str(int(run.args.warmup + run.args.duration)),
            "--rate",
            "200",
            "--threads",
            *run.args.py_spy_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(profiler: subprocess.Popen[bytes] | None) -> None:
    if profiler is not None:
        profiler.wait(60)


# ---------------------------------------------------------------- workloads


def availability_params(run: Run, days: int, large: bool) -> dict[str, Any]:
    assert run.catalog is not None
    catalog = run.catalog
    staff = len(catalog.staff_ids) if large else min(5, len(catalog.staff_ids))
    slots_per_day = 16  # 09:00-17:00, 30-minute slots
    return {
        "service_id": catalog.large_service_id if large else catalog.small_service_id,
        "start": catalog.window_start.isoformat(),
        "days": days,
        "page_size": 1000,
        # a 7 x 5 answer holds every slot; a 31 x 20 answer is the first page of 1000
        "min_entries": min(1000, days * staff * slots_per_day) // 2,
    }


def ensure_bookings(run: Run, total: int) -> None:
    """Bulk-load bookings through the store layer until `total` are stored."""
    import bulk

    assert run.catalog is not None
    if run.stored_bookings >= total:
        return
    log(f"bulk-loading bookings: {run.stored_bookings:,} -> {total:,}")
    started = time.perf_counter()
    bulk.load_bookings(
        run.database_url,
        site_id=harness.SITE_ID,
        catalog=run.catalog,
        first=run.stored_bookings,
        count=total - run.stored_bookings,
    )
    seconds = time.perf_counter() - started
    log(f"    loaded {total - run.stored_bookings:,} rows in {seconds:.1f}s")
    run.results.setdefault("bulk_load", []).append(
        {"rows": total - run.stored_bookings, "seconds": seconds, "total": total}
    )
    run.stored_bookings = total


def booking_params(run: Run) -> dict[str, Any]:
    assert run.catalog is not None
    return {"session_ids": run.catalog.session_ids, "service_id": run.catalog.class_service_id}


def run_workload(run: Run, name: str) -> None:
    if name in ("create", "create_confirm", "hold_then_book"):
        record(run, name, drive(run, name, name, booking_params(run)))
    elif name == "bulk_confirm_300":
        run_bulk_confirm(run)
    elif name in AVAILABILITY_WORKLOADS:
        run_availability(run, name)
    elif name == "mixed_7x5":
        run_mixed(run)
    elif name == "mixed_classes_7x5":
        run_mixed_classes(run)
    elif name == "reuseport":
        run_reuseport(run, booking_params(run))
    elif name == "observability":
        run_observability(run, booking_params(run))


def run_availability(run: Run, name: str) -> None:
    """One avail_* workload (warm, N in flight), then its cold and warm latency one by one."""
    if name == "avail_1k":
        ensure_bookings(run, 1_000)
    elif name == "avail_1m":
        ensure_bookings(run, run.args.large_bookings)
    params = availability_params(run, 31 if name == "avail_31x20" else 7, name == "avail_31x20")
    result = drive(run, name, "availability", params)
    record(run, name, result)
    if name == "avail_1m":
        run.results["rss_after_1m_mib"] = result["server_rss_mib"]
        print(
            f"  server RSS after {name} ({run.stored_bookings:,} bookings stored): "
            f"{result['server_rss_mib']:.1f} MiB",
            flush=True,
        )
    measure_cold_warm(run, name, params)


def measure_cold_warm(run: Run, name: str, params: dict[str, Any]) -> None:
    """--cold-samples queries one at a time, each right after a write that changes the
    answer (cold), then as many identical ones with no write between (warm); only the
    queries are timed. Two uncounted units before each."""
    samples = run.args.cold_samples
    if samples <= 0:
        return
    result = run.results["workloads"][name]
    cold = drive(run, f"{name} cold", "availability_cold", params, work=(2, samples), concurrency=1)
    warm = drive(run, f"{name} warm", "availability", params, work=(2, samples), concurrency=1)
    result["cold"], result["warm_sequential"] = cold, warm
    result["cold_over_warm_p50"] = cold["p50_ms"] / max(warm["p50_ms"], 1e-9)
    errors = cold["errors"] + warm["errors"] + side_errors(cold)
    print(
        f"  {name} one at a time, {samples} each: cold p50 {cold['p50_ms']:.2f} ms "
        f"p99 {cold['p99_ms']:.2f} ms, warm p50 {warm['p50_ms']:.2f} ms "
        f"p99 {warm['p99_ms']:.2f} ms, cold / warm p50 x{result['cold_over_warm_p50']:.2f}"
        f"{f'  ({errors} errors)' if errors else ''}",
        flush=True,
    )


def side_errors(result: dict[str, Any]) -> int:
    return sum(int(side["errors"]) for side in result.get("side", {}).values())


def run_mixed(run: Run) -> None:
    """avail_7x5's query with writes in between; beside avail_7x5 when both ran."""
    record_mixed(run, "mixed_7x5", "avail_7x5", availability_params(run, 7, False))


def run_mixed_classes(run: Run) -> None:
    """avail_7x5's query with the class service too: read-only, then with writes."""
    assert run.catalog is not None
    params = {
        **availability_params(run, 7, False),
        "service_ids": [run.catalog.small_service_id, run.catalog.class_service_id],
    }
    record(run, "avail_classes_7x5", drive(run, "avail_classes_7x5", "availability", params))
    record_mixed(run, "mixed_classes_7x5", "avail_classes_7x5", params)


def record_mixed(run: Run, label: str, read_only_label: str, query: dict[str, Any]) -> None:
    """`query` with one write per --mixed-reads-per-write queries, beside `read_only_label`."""
    params = {**query, "reads_per_write": run.args.mixed_reads_per_write, "cancel_lag": 8}
    result = drive(run, label, "mixed_availability", params)
    sides = result["side"]
    result["writes"] = {
        "ok": sum(side["ok"] for side in sides.values()),
        "calls_per_s": sum(side["calls_per_s"] for side in sides.values()),
        "errors": side_errors(result),
        "by_kind": sides,
    }
    read_only = run.results["workloads"].get(read_only_label)
    if read_only:
        result["vs_read_only"] = ratios(result, read_only)
    record(run, label, result)
    print_mixed(label, read_only_label, result)


def print_mixed(label: str, read_only_label: str, result: dict[str, Any]) -> None:
    writes = result["writes"]
    kinds = ", ".join(
        f"{kind} {side['calls_per_s']:.1f}/s p99 {side['p99_ms']:.1f} ms"
        for kind, side in writes["by_kind"].items()
    )
    print(f"  {label} writes: {writes['calls_per_s']:.1f}/s ({kinds}), {writes['errors']} err")
    versus = result.get("vs_read_only")
    if versus:
        print(
            f"  {label} / {read_only_label} (read-only): calls/s x{versus['calls']:.3f}, "
            f"p50 x{versus['p50']:.2f}, p99 x{versus['p99']:.2f}",
            flush=True,
        )
    else:
        print(f"  {label}: run {read_only_label} in the same run for the mixed / read-only ratio")


# ---------------------------------------------------------------- ceilings and the curve


def measure_ceilings(run: Run) -> None:
    """The three ceilings, one after the other, by the same load generator: the bare grpcio
    server and the one-INSERT server each in a process of their own, started for it with the
    project server's worker threads, and Health/Check on the project server."""
    workers = harness.serve_worker_threads()
    figures: dict[str, Any] = {}
    for key, label, workload in CEILINGS:
        if key == "noop":
            figures[key] = drive(run, label, workload, {})
            continue
        server = ceiling_servers.CeilingProcess(
            kind=key,
            workers=workers,
            sqlite_path=run.workdir / "ceiling-insert.sqlite3" if key == "insert" else None,
        )
        log(f"starting {label} ({workers} worker threads)")
        server.start()
        try:
            figures[key] = drive(run, label, workload, {}, port=server.port, servers=[server])
        finally:
            server.stop()
    run.results["ceilings"] = {"workers": workers, **figures}
    for key, label, _ in CEILINGS:
        record(run, key if key == "noop" else f"ceiling_{key}", figures[key], label=label)


def run_workers_curve(run: Run) -> None:
    """create and avail_7x5 on a fresh server per --workers-curve value (BOOKINGS_MAX_WORKERS),
    on the run's database; only that server's CPU is read."""
    cases = (
        ("create", "create", booking_params(run)),
        ("avail_7x5", "availability", availability_params(run, 7, False)),
    )
    curve: dict[str, Any] = {}
    print("  workers curve (a fresh server per BOOKINGS_MAX_WORKERS value):", flush=True)
    print_curve_header()
    for workers in run.args.workers_curve:
        server = start_server(
            run,
            name=f"server-w{workers}",
            port=harness.free_port(),
            env={"BOOKINGS_MAX_WORKERS": str(workers)},
        )
        try:
            figures = {
                label: drive(
                    run,
                    f"workers={workers} {label}",
                    workload,
                    params,
                    port=server.port,
                    servers=[server],
                )
                for label, workload, params in cases
            }
        finally:
            run.servers.remove(server)
            server.stop()
        curve[str(workers)] = figures
        print_curve_row(workers, figures)
    run.results["workers_curve"] = curve


def print_curve_header() -> None:
    columns = "".join(
        f"  {name + ' /s':>14s} {'p99 ms':>8s} {'us/call':>8s}" for name in CURVE_WORKLOADS
    )
    print(f"    {'workers':>7s}{columns}", flush=True)


def print_curve_row(workers: int, figures: dict[str, Any]) -> None:
    cells = "".join(
        f"  {figures[name]['calls_per_s']:14.1f} {figures[name]['p99_ms']:8.1f} "
        f"{figures[name]['server_cpu_us_per_call']:8.0f}"
        for name in CURVE_WORKLOADS
    )
    print(f"    {workers:7d}{cells}", flush=True)


def run_reuseport(run: Run, booking_params: dict[str, Any]) -> None:
    if not run.args.reuse_port_supported:
        log("reuseport: `bookings serve` has no --reuse-port flag; skipped")
        return
    cases: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("noop", "noop", {}),
        ("create", "create", booking_params),
        ("avail_7x5", "availability", availability_params(run, 7, False)),
    )
    figures: dict[str, Any] = {}
    for processes in (1, 2):
        if processes == 2:
            start_server(run, name="server-2", port=run.port)
        for label, workload, params in cases:
            key = f"{label}@{processes}p"
            figures[key] = drive(run, f"reuseport {key}", workload, params, channels=4)
            print_row(key, figures[key])
    run.servers.pop().stop()
    for label, _, _ in cases:
        one, two = figures[f"{label}@1p"], figures[f"{label}@2p"]
        figures[f"{label}_speedup"] = two["calls_per_s"] / max(one["calls_per_s"], 1e-9)
    run.results["reuseport"] = figures
    speedups = ", ".join(f"{label} x{figures[f'{label}_speedup']:.2f}" for label, _, _ in cases)
    print(f"  two processes / one (calls/s, 4 connections): {speedups}", flush=True)


def run_observability(run: Run, booking_params: dict[str, Any]) -> None:
    """noop and create on fresh servers of the run's database: one plain, others with metrics
    and tracing on, taking turns (bench/observability_cost.py)."""
    sink = observability_cost.OtlpSink()
    servers = [("off", start_server(run, name="server-off", port=harness.free_port()))]
    metrics_urls = []
    for state in observability_cost.OBSERVED:
        metrics_port = harness.free_port()
        metrics_urls.append(f"http://127.0.0.1:{metrics_port}/metrics")
        server = start_server(
            run,
            name=f"server-{state}",
            port=harness.free_port(),
            extra_args=("--metrics-address", f"127.0.0.1:{metrics_port}"),
            env=observability_cost.observed_env(sink, state),
        )
        servers.append((state, server))
    scraper = observability_cost.Scraper(metrics_urls)
    rounds: dict[str, list[dict[str, Any]]] = {}
    try:
        for label, params in (("noop", {}), ("create", booking_params)):
            for index in range(run.args.observability_rounds):
                for state, server in observability_cost.round_order(index, servers):
                    key = f"{state} {label}"
                    before = harness.proc_cpu_seconds(server.pid)
                    result = drive(
                        run, f"observability {key} #{index + 1}", label, params, port=server.port
                    )
                    observability_cost.add_own_cpu(
                        result, harness.proc_cpu_seconds(server.pid) - before
                    )
                    rounds.setdefault(key, []).append(result)
    finally:
        scraper.stop()
        for _, server in servers:
            run.servers.remove(server)
            server.stop()
        sink.stop()
    figures = observability_cost.summary(rounds)
    figures.update(
        spans_exported=sink.spans, scrapes=scraper.scrapes, scrape_bytes=scraper.last_bytes
    )
    run.results["observability"] = figures
    observability_cost.print_summary(figures)


def run_bulk_confirm(run: Run) -> None:
    """The single confirmations (300 per bulk call), then the bulk calls, each side on
    bookings of its own after one uncounted unit (300 singles, one bulk call); records both
    rows and their comparison."""
    assert run.catalog is not None
    batch, calls = bulk_confirm.BATCH, run.args.bulk_calls
    needed = (calls + 1) * batch
    log(f"bulk_confirm_300: creating {2 * needed:,} bookings to decide (not measured)")
    ids = bulk_confirm.created_bookings(
        run.servers[0].address,
        run.metadata,
        run.catalog,
        2 * needed,
        prefix=f"bulk-{uuid.uuid4().hex[:8]}",
    )
    single = drive(
        run,
        "confirm_single",
        "confirm",
        {"booking_ids": ids[:needed], "batch": 1},
        work=(batch, calls * batch),
    )
    record(run, "confirm_single", single)
    bulk = drive(
        run,
        "bulk_confirm_300",
        "bulk_confirm",
        # all the bulk calls may be in flight together, each then lasting as long as all
        {"booking_ids": ids[needed:], "batch": batch, "timeout": 600},
        work=(1, calls),
    )
    record(run, "bulk_confirm_300", bulk)
    comparison = bulk_confirm.compare(single, bulk)
    run.results["bulk_confirm_300_vs_single"] = comparison
    print(
        f"  a {batch}-item bulk confirm costs {comparison['time_ratio']:.3f} of {batch} single "
        f"calls (wall time at saturation; server CPU {comparison['cpu_ratio']:.3f})",
        flush=True,
    )


def ratios(result: dict[str, Any], reference: dict[str, Any]) -> dict[str, float]:
    """calls/s, p50 and p99 of `result` over those of `reference`."""
    return {
        "calls": result["calls_per_s"] / max(reference["calls_per_s"], 1e-9),
        "p50": result["p50_ms"] / max(reference["p50_ms"], 1e-9),
        "p99": result["p99_ms"] / max(reference["p99_ms"], 1e-9),
    }


def record(run: Run, name: str, result: dict[str, Any], *, label: str | None = None) -> None:
    """Store a workload's result with its ratios to each ceiling of the run (ratio_calls,
    ratio_p50 and ratio_p99: to the project's no-op, as the targets are), and print it."""
    ceilings = {
        key: figures
        for key, figures in run.results.get("ceilings", {}).items()
        if isinstance(figures, dict) and figures is not result
    }
    result["ratios"] = {key: ratios(result, figures) for key, figures in ceilings.items()}
    if "noop" in result["ratios"]:
        noop = result["ratios"]["noop"]
        result["ratio_calls"], result["ratio_p50"], result["ratio_p99"] = (
            noop["calls"],
            noop["p50"],
            noop["p99"],
        )
    run.results["workloads"][name] = result
    print_row(label or name, result)
    print_cache(label or name, result)


def print_row(name: str, result: dict[str, Any]) -> None:
    found = result.get("ratios", {})
    calls = " ".join(
        f"{key} {found[key]['calls']:6.3g}" if key in found else f"{key} {'-':>6s}"
        for key, _, _ in CEILINGS
    )
    errors = result["errors"]
    detail = f" {result['error_codes']}" if errors else ""
    print(
        f"  {name:22s} {result['calls_per_s']:8.1f}/s  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  err {errors:4d}  x {calls}  "
        f"srv {result['server_cpu_us_per_call']:6.0f} us/call  "
        f"rss {result.get('server_rss_mib', 0):5.0f} MiB{detail}",
        flush=True,
    )


# ---------------------------------------------------------------- targets


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each PERFORMANCE.md target of this run: figure, threshold, met or missed."""
    w = results["workloads"]
    checks: list[dict[str, Any]] = []

    def check(name: str, value: float | None, limit: float, higher_is_better: bool) -> None:
        if value is None:
            return
        met = value >= limit if higher_is_better else value <= limit
        checks.append(
            {
                "target": name,
                "value": round(value, 3),
                "limit": limit,
                "met": met,
                "by": round(value / limit, 3),
            }
        )

    def get(workload: str, key: str) -> float | None:
        value = w.get(workload, {}).get(key)
        return float(value) if value is not None else None

    check("CreateBooking >= 0.30 x noop calls/s", get("create", "ratio_calls"), 0.30, True)
    check(
        "Create+Confirm >= 0.15 x noop (pairs/s)",
        get("create_confirm", "ratio_calls"),
        0.15,
        True,
    )
    check("Availability 7d x 5 staff >= 0.25 x noop", get("avail_7x5", "ratio_calls"), 0.25, True)
    check(
        "Availability 31d x 20 staff p99 <= 10 x noop p99",
        get("avail_31x20", "ratio_p99"),
        10.0,
        False,
    )
    check(
        "Bulk confirm of 300 < 300 single confirms (time ratio)",
        results.get("bulk_confirm_300_vs_single", {}).get("time_ratio"),
        1.0,
        False,
    )
    observability = results.get("observability", {})
    check(
        "CreateBooking with metrics and tracing (every call sampled) >= 0.90 x without",
        observability.get("create_on_over_off_calls"),
        0.90,
        True,
    )
    check(
        "CreateBooking with metrics and tracing (10 % sampled) >= 0.90 x without",
        observability.get("create_sampled_over_off_calls"),
        0.90,
        True,
    )
    if results.get("backend") == "postgresql":
        check(
            "CreateBooking on 2 processes >= 1.5 x 1 process (PostgreSQL, SO_REUSEPORT)",
            results.get("reuseport", {}).get("create_speedup"),
            1.5,
            True,
        )
    small, large = get("avail_1k", "p50_ms"), get("avail_1m", "p50_ms")
    if small and large:
        check("Availability p50 with 1M / with 1k bookings <= 1.5", large / small, 1.5, False)
    return checks


# ---------------------------------------------------------------- main


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    backend = parser.add_mutually_exclusive_group()
    backend.add_argument("--database-url", help="PostgreSQL URL of an EMPTY database to use")
    backend.add_argument(
        "--postgres",
        action="store_true",
        help="start a throwaway durable PostgreSQL (PG_DURABLE=1) and use a fresh database",
    )
    parser.add_argument("--pg-port", type=int, default=55439)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight")
    parser.add_argument("--workloads", default=",".join(ALL_WORKLOADS))
    parser.add_argument("--staff", type=int, default=20, help="staff members in the catalog")
    parser.add_argument("--sessions", type=int, default=200, help="class sessions")
    parser.add_argument("--large-bookings", type=int, default=1_000_000)
    parser.add_argument(
        "--bulk-calls",
        type=int,
        default=6,
        help="bulk_confirm_300: bulk calls measured (and 300 x as many single confirmations)",
    )
    parser.add_argument(
        "--observability-rounds",
        type=int,
        default=4,
        help="observability: rounds of noop and create on the plain and the observed server",
    )
    parser.add_argument(
        "--cold-samples",
        type=int,
        default=40,
        help="avail_*: queries timed one at a time, cold (each right after a write) and warm "
        "(repeated); 0 skips both",
    )
    parser.add_argument(
        "--mixed-reads-per-write",
        type=int,
        default=10,
        help="mixed_7x5: availability queries per write",
    )
    parser.add_argument(
        "--workers-curve",
        default="",
        metavar="N,N,...",
        help="also run create and avail_7x5 on a fresh server per worker count "
        "(BOOKINGS_MAX_WORKERS), e.g. 2,4,8,16; default off",
    )
    parser.add_argument("--server-log-level", default="WARNING")
    parser.add_argument("--profile", default="", help="workloads to py-spy, comma separated")
    parser.add_argument(
        "--profile-format",
        choices=("raw", "flamegraph", "speedscope"),
        default="raw",
        help="raw: collapsed stacks (summarise with bench/profile_summary.py)",
    )
    parser.add_argument("--py-spy-args", nargs="*", default=[])
    parser.add_argument(
        "--count-statements",
        action="store_true",
        help="run the server through bench/count_statements.py: SQL statements per call "
        "(slightly slower; not for the headline figures)",
    )
    parser.add_argument(
        "--cache-stats",
        action="store_true",
        help="serve the first server's metrics and report, per workload, the availability "
        "answers and parts computed and reused (adds the metrics interceptor's cost)",
    )
    parser.add_argument("--json", type=Path, help="write results here")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir")
    args = parser.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(ALL_WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {sorted(unknown)}")
    args.profile = [w for w in args.profile.split(",") if w]
    try:
        args.workers_curve = [int(n) for n in args.workers_curve.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--workers-curve takes worker counts, e.g. 2,4,8,16: {args.workers_curve!r}")
    if any(n < 1 for n in args.workers_curve):
        parser.error("--workers-curve: worker counts are at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    args.reuse_port_supported = harness.serve_supports("--reuse-port")
    if args.count_statements:
        os.environ["BENCH_SERVER_MODULE"] = "count_statements"
    workdir = Path(tempfile.mkdtemp(prefix="bookings-bench-"))
    url, backend = _database(args, workdir)
    run = Run(args=args, workdir=workdir, database_url=url, backend=backend)
    run.results = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "machine": machine(),
        "load_average_at_start": os.getloadavg(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {
            k: v for k, v in vars(args).items() if k not in ("json", "results_dir", "database_url")
        },
        "workloads": {},
    }
    if backend == "postgresql":
        run.results["postgres"] = postgres_settings(url)
    try:
        harness.migrate_database(url)
        run.metadata = harness.owner_metadata(run.data_dir)
        metrics: tuple[str, ...] = ()
        if args.cache_stats:
            run.metrics_port = harness.free_port()
            metrics = ("--metrics-address", f"127.0.0.1:{run.metrics_port}")
        start_server(run, name="server-1", port=harness.free_port(), extra_args=metrics)
        if args.workloads or args.workers_curve:
            log(f"seeding catalog: {args.staff} staff, {args.sessions} class sessions")
            with harness.stubs(run.servers[0].address, run.metadata) as api:
                run.catalog = harness.seed_catalog(api, staff=args.staff, sessions=args.sessions)
        run.results["catalog"] = {"staff": args.staff, "sessions": args.sessions}
        print(
            f"bookings bench: {backend}, {args.concurrency} in flight, "
            f"{args.warmup:g}s warm-up + {args.duration:g}s per workload",
            flush=True,
        )
        measure_ceilings(run)
        for name in args.workloads:
            run_workload(run, name)
        if args.workers_curve:
            run_workers_curve(run)
        run.results["targets"] = targets(run.results)
    finally:
        for server in reversed(run.servers):
            server.stop()
        out = args.json or args.results_dir / (f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{backend}.json")
        out.write_text(json.dumps(run.results, indent=2, default=str))
        log(f"results: {out}")
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        if args.postgres:
            stop_postgres(args, url)
    _print_targets(run.results.get("targets", []))
    return 0


def _database(args: argparse.Namespace, workdir: Path) -> tuple[str, str]:
    """The database URL to bench against and its backend ("sqlite" or "postgresql")."""
    if args.postgres:
        return postgres_url(args), "postgresql"
    if args.database_url:
        url: str = args.database_url
        return url, "sqlite" if url.startswith("sqlite") else "postgresql"
    return harness.sqlite_url(workdir / "data"), "sqlite"


def _print_targets(checks: list[dict[str, Any]]) -> None:
    for check in checks:
        verdict = "met   " if check["met"] else "MISSED"
        print(f"  {verdict} {check['target']}: {check['value']} (limit {check['limit']})")


if __name__ == "__main__":
    sys.exit(main())
