"""The `bookings` command: serve, and the subcommands other modules add.

Building the parser imports no gRPC, SQLAlchemy or server code: each command imports what
it runs when it runs, so `bookings --help` and `bookings token mint` start quickly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bookings_server.app.outbox_delivery import Sender
from bookings_server.cli.arg_types import non_negative_int
from bookings_server.cli.console import say
from bookings_server.cli.delivery_flags import add_delivery_flags, delivery_settings
from bookings_server.cli.observability import Observability, add_metrics_flag
from bookings_server.cli.outbox_commands import add_outbox_commands
from bookings_server.cli.processes import (
    add_processes_flags,
    is_child,
    run_processes,
    runs_a_group,
    watch_parent,
)
from bookings_server.cli.store_commands import add_store_commands
from bookings_server.cli.token import (
    add_auth_flags,
    add_token_command,
    auth_settings,
    print_local_owner_hint,
)
from bookings_server.cli.worker import add_retention_flags, add_run_worker_flag, add_worker_command
from bookings_server.config import DEFAULT_ADDRESS, DEFAULT_DATA_DIR, Config, env
from bookings_server.logs import configure_logging


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookings", description="Bookings gRPC service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="run the gRPC server",
        description="Run the gRPC server until SIGTERM/SIGINT, then drain it. Every flag can "
        "also be set with the BOOKINGS_* environment variable named in its help; a flag wins "
        "over the environment. The HS256 token secret is read from BOOKINGS_JWT_SECRET only "
        "(a flag would show it in the process list); without it, <data-dir>/jwt-secret is used.",
    )
    _add_store_flags(serve)
    add_auth_flags(serve)
    serve.add_argument(
        "--address",
        default=env("ADDRESS", DEFAULT_ADDRESS),
        help="HOST:PORT to listen on (env BOOKINGS_ADDRESS; default %(default)s)",
    )
    _add_server_flags(serve)
    add_processes_flags(serve)
    add_metrics_flag(serve)
    _add_tls_flags(serve)
    _add_rate_limit_flags(serve)
    add_run_worker_flag(serve)
    add_retention_flags(serve)
    add_delivery_flags(serve)
    serve.set_defaults(run=_serve)
    add_token_command(commands, _add_store_flags)
    add_worker_command(commands, _add_store_flags)
    add_store_commands(commands, _add_store_flags)
    add_outbox_commands(commands, _add_store_flags)
    return parser


def _add_store_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=env("DATABASE_URL"),
        help="SQLAlchemy URL (env BOOKINGS_DATABASE_URL); default SQLite under --data-dir",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(env("DATA_DIR", str(DEFAULT_DATA_DIR)) or DEFAULT_DATA_DIR),
        help="directory for the embedded database and secrets (env BOOKINGS_DATA_DIR)",
    )


def _add_server_flags(parser: argparse.ArgumentParser) -> None:
    defaults = Config()
    parser.add_argument(
        "--grace-period",
        type=float,
        default=env("GRACE_PERIOD", str(defaults.grace_period)),
        help="seconds in-flight calls get to finish after SIGTERM/SIGINT "
        "(env BOOKINGS_GRACE_PERIOD; default %(default)s)",
    )
    parser.add_argument(
        "--max-workers",
        type=int,
        default=env("MAX_WORKERS", str(defaults.max_workers)),
        help="worker threads, i.e. calls served at once (env BOOKINGS_MAX_WORKERS; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--max-call-seconds",
        type=float,
        default=env("MAX_CALL_SECONDS", str(defaults.max_call_seconds)),
        help="longest a call may take, its database work included; a client's sooner "
        "deadline wins (env BOOKINGS_MAX_CALL_SECONDS; default %(default)s)",
    )
    parser.add_argument(
        "--db-pool-size",
        type=int,
        default=env("DB_POOL_SIZE", str(defaults.db_pool_size)),
        help="database connections kept open per process (env BOOKINGS_DB_POOL_SIZE; "
        "default %(default)s; see docs/store.md for sizing)",
    )
    parser.add_argument(
        "--db-max-overflow",
        type=int,
        default=env("DB_MAX_OVERFLOW", str(defaults.db_max_overflow)),
        help="further connections a process may open under load (env "
        "BOOKINGS_DB_MAX_OVERFLOW; default %(default)s)",
    )
    parser.add_argument(
        "--max-message-bytes",
        type=int,
        default=env("MAX_MESSAGE_BYTES", str(defaults.max_message_bytes)),
        help="largest request or response message (env BOOKINGS_MAX_MESSAGE_BYTES; "
        "default %(default)s)",
    )
    parser.add_argument(
        "--reuse-port",
        action=argparse.BooleanOptionalAction,
        default=env("REUSE_PORT", "false") in ("1", "true", "yes"),
        help="let several server processes share the port with SO_REUSEPORT "
        "(env BOOKINGS_REUSE_PORT=true; default off: a taken port is an error)",
    )
    parser.add_argument(
        "--availability-cache-mb",
        type=non_negative_int,
        default=env("AVAILABILITY_CACHE_MB", str(defaults.availability_cache_mb)),
        help="memory for QueryAvailability's cache of computed answers, in MiB, per process; "
        "0 turns it off (env BOOKINGS_AVAILABILITY_CACHE_MB; default %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        default=env("LOG_LEVEL", "INFO"),
        help="JSON logs on stderr from this level up (env BOOKINGS_LOG_LEVEL; default %(default)s)",
    )


def _add_tls_flags(parser: argparse.ArgumentParser) -> None:
    """Server TLS, and mTLS with a client CA. An empty variable counts as unset."""
    parser.add_argument(
        "--tls-cert-file",
        type=Path,
        default=env("TLS_CERT_FILE") or None,
        help="PEM certificate chain (leaf first) to serve TLS with instead of plaintext; needs "
        "--tls-key-file; re-read when the file changes (env BOOKINGS_TLS_CERT_FILE)",
    )
    parser.add_argument(
        "--tls-key-file",
        type=Path,
        default=env("TLS_KEY_FILE") or None,
        help="unencrypted PEM private key of --tls-cert-file (env BOOKINGS_TLS_KEY_FILE)",
    )
    parser.add_argument(
        "--tls-client-ca-file",
        type=Path,
        default=env("TLS_CLIENT_CA_FILE") or None,
        help="PEM CA certificates: require client certificates signed by one of them (mTLS); "
        "needs --tls-cert-file (env BOOKINGS_TLS_CLIENT_CA_FILE)",
    )


def _add_rate_limit_flags(parser: argparse.ArgumentParser) -> None:
    """Per-site rate limits (api/interceptors/rate_limit.py), off by default; per process."""
    defaults = Config()
    parser.add_argument(
        "--rate-limit-reads",
        type=float,
        default=env("RATE_LIMIT_READS", str(defaults.rate_limit_reads)),
        help="read calls (Get*, List*, Query*, Watch*) per second a site may make to this "
        "process, 0 for no limit (env BOOKINGS_RATE_LIMIT_READS; default %(default)s)",
    )
    parser.add_argument(
        "--rate-limit-writes",
        type=float,
        default=env("RATE_LIMIT_WRITES", str(defaults.rate_limit_writes)),
        help="other calls per second a site may make to this process, 0 for no limit "
        "(env BOOKINGS_RATE_LIMIT_WRITES; default %(default)s)",
    )
    parser.add_argument(
        "--rate-limit-burst",
        type=int,
        default=env("RATE_LIMIT_BURST", str(defaults.rate_limit_burst)),
        help="calls a site may make at once before its rate applies, 0 for one second's worth "
        "(env BOOKINGS_RATE_LIMIT_BURST; default %(default)s)",
    )


def _serve(args: argparse.Namespace) -> int:
    from bookings_server.delivery.webhook_endpoints import WebhookFileError

    configure_logging(args.log_level, with_pid=runs_a_group(args))
    config = _config(args)
    try:
        sender = _worker_sender(config)
    except WebhookFileError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    if args.processes > 1:
        return run_processes(args, args.argv, lambda: _prepare_store(config))
    if is_child(args):
        watch_parent(args)  # the parent prepared the store
    else:
        failure = _prepare_store(config)
        if failure is not None:
            return failure
    return _serve_here(args, config, sender)


def _config(args: argparse.Namespace) -> Config:
    return Config(
        address=args.address,
        database_url=args.database_url,
        data_dir=args.data_dir,
        grace_period=args.grace_period,
        max_workers=args.max_workers,
        max_message_bytes=args.max_message_bytes,
        max_call_seconds=args.max_call_seconds,
        rate_limit_reads=args.rate_limit_reads,
        rate_limit_writes=args.rate_limit_writes,
        rate_limit_burst=args.rate_limit_burst,
        db_pool_size=args.db_pool_size,
        db_max_overflow=args.db_max_overflow,
        reuse_port=args.reuse_port,
        metrics_address=args.metrics_address,
        run_worker=args.run_worker,
        outbox_retention_days=args.outbox_retention_days,
        event_retention_days=args.event_retention_days,
        page_token_secret=env("PAGE_TOKEN_SECRET"),
        tls_cert_file=args.tls_cert_file,
        tls_key_file=args.tls_key_file,
        tls_client_ca_file=args.tls_client_ca_file,
        availability_cache_mb=args.availability_cache_mb,
        **delivery_settings(args),
        **auth_settings(args),
    )


def _prepare_store(config: Config) -> int | None:
    """Ready the store (once per `bookings serve`: in the parent of several processes); an
    exit code when the server must not start."""
    from bookings_server.cli.bootstrap import SchemaOutdatedError, prepare_store

    try:
        demo = prepare_store(config)
    except SchemaOutdatedError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    if demo is not None:
        say(f"bookings: loaded the demo catalog into site {demo.site_id}")
    return None


def _serve_here(args: argparse.Namespace, config: Config, sender: Sender | None) -> int:
    """Serve from this process until SIGTERM/SIGINT, then drain."""
    from bookings_server.api.auth.keys import SigningKeyError
    from bookings_server.api.auth.scopes import UndeclaredScopesError
    from bookings_server.app.outbox_delivery import start_worker_thread
    from bookings_server.observability.metrics_endpoint import MetricsAddressError
    from bookings_server.server import PortInUseError, build_server
    from bookings_server.serving import DrainControls, run_until_signalled
    from bookings_server.serving_health import OUTBOX_SERVICE
    from bookings_server.tls import TlsConfigError

    controls = DrainControls()
    observability = Observability.start_tracing()
    try:
        server, port = build_server(config, controls=controls)
        observability.serve_metrics(config)
    except (PortInUseError, SigningKeyError, UndeclaredScopesError, MetricsAddressError) as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    except TlsConfigError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    server.start()
    say(f"bookings: serving on port {port}")
    observability.announce()
    if args.process_index in (None, 0):  # one owner token per `bookings serve`
        print_local_owner_hint(config, port)
    worker = start_worker_thread(config, sender)
    if worker is not None:
        controls.monitor.watch((OUTBOX_SERVICE,), worker.problem)
    run_until_signalled(server, controls, config.grace_period)
    if worker is not None:
        worker.stop()
    observability.close()
    return 0


def _worker_sender(config: Config) -> Sender | None:
    """The in-server worker's sender (`--run-worker`): the configured webhooks and SMTP."""
    if not config.run_worker:
        return None
    from bookings_server.delivery.routing import sender_from_config

    return sender_from_config(config)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    #: The arguments as given: a --processes parent starts its children with the same ones.
    args.argv = list(sys.argv[1:] if argv is None else argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
