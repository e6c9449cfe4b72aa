"""Server configuration: flags and BOOKINGS_* environment variables, one dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_DATA_DIR = Path(".bookings")
#: Database connections a process keeps open, and how many more it may open under load
#: (docs/store.md: processes x (pool + overflow) + workers + probes <= max_connections - reserved).
DEFAULT_DB_POOL_SIZE = 8
DEFAULT_DB_MAX_OVERFLOW = 4


@dataclass(frozen=True)
class Config:
    """Everything build_server needs. `database_url` None means SQLite under `data_dir`."""

    address: str = DEFAULT_ADDRESS
    database_url: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    #: Worker threads of the sync gRPC server.
    max_workers: int = 16
    #: Seconds in-flight calls get to finish on SIGTERM/SIGINT.
    grace_period: float = 10.0
    #: Largest request or response message, in bytes.
    max_message_bytes: int = 4 * 1024 * 1024
    #: Let several server processes share one port (SO_REUSEPORT).
    reuse_port: bool = False
    #: JWT verification: HS256 shared secret (None: read or create data_dir/jwt-secret).
    jwt_secret: str | None = None
    #: JWT verification: PEM public key for RS256/ES256 tokens, if any.
    jwt_public_key: str | None = None
    jwt_issuer: str = "bookings-dev"
    jwt_audience: str = "bookings"
    #: Page tokens are signed with a key derived from this secret (None: from the JWT HS256
    #: secret). Every process on one database needs the same one.
    page_token_secret: str | None = None
    #: Run the outbox delivery worker inside the server process.
    run_worker: bool = False
    #: Longest a call may take (a sooner gRPC deadline wins); bounds its store work too.
    max_call_seconds: float = 30.0
    #: Database connection pool per process (see DEFAULT_DB_POOL_SIZE).
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    db_max_overflow: int = DEFAULT_DB_MAX_OVERFLOW
    #: Days a sent outbox item is kept before the worker purges it; 0 keeps them forever.
    outbox_retention_days: int = 30
    #: Days a booking event is kept before the worker purges it (a WatchBookingEvents cursor
    #: older than the oldest kept event is then CURSOR_EXPIRED); 0 keeps them forever.
    event_retention_days: int = 30
    #: Seconds between the background probes of the store that health reports.
    health_probe_interval: float = 1.0
    #: Seconds a store probe may take before the bookings services turn NOT_SERVING.
    health_probe_timeout: float = 0.5

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "bookings.sqlite3"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.sqlite_path}"

    @property
    def is_embedded(self) -> bool:
        return not self.database_url or self.database_url.startswith("sqlite")


def env(name: str, default: str | None = None) -> str | None:
    """Read BOOKINGS_<NAME> from the environment."""
    return os.environ.get(f"BOOKINGS_{name}", default)
