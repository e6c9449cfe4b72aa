"""Shared fixtures: real servers from build_server on port 0.

pytest-grpc's `grpc_server` and `grpc_addr` are overridden so its `grpc_channel` and
`grpc_stub` fixtures talk to the real server (its own `grpc_addr` leaks a socket).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import grpc
import psycopg
import pytest
from lifecycle_support import Seeder

from bookings_server.api.auth.keys import load_signing_keys
from bookings_server.api.auth.tokens import mint_token
from bookings_server.config import Config
from bookings_server.domain.identity import ALL_SCOPES, IdentityType
from bookings_server.server import build_server
from bookings_server.store.migrations import migrate


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    config: Config

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


StartServer = Callable[..., RunningServer]


@pytest.fixture
def start_server(tmp_path: Path, sqlite_template: Path) -> Iterator[StartServer]:
    """Start real servers on port 0; every one started is stopped at the end of the test.

    Without a `database_url` override the server uses a migrated SQLite file in tmp_path."""
    started: list[RunningServer] = []

    def start(**overrides: Any) -> RunningServer:
        config = replace(Config(address="127.0.0.1:0", data_dir=tmp_path / "data"), **overrides)
        if config.database_url is None and not config.sqlite_path.exists():
            config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(sqlite_template, config.sqlite_path)
        server, port = build_server(config)
        server.start()
        running = RunningServer(server, port, config)
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop(grace=None).wait()


@pytest.fixture
def grpc_server(start_server: StartServer) -> RunningServer:
    return start_server()


@pytest.fixture
def grpc_addr(grpc_server: RunningServer) -> str:
    return grpc_server.address


@pytest.fixture
def grpc_channel(grpc_addr: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(grpc_addr) as channel:
        yield channel


AuthMetadata = Callable[..., list[tuple[str, str]]]


@pytest.fixture
def auth_metadata() -> AuthMetadata:
    """`auth_metadata(server, site_id=..., identity="OWNER", scopes=..., permissions=...)`:
    call metadata with a bearer token minted with that server's own keys."""

    def metadata(
        server: RunningServer,
        *,
        site_id: str = "site-a",
        identity: str = "OWNER",
        scopes: Sequence[str] = ALL_SCOPES,
        permissions: Sequence[str] = (),
    ) -> list[tuple[str, str]]:
        identity_type = IdentityType(identity.upper())
        token = mint_token(
            load_signing_keys(server.config),
            site_id=site_id,
            identity_type=identity_type,
            identity_id=f"{identity_type.value.lower()}-1",
            scopes=scopes,
            permissions=permissions,
        )
        return [("authorization", f"Bearer {token}")]

    return metadata


REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; tests get copies (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    migrate(f"sqlite:///{path}")
    return path


@dataclass(frozen=True)
class PostgresServer:
    """The session's throwaway PostgreSQL server and its migrated template database."""

    host_url: str
    template: str

    def url(self, database: str) -> str:
        return f"{self.host_url}/{database}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start scripts/pg_test_server.sh on a free port at first use; stop it at session end."""
    script = str(REPO_ROOT / "scripts" / "pg_test_server.sh")
    shm = Path("/dev/shm")  # in memory when available: creating databases is 20x faster
    directory = tempfile.mkdtemp(prefix="bookings-pg-", dir=shm if shm.is_dir() else None)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = subprocess.run(
        [script, "start", directory, str(port)], capture_output=True, text=True, check=False
    )
    if started.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL:\n{started.stderr}")
    server = PostgresServer(started.stdout.strip().rsplit("/", 1)[0], "bookings_template")
    try:
        server.admin(f"CREATE DATABASE {server.template}")
        migrate(server.url(server.template))
        yield server
    finally:
        subprocess.run([script, "stop", directory], capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated, empty database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield _fresh_sqlite(tmp_path, sqlite_template)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = f"test_{uuid.uuid4().hex[:16]}"
    server.admin(f"CREATE DATABASE {name} TEMPLATE {server.template} STRATEGY FILE_COPY")
    yield server.url(name)
    server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated, empty SQLite database, for wire tests of rules that no store changes:
    what differs on PostgreSQL (locks, races, idempotency, SQL) is tested on both stores."""
    return _fresh_sqlite(tmp_path, sqlite_template)


def _fresh_sqlite(tmp_path: Path, template: Path) -> str:
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def seeder(database_url: str) -> Iterator[Seeder]:
    """Writes catalog entries into the test's database (lifecycle_support.Seeder)."""
    seeder = Seeder(database_url)
    yield seeder
    seeder.close()
