"""When the database fails (RELIABILITY.md promise 6), under a create + confirm load against real
`bookings serve` processes: PostgreSQL killed and restarted, PostgreSQL hung (SIGSTOP) longer
than the call deadline, PostgreSQL out of connections, SQLite locked by another process, SQLite
out of disk. Every call ends with a precise, retryable status within its bound (never UNKNOWN
or INTERNAL), the server recovers by itself, and afterwards nothing acknowledged is lost,
nothing is overbooked, no request_id is stored twice and no definite failure was written."""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2

from bookings_server.store.migrations import migrate
from fault.database_load import (
    FaultLedger,
    by_reason,
    check_answers,
    load_running,
    median_seconds,
    verify_rows,
    wait_for_ok,
)
from fault.database_sizes import DatabaseFaultSize, database_size
from fault.fault_support import FaultSize, harness
from fault.postgres_cluster import PostgresCluster

T = TypeVar("T")
#: Class sessions the load books, of this capacity (they fill up: refusals are checked too).
SESSIONS, CAPACITY = 60, 12
#: The client's own deadline: longer than the server's cap, so the server's answer arrives.
CLIENT_TIMEOUT = 8.0


@pytest.fixture(scope="module")
def cluster(postgres_server: object) -> Iterator[PostgresCluster]:
    """This module's own PostgreSQL (the session's shared one is never broken on purpose)."""
    own = PostgresCluster(harness.free_port())
    own.start()
    try:
        yield own
    finally:
        own.destroy()


@pytest.fixture
def databases(cluster: PostgresCluster) -> Iterator[Callable[[], str]]:
    """`databases()`: the URL of a new, migrated database on the cluster (dropped at the end)."""
    names: list[str] = []

    def create() -> str:
        names.append(f"fault_{uuid.uuid4().hex[:12]}")
        cluster.admin(f"CREATE DATABASE {names[-1]}")
        migrate(cluster.url(names[-1]))
        return cluster.url(names[-1])

    yield create
    cluster.thaw()
    for name in names:
        cluster.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(databases: Callable[[], str]) -> str:
    return databases()


@pytest.fixture
def dbsize(fault_size: FaultSize) -> DatabaseFaultSize:
    return database_size(fault_size)


class _Servers:
    """`bookings serve` processes sharing a data directory (its token secret)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.metadata = harness.owner_metadata(data_dir)
        self.started: list[harness.ServerProcess] = []

    def start(self, database_url: str, *flags: str) -> harness.ServerProcess:
        server = harness.ServerProcess(
            self.data_dir,
            harness.free_port(),
            database_url=database_url,
            extra_args=("--log-level", "WARNING", *flags),
            name=f"server-{len(self.started)}",
        ).start()
        self.started.append(server)
        return server

    def seed(self) -> harness.Catalog:
        with harness.stubs(self.started[0].address, self.metadata) as api:
            return harness.seed_catalog(api, staff=1, sessions=SESSIONS, class_capacity=CAPACITY)

    def verify(self, catalog: harness.Catalog, ledger: FaultLedger, counts: Counter[str]) -> None:
        with harness.stubs(self.started[0].address, self.metadata) as api:
            verify_rows(api, catalog, ledger, counts)

    def log_lines(self) -> list[dict[str, object]]:
        lines = []
        for server in self.started:
            for line in server.log_path.read_text(errors="replace").splitlines():
                if line.startswith("{"):
                    lines.append(json.loads(line))
        return lines

    def stop(self) -> None:
        for server in self.started:
            server.stop()


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[_Servers]:
    started = _Servers(tmp_path / "servers")
    try:
        yield started
    finally:
        started.stop()


def _addresses(servers: _Servers) -> list[str]:
    return [server.address for server in servers.started]


def _record_ms(counts: Counter[str], what: str, seconds: float) -> None:
    """Keep the worst figure of the run (milliseconds) among the printed counts."""
    key = f"{what} (ms)"
    counts[key] = max(counts[key], round(seconds * 1000))


# ---------------------------------------------------------------- PostgreSQL killed


@pytest.mark.postgres
def test_postgres_killed_under_load_fails_calls_fast_and_the_server_recovers_by_itself(
    cluster: PostgresCluster,
    pg_url: str,
    servers: _Servers,
    dbsize: DatabaseFaultSize,
    fault_counts: Counter[str],
) -> None:
    servers.start(pg_url)
    catalog = servers.seed()
    ledger = FaultLedger()
    down: list[tuple[float, float]] = []
    recoveries = []
    with load_running(
        _addresses(servers),
        servers.metadata,
        catalog,
        ledger,
        threads_per_server=dbsize.load_threads,
        timeout=CLIENT_TIMEOUT,
    ):
        for _ in range(dbsize.database_kills):
            time.sleep(dbsize.load_seconds)
            cluster.kill9()
            killed = time.monotonic()
            time.sleep(1.0)
            cluster.start()
            restarted = time.monotonic()
            down.append((killed + 0.2, restarted))  # after the calls in flight at the kill
            recoveries.append(wait_for_ok(ledger, restarted, timeout=15))
            fault_counts["database kills (kill -9)"] += 1
        time.sleep(dbsize.load_seconds)

    while_down = [a for start, end in down for a in ledger.failures(since=start, until=end)]
    assert while_down, "no call was made while the database was down"
    assert set(by_reason(while_down)) == {"UNAVAILABLE STORE_UNAVAILABLE"}
    assert median_seconds(while_down) < 0.5, "calls to a dead database must fail fast"
    assert max(recoveries) < 5, f"recovery took {max(recoveries):.1f} s"
    _record_ms(fault_counts, "postgres down: median failing call", median_seconds(while_down))
    _record_ms(fault_counts, "postgres restarted: slowest recovery", max(recoveries))
    check_answers(ledger, fault_counts, "postgres killed")
    servers.verify(catalog, ledger, fault_counts)


# ---------------------------------------------------------------- PostgreSQL hung


#: The servers' cap on a call (--max-call-seconds), shorter than the hang and the client's.
HANG_CALL_CAP = 1.5
HANG_SECONDS = 3.5
#: How long after its cap a call may end: the watchdog's 0.5 s, and a connection attempt
#: begun just before the cap (libpq waits 2 s at least), plus scheduling on a busy machine.
HANG_SLACK = 2.5
#: A pool smaller than the load (3 threads per connection), so that cut connections would
#: show as extra backends if the pool were not bounded.
HANG_POOL = ("--db-pool-size", "3", "--db-max-overflow", "1")
HANG_THREADS = 12


def _sample_during(seconds: float, sample: Callable[[], T]) -> list[T]:
    """`sample()` every 0.1 s for `seconds`."""
    values = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        values.append(sample())
        time.sleep(0.1)
    return values


def _health_answers(address: str) -> bool:
    with harness.stubs(address, []) as api:
        try:
            api.health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
    return True


@pytest.mark.postgres
def test_postgres_hung_longer_than_the_deadline_costs_calls_their_deadline_and_nothing_more(
    cluster: PostgresCluster,
    pg_url: str,
    servers: _Servers,
    dbsize: DatabaseFaultSize,
    fault_counts: Counter[str],
) -> None:
    server = servers.start(pg_url, "--max-call-seconds", str(HANG_CALL_CAP), *HANG_POOL)
    catalog = servers.seed()
    ledger = FaultLedger()
    backends: list[int] = []
    with load_running(
        _addresses(servers),
        servers.metadata,
        catalog,
        ledger,
        threads_per_server=HANG_THREADS,
        timeout=CLIENT_TIMEOUT,
    ):
        for _ in range(dbsize.database_hangs):
            time.sleep(dbsize.load_seconds)
            cluster.freeze()
            health = _sample_during(HANG_SECONDS, lambda: _health_answers(server.address))
            cluster.thaw()
            thawed = time.monotonic()
            assert all(health), f"health did not answer within 1 s in {health.count(False)} tries"
            wait_for_ok(ledger, thawed, timeout=10)
            backends += _sample_during(1.0, lambda: cluster.client_backends(pg_url.rsplit("/")[-1]))
            fault_counts["database hangs (SIGSTOP)"] += 1
        time.sleep(dbsize.load_seconds)

    slowest = max(a.seconds for a in ledger.answers)
    assert slowest < HANG_CALL_CAP + HANG_SLACK, f"a call took {slowest:.1f} s"
    _record_ms(fault_counts, "postgres hung: slowest call", slowest)
    reasons = ledger.reasons()
    assert "DEADLINE_EXCEEDED" not in {r.split()[0] for r in reasons}, (
        "the client's deadline came first"
    )
    assert reasons["UNAVAILABLE DEADLINE_EXCEEDED"] > 0, reasons
    # One pool (3 + 1) and the health probe's connection, however many were cut.
    assert max(backends) <= 3 + 1 + 1, f"backends after the hang: {max(backends)}"
    fault_counts["postgres hung: most backends after"] = max(
        fault_counts["postgres hung: most backends after"], max(backends)
    )
    check_answers(ledger, fault_counts, "postgres hung")
    servers.verify(catalog, ledger, fault_counts)


# ---------------------------------------------------------------- PostgreSQL out of connections


@pytest.mark.postgres
def test_a_postgres_out_of_connections_is_store_overloaded_and_a_sized_pool_avoids_it(
    cluster: PostgresCluster,
    databases: Callable[[], str],
    tmp_path: Path,
    dbsize: DatabaseFaultSize,
    fault_counts: Counter[str],
) -> None:
    """max_connections = 8 for two servers: with the default pools (8 + 4 each) new
    connections are turned away (53300) and calls fail STORE_OVERLOADED, never UNKNOWN; sized
    by the formula (2 x (3 + 0) + 2 probes <= 8) they queue for a connection instead."""
    urls = [databases(), databases()]
    cluster.restart(max_connections=8)
    try:
        oversized = _limited_run(urls[0], tmp_path / "default", dbsize, fault_counts, ())
        sized = _limited_run(
            urls[1],
            tmp_path / "sized",
            dbsize,
            fault_counts,
            ("--db-pool-size", "3", "--db-max-overflow", "0"),
        )
    finally:
        cluster.restart()
    assert oversized["UNAVAILABLE STORE_OVERLOADED"] > 0, oversized
    # Not STORE_BUSY or UNKNOWN: "the database is busy" was the old answer to 53300.
    assert _all_but_refusals(oversized) <= {"UNAVAILABLE STORE_OVERLOADED"}, oversized
    assert not _all_but_refusals(sized), sized


def _all_but_refusals(reasons: Iterable[str]) -> set[str]:
    """The failure kinds, without FAILED_PRECONDITION (a full session refusing a create)."""
    return {reason for reason in reasons if not reason.startswith("FAILED_PRECONDITION")}


def _limited_run(
    pg_url: str,
    data_dir: Path,
    dbsize: DatabaseFaultSize,
    counts: Counter[str],
    flags: Sequence[str],
) -> Counter[str]:
    servers = _Servers(data_dir)
    try:
        for _ in range(2):
            servers.start(pg_url, *flags)
        catalog = servers.seed()
        ledger = FaultLedger()
        with load_running(
            _addresses(servers),
            servers.metadata,
            catalog,
            ledger,
            threads_per_server=2 * dbsize.load_threads,
            timeout=CLIENT_TIMEOUT,
        ):
            time.sleep(dbsize.load_seconds)
        check_answers(ledger, counts, f"connection limit {' '.join(flags) or 'default pool'}")
        servers.verify(catalog, ledger, counts)
        return ledger.reasons()
    finally:
        servers.stop()


# ---------------------------------------------------------------- SQLite locked


#: The servers' cap on a call; the other process holds the lock longer than that.
LOCK_CALL_CAP = 1.5
LOCK_SECONDS = 3.0


def _sqlite_url(directory: Path, sqlite_template: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bookings.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def test_sqlite_locked_by_another_process_is_store_busy_within_the_call_bound(
    servers: _Servers,
    tmp_path: Path,
    sqlite_template: Path,
    dbsize: DatabaseFaultSize,
    fault_counts: Counter[str],
) -> None:
    url = _sqlite_url(tmp_path / "db", sqlite_template)
    servers.start(url, "--max-call-seconds", str(LOCK_CALL_CAP))
    catalog = servers.seed()
    ledger = FaultLedger()
    holder = (
        "import sqlite3, sys, time\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "db.rollback()\n"
    )
    with load_running(
        _addresses(servers),
        servers.metadata,
        catalog,
        ledger,
        threads_per_server=dbsize.load_threads,
        timeout=CLIENT_TIMEOUT,
    ):
        time.sleep(dbsize.load_seconds)
        locker = subprocess.Popen(
            [sys.executable, "-c", holder, url.removeprefix("sqlite:///"), str(LOCK_SECONDS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        locked = time.monotonic()
        assert locker.wait(30) == 0
        released = time.monotonic()
        wait_for_ok(ledger, released, timeout=5)
        time.sleep(dbsize.load_seconds)
        fault_counts["sqlite locks by another process"] += 1

    while_locked = ledger.failures(since=locked, until=released)
    # STORE_BUSY when the wait ran out; DEADLINE_EXCEEDED when the lock came so late that
    # the call had no time left to commit. A full session's refusal is no store failure (a
    # call that counted before the lock was taken can answer inside the window).
    reasons = _all_but_refusals(by_reason(while_locked))
    assert "UNAVAILABLE STORE_BUSY" in reasons
    assert reasons <= {"UNAVAILABLE STORE_BUSY", "UNAVAILABLE DEADLINE_EXCEEDED"}, reasons
    slowest = max(a.seconds for a in while_locked)
    assert slowest < LOCK_CALL_CAP + 0.5, f"a locked-out call took {slowest:.2f} s"
    _record_ms(fault_counts, "sqlite locked: slowest failing call", slowest)
    check_answers(ledger, fault_counts, "sqlite locked")
    servers.verify(catalog, ledger, fault_counts)


# ---------------------------------------------------------------- SQLite disk full


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 16 MiB tmpfs, where this machine lets the tests mount one (root with CAP_SYS_ADMIN)."""
    directory = Path(tempfile.mkdtemp(prefix="bookings-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(directory)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.skip(
            "cannot mount a small filesystem here (SQLITE_FULL is still covered at "
            "the driver level by tests/test_store_failures.py)"
        )
    try:
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; the file (delete it to free the space)."""
    filler = directory / "filler"
    chunk = b"\0" * 65536
    with filler.open("wb", buffering=0) as out:
        for size in (65536, 4096):
            try:
                while True:
                    out.write(chunk[:size])
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def test_sqlite_disk_full_is_store_full_logged_once_and_the_freed_disk_is_usable_again(
    servers: _Servers,
    small_disk: Path,
    sqlite_template: Path,
    dbsize: DatabaseFaultSize,
    fault_counts: Counter[str],
) -> None:
    url = _sqlite_url(small_disk, sqlite_template)
    servers.start(url)
    catalog = servers.seed()
    ledger = FaultLedger()
    with load_running(
        _addresses(servers),
        servers.metadata,
        catalog,
        ledger,
        threads_per_server=dbsize.load_threads,
        timeout=CLIENT_TIMEOUT,
    ):
        time.sleep(dbsize.load_seconds)
        filler = _fill(small_disk)
        full = time.monotonic()
        time.sleep(1.5)
        filler.unlink()
        freed = time.monotonic()
        wait_for_ok(ledger, freed, timeout=5)
        time.sleep(dbsize.load_seconds)
        fault_counts["sqlite disks filled"] += 1

    while_full = ledger.failures(since=full + 0.2, until=freed)
    assert by_reason(while_full).keys() >= {"RESOURCE_EXHAUSTED STORE_FULL"}
    assert not ledger.failures(since=freed + 0.5) or {
        a.code for a in ledger.failures(since=freed + 0.5)
    } <= {"FAILED_PRECONDITION"}, "the freed disk filled up again"
    logged = [line for line in servers.log_lines() if line.get("reason") == "STORE_FULL"]
    # An episode per filling up (the WAL checkpoint at its start may free a little, so the
    # disk can fill up more than once), each one line and its end, never a line per call.
    messages = [line["message"] for line in logged]
    episodes = messages.count("store failing")
    assert messages == ["store failing", "store recovered"] * episodes, messages
    assert 1 <= episodes <= 5 and len(while_full) > 10 * episodes, (episodes, len(while_full))
    errors = [line for line in servers.log_lines() if line.get("level") == "ERROR"]
    assert not errors, f"error lines (tracebacks) in the log: {errors[:1]}"
    wal = small_disk / "bookings.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size <= 4 * 1024 * 1024
    check_answers(ledger, fault_counts, "sqlite disk full")
    servers.verify(catalog, ledger, fault_counts)
