"""A PostgreSQL server of the fault test's own, which it may kill -9, freeze and restart.

The session's shared server (tests/conftest.py) must never be broken on purpose, so the
database fault tests initdb a cluster of their own in /dev/shm (fsync off, as
scripts/pg_test_server.sh does, but synchronous_commit on: the tests kill PostgreSQL, not the
machine; the binaries are the ones that script installs) and start it
with the settings a test needs (`max_connections`). The processes it signals are this
cluster's only: its postmaster (from postmaster.pid) and that process's children.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL binaries (scripts/pg_test_server.sh installs them)")
    return Path(found[-1])


def _as_postgres(argv: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: then they run as the postgres user.

    setpriv execs the program in its own place, so the postmaster stays a direct child of
    this process (runuser would wait in between, and stop itself for good when its child is
    stopped); and this process need not fork with `user=` (a plain fork of a process full of
    gRPC threads runs gRPC's fork handlers, which is not safe while calls are in flight).
    """
    if os.geteuid() != 0:
        return argv
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", *argv]


class PostgresCluster:
    """One throwaway cluster on 127.0.0.1:`port`, superuser `postgres`, trust auth."""

    def __init__(self, port: int) -> None:
        self.port = port
        shm = Path("/dev/shm")
        self.directory = Path(
            tempfile.mkdtemp(prefix="bookings-fault-pg-", dir=shm if shm.is_dir() else None)
        )
        self._bin = _pg_bin()
        self._postmaster: subprocess.Popen[bytes] | None = None
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self, max_connections: int = 100) -> None:
        """Start the postmaster as a child of this process (so that, killed, it is reaped and
        its postmaster.pid is stale for the next start), and wait until it accepts logins."""
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.directory),
            "fsync": "off",
            "full_page_writes": "off",
            # on: a commit is acknowledged once its WAL is written (to the OS, not synced),
            # so kill -9 of PostgreSQL loses nothing acknowledged; off would lose the last
            # commits still in PostgreSQL's WAL buffers.
            "synchronous_commit": "on",
            "max_connections": str(max_connections),
        }
        argv = [str(self._bin / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        with (self.directory / "postgres.log").open("ab") as log:
            self._postmaster = subprocess.Popen(
                _as_postgres(argv), stdout=log, stderr=subprocess.STDOUT, cwd=self.directory
            )
        self._wait_accepting()

    def _wait_accepting(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if self._postmaster is None or self._postmaster.poll() is not None:
                    raise RuntimeError(f"postgres exited:\n{self._log_tail()}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"postgres not ready:\n{self._log_tail()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop at once (an immediate shutdown); a no-op when it is not running."""
        self.thaw()  # a frozen postmaster cannot stop
        processes = self.processes()
        if processes:
            _signal(processes[0], signal.SIGQUIT)
        self._reap()

    def _reap(self) -> None:
        if self._postmaster is not None:
            self._postmaster.wait(60)
            self._postmaster = None

    def restart(self, max_connections: int = 100) -> None:
        self.stop()
        self.start(max_connections)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def kill9(self) -> None:
        """SIGKILL the postmaster and every backend: what a crashed database host looks like
        to its clients. `start` then runs crash recovery."""
        processes = self.processes()
        for pid in processes:
            _signal(pid, signal.SIGKILL)
        self._reap()
        for pid in processes:
            _wait_gone(pid)

    def freeze(self) -> list[int]:
        """SIGSTOP every process of the cluster: it accepts TCP connections (the kernel does)
        but answers nothing. Returns the frozen processes."""
        processes = self.processes()
        for pid in processes:
            _signal(pid, signal.SIGSTOP)
        return processes

    def thaw(self) -> None:
        for pid in self.processes():
            _signal(pid, signal.SIGCONT)

    def processes(self) -> list[int]:
        """The postmaster and its children, postmaster first; empty when it is not running."""
        pid_file = self.data / "postmaster.pid"
        try:
            postmaster = int(pid_file.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            return []
        if not _alive(postmaster):
            return []
        return [postmaster, *_children(postmaster)]

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def client_backends(self, database: str) -> int:
        """Connections to `database` now (pg_stat_activity), this query's own excluded."""
        with psycopg.connect(self.url(), autocommit=True) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
        return int(row[0]) if row else 0

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            _as_postgres([str(self._bin / tool), *args]),
            capture_output=True,
            text=True,
            check=False,
            cwd=self.directory,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr}")

    def _log_tail(self) -> str:
        log = self.directory / "postgres.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def _children(parent: int) -> list[int]:
    found = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent and fields[0] != "Z":
            found.append(int(stat.split("/")[2]))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
