#!/usr/bin/env python3
"""The ceilings bench/run.py measures beside every workload: bare grpcio servers, no project code.

Each runs in a process of its own (this file with `--kind`), a sync `grpc.server` with a
ThreadPoolExecutor of `--workers` threads (bench/run.py passes the project server's worker
count) and no interceptors, and prints `PORT <n>` once it serves:

- `bare`: grpc.health.v1 Health/Check answered by grpcio-health-checking's HealthServicer,
  the servicer the project server uses, so the only difference from the project's no-op
  (Health/Check on `bookings serve`) is the project's interceptors and setup;
- `insert`: also `/bench.Ceiling/Insert` (google.protobuf.StringValue in and out), which does
  one INSERT and one COMMIT per call on a SQLite file in WAL mode with synchronous=NORMAL,
  through **SQLAlchemy Core** (`engine.connect()`, `execute(table.insert())`, `commit()`;
  a pool of workers + 4 connections), the stack the project's store is built on.

Adapted from ../shared/tools/noop_bench.py (its sync server and `--db sqlite` Core handler).
bench/load.py drives them: workload `noop` for `bare`, `ceiling_insert` for `insert`.

Run by hand: python bench/ceiling_servers.py --kind insert --workers 16 --sqlite-path /tmp/c.db
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

SERVICE = "bench.Ceiling"
INSERT_METHOD = f"/{SERVICE}/Insert"
KINDS = ("bare", "insert")


# ---------------------------------------------------------------- server side


def sqlite_insert(path: Path, workers: int) -> Callable[[str], int]:
    """A blocking callable doing one Core INSERT + COMMIT (WAL, synchronous=NORMAL)."""
    import sqlalchemy as sa

    engine = sa.create_engine(
        f"sqlite:///{path}",
        pool_size=workers + 4,
        connect_args={"timeout": 30, "check_same_thread": False},
    )

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    table = sa.Table(
        "ceiling_booking",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resource", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.BigInteger, nullable=False),
        sa.Column("end_ts", sa.BigInteger, nullable=False),
    )
    table.metadata.drop_all(engine)
    table.metadata.create_all(engine)
    insert = table.insert()

    def call(payload: str) -> int:
        with engine.connect() as connection:
            result = connection.execute(
                insert, {"resource": payload[:64], "start_ts": 1, "end_ts": 2}
            )
            connection.commit()
            primary = result.inserted_primary_key
            assert primary is not None
            return int(primary[0])

    return call


def insert_handler(db_call: Callable[[str], int]) -> grpc.GenericRpcHandler:
    def insert(request: wrappers_pb2.StringValue, _context: Any) -> wrappers_pb2.StringValue:
        return wrappers_pb2.StringValue(value=str(db_call(request.value)))

    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Insert": grpc.unary_unary_rpc_method_handler(
                insert,
                request_deserializer=wrappers_pb2.StringValue.FromString,
                response_serializer=wrappers_pb2.StringValue.SerializeToString,
            )
        },
    )


def serve(kind: str, workers: int, port: int, sqlite_path: Path | None) -> None:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers), options=[("grpc.so_reuseport", 0)]
    )
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    if kind == "insert":
        if sqlite_path is None:
            raise SystemExit("--kind insert needs --sqlite-path")
        server.add_generic_rpc_handlers((insert_handler(sqlite_insert(sqlite_path, workers)),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print(f"PORT {bound}", flush=True)
    server.wait_for_termination()


# ---------------------------------------------------------------- for bench/run.py


@dataclass
class CeilingProcess:
    """One ceiling server in its own process (this file run with --kind)."""

    kind: str
    workers: int
    sqlite_path: Path | None = None
    name: str = ""
    port: int = 0
    proc: subprocess.Popen[str] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> CeilingProcess:
        from bench_harness import wait_serving

        cmd = [sys.executable, str(Path(__file__).resolve()), "--kind", self.kind]
        cmd += ["--workers", str(self.workers)]
        if self.sqlite_path is not None:
            cmd += ["--sqlite-path", str(self.sqlite_path)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"ceiling server {self.kind} did not start: {line!r}")
        self.port = int(line.split()[1])
        self.name = self.name or f"ceiling-{self.kind}"
        wait_serving(self.address, timeout)
        return self

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--workers", type=int, default=16, help="ThreadPoolExecutor size")
    parser.add_argument("--port", type=int, default=0, help="0: a free one (printed)")
    parser.add_argument("--sqlite-path", type=Path, help="insert: the SQLite file (recreated)")
    args = parser.parse_args(argv)
    serve(args.kind, args.workers, args.port, args.sqlite_path)


if __name__ == "__main__":
    main()
