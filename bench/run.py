#!/usr/bin/env python3
"""Benchmarks of the bookings server, as ratios to a no-op call on the same server.

Starts `bookings serve` from the working tree in a subprocess (SQLite in a temp data dir by
default, PostgreSQL with --database-url or --postgres), seeds a catalog over CatalogService,
and drives each workload from a separate load-generator process (bench/load.py: grpc.aio,
N calls in flight for a fixed time after a warm-up). Prints calls/s, p50, p99 and errors per
workload and the ratio to grpc.health.v1 Health/Check measured on the same server in the same
run; writes everything as JSON (default bench/results/<time>-<backend>.json).

Workloads (--workloads, comma separated, default all):
  create          CreateBooking of one participant in a class session (sessions rotate)
  create_confirm  CreateBooking then ConfirmOrDeclineBooking; figures are pairs
  hold_then_book  CreateHold, CreateBooking(hold_id), ConfirmOrDeclineBooking; figures are triples
  bulk_confirm_300  one BulkConfirmOrDeclineBooking of 300 items versus 300 single
                  ConfirmOrDeclineBooking calls (rows bulk_confirm_300 and confirm_single), a
                  fixed amount of work each (--bulk-calls bulk calls, 300 x as many singles) on
                  CREATED bookings prepared with BulkCreateBooking (not measured)
  avail_7x5       QueryAvailability, 7 days, 30-min service with 5 staff (one page, <= 1000)
  avail_31x20     QueryAvailability, 31 days, 30-min service with 20 staff (first page of 1000)
  avail_1k        avail_7x5 with 1,000 bookings stored (bulk-loaded through the store layer)
  avail_1m        avail_7x5 with --large-bookings (1,000,000) stored
  reuseport       noop, create and avail_7x5 on two server processes sharing one port
                  (SO_REUSEPORT) versus one, both over 4 client connections
  observability   noop and create on fresh servers with --metrics-address and OTLP tracing
                  on (every call sampled; 10 % sampled), spans exported to bench/otlp_sink.py,
                  /metrics scraped every 5 s, versus a fresh plain one, taking turns for
                  --observability-rounds rounds (bench/observability_cost.py)

Examples:
  python bench/run.py                                   # everything on SQLite, 10 s each
  python bench/run.py --postgres                        # the same on a durable PostgreSQL
  python bench/run.py --workloads create,avail_7x5 --duration 5
  python bench/run.py --profile create                  # py-spy the server during `create`
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_harness as harness
import bulk_confirm
import observability_cost
from count_statements import read_counts

BENCH_DIR = Path(__file__).resolve().parent
ALL_WORKLOADS = (
    "create",
    "create_confirm",
    "hold_then_book",
    "bulk_confirm_300",
    "avail_7x5",
    "avail_31x20",
    "avail_1k",
    "avail_1m",
    "reuseport",
    "observability",
)
PG_DIR = Path("/tmp/bookings-bench-pg")
#: The project's throwaway PostgreSQL; PG_DURABLE=1 keeps fsync and synchronous commit on.
PG_SCRIPT = harness.ROOT / "scripts" / "pg_test_server.sh"


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
) -> dict[str, Any]:
    """Run bench/load.py in its own process against the running server(s): for the warm-up
    and the window of the run's settings, or for `work` = (warm-up calls, measured calls).
    `port` targets another server than the first."""
    spec: dict[str, Any] = {
        "targets": [f"127.0.0.1:{port or run.port}"],
        "channels": channels,
        "concurrency": run.args.concurrency,
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
    cpu_before = {s.name: harness.proc_cpu_seconds(s.pid) for s in run.servers}
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
    server_cpu = sum(harness.proc_cpu_seconds(s.pid) - cpu_before[s.name] for s in run.servers)
    done = result["total_ok"]  # warm-up included, like the server CPU figure
    result["server_cpu_s"] = server_cpu
    result["server_cpu_util"] = server_cpu / wall
    result["client_cpu_util"] = result["client_cpu_s"] / wall
    result["server_cpu_us_per_call"] = server_cpu / max(done, 1) * 1e6
    result["server_processes"] = len(run.servers)
    result["load_average_1m"] = os.getloadavg()[0]
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


def run_workload(run: Run, name: str) -> None:
    assert run.catalog is not None
    catalog = run.catalog
    booking_params = {
        "session_ids": catalog.session_ids,
        "service_id": catalog.class_service_id,
    }
    if name in ("create", "create_confirm", "hold_then_book"):
        record(run, name, drive(run, name, name, booking_params))
    elif name == "bulk_confirm_300":
        run_bulk_confirm(run)
    elif name == "avail_7x5":
        record(run, name, drive(run, name, "availability", availability_params(run, 7, False)))
    elif name == "avail_31x20":
        record(run, name, drive(run, name, "availability", availability_params(run, 31, True)))
    elif name == "avail_1k":
        ensure_bookings(run, 1_000)
        record(run, name, drive(run, name, "availability", availability_params(run, 7, False)))
    elif name == "avail_1m":
        ensure_bookings(run, run.args.large_bookings)
        record(run, name, drive(run, name, "availability", availability_params(run, 7, False)))
    elif name == "reuseport":
        run_reuseport(run, booking_params)
    elif name == "observability":
        run_observability(run, booking_params)


def run_reuseport(run: Run, booking_params: dict[str, Any]) -> None:
    if not run.args.reuse_port_supported:
        log("reuseport: `bookings serve` has no --reuse-port flag; skipped")
        return
    cases = (
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
            print_row(key, figures[key], None)
    run.servers.pop().stop()
    for label, _, _ in cases:
        one, two = figures[f"{label}@1p"], figures[f"{label}@2p"]
        figures[f"{label}_speedup"] = two["calls_per_s"] / max(one["calls_per_s"], 1e-9)
    run.results["reuseport"] = figures


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


def record(run: Run, name: str, result: dict[str, Any]) -> None:
    noop = run.results["workloads"].get("noop")
    if noop and name != "noop":
        result["ratio_calls"] = result["calls_per_s"] / max(noop["calls_per_s"], 1e-9)
        result["ratio_p50"] = result["p50_ms"] / max(noop["p50_ms"], 1e-9)
        result["ratio_p99"] = result["p99_ms"] / max(noop["p99_ms"], 1e-9)
    run.results["workloads"][name] = result
    print_row(name, result, noop)


def print_row(name: str, result: dict[str, Any], noop: dict[str, Any] | None) -> None:
    ratio = f"{result['ratio_calls']:6.3g}" if noop and "ratio_calls" in result else "     -"
    errors = result["errors"]
    detail = f" {result['error_codes']}" if errors else ""
    print(
        f"  {name:22s} {result['calls_per_s']:8.1f}/s  p50 {result['p50_ms']:7.2f} ms  "
        f"p99 {result['p99_ms']:7.2f} ms  err {errors:4d}  x noop {ratio}  "
        f"srv {result['server_cpu_us_per_call']:6.0f} us/call{detail}",
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
    parser.add_argument("--json", type=Path, help="write results here")
    parser.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir")
    args = parser.parse_args(argv)
    args.workloads = [w for w in args.workloads.split(",") if w]
    unknown = set(args.workloads) - set(ALL_WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads: {sorted(unknown)}")
    args.profile = [w for w in args.profile.split(",") if w]
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
        start_server(run, name="server-1", port=harness.free_port())
        if args.workloads:
            log(f"seeding catalog: {args.staff} staff, {args.sessions} class sessions")
            with harness.stubs(run.servers[0].address, run.metadata) as api:
                run.catalog = harness.seed_catalog(api, staff=args.staff, sessions=args.sessions)
        run.results["catalog"] = {"staff": args.staff, "sessions": args.sessions}
        print(
            f"bookings bench: {backend}, {args.concurrency} in flight, "
            f"{args.warmup:g}s warm-up + {args.duration:g}s per workload",
            flush=True,
        )
        record(run, "noop", drive(run, "noop", "noop", {}))
        for name in args.workloads:
            run_workload(run, name)
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
