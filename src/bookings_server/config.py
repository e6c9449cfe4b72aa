"""Server configuration: flags and BOOKINGS_* environment variables, one dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    #: Worker threads of the sync gRPC server (docs/operations.md, "Worker threads": CPU-bound
    #: calls do best at 2-4 on 2 cores, but health must find a thread while every call waits
    #: for a hung database).
    max_workers: int = 16
    #: Seconds in-flight calls get to finish on SIGTERM/SIGINT.
    grace_period: float = 10.0
    #: Largest request or response message, in bytes.
    max_message_bytes: int = 4 * 1024 * 1024
    #: Let several server processes share one port (SO_REUSEPORT).
    reuse_port: bool = False
    #: Memory for QueryAvailability's cache of computed answers, in MiB per process; 0 turns
    #: the cache off.
    availability_cache_mb: int = 64
    #: HOST:PORT of the Prometheus /metrics endpoint (None: no metrics); one per process.
    metrics_address: str | None = None
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
    #: Per-site rate limits, calls per second per site and process (0: no limit), for reads
    #: (Get*, List*, Query*, Watch*) and for every other call; api/interceptors/rate_limit.py.
    rate_limit_reads: float = 0.0
    rate_limit_writes: float = 0.0
    #: Calls a site may make at once above the rate (0: one second's worth).
    rate_limit_burst: int = 0
    #: Database connection pool per process (see DEFAULT_DB_POOL_SIZE).
    db_pool_size: int = DEFAULT_DB_POOL_SIZE
    db_max_overflow: int = DEFAULT_DB_MAX_OVERFLOW
    #: Days a sent outbox item is kept before the worker purges it; 0 keeps them forever.
    outbox_retention_days: int = 30
    #: Days a booking event is kept before the worker purges it (a WatchBookingEvents cursor
    #: older than the oldest kept event is then CURSOR_EXPIRED); 0 keeps them forever.
    event_retention_days: int = 30
    #: Webhook endpoints per site (YAML or JSON, docs/operations.md "Delivery"); None: the
    #: worker logs webhook-kind items instead of posting them.
    webhooks_file: Path | None = None
    #: Let webhooks reach loopback, private and link-local addresses (tests, closed networks).
    webhooks_allow_private: bool = False
    #: Failed attempts after which an outbox item is a dead letter (`bookings outbox retry`).
    delivery_max_attempts: int = 20
    #: SMTP relay for participant notifications; None: they go to the webhooks too.
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str = "bookings@localhost"
    #: "auto" (when the server offers it), "always" (refuse to send without), or "never".
    smtp_starttls: str = "auto"
    #: SMTP login, from BOOKINGS_SMTP_USERNAME / BOOKINGS_SMTP_PASSWORD only (never a flag).
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    #: Seconds between the background probes of the store that health reports.
    health_probe_interval: float = 1.0
    #: Seconds a store probe may take before the bookings services turn NOT_SERVING.
    health_probe_timeout: float = 0.5
    #: Server TLS: the PEM certificate chain (leaf first) and its unencrypted PEM key, both or
    #: neither (None: plaintext). Re-read when the files change (tls.py).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    #: mTLS: PEM CA certificates every client certificate must chain to (needs the two above).
    tls_client_ca_file: Path | None = None

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
