"""The `bookings` command: serve, and the subcommands other modules add."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bookings_server.config import DEFAULT_ADDRESS, DEFAULT_DATA_DIR, Config, env
from bookings_server.server import PortInUseError, build_server


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bookings", description="Bookings gRPC service.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gRPC server")
    _add_store_flags(serve)
    serve.add_argument(
        "--address",
        default=env("ADDRESS", DEFAULT_ADDRESS),
        help="HOST:PORT to listen on (env BOOKINGS_ADDRESS; default %(default)s)",
    )
    serve.set_defaults(run=_serve)
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


def _serve(args: argparse.Namespace) -> int:
    config = Config(address=args.address, database_url=args.database_url, data_dir=args.data_dir)
    try:
        server, port = build_server(config)
    except PortInUseError as error:
        print(f"bookings: {error}", file=sys.stderr)
        return 1
    server.start()
    print(f"bookings: serving on port {port}", flush=True)
    server.wait_for_termination()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
