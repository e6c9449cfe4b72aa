"""A real `bookings serve` process on the embedded default, for tests of external clients.

The server starts with an empty data directory, so it creates its SQLite database and loads
the demo catalog (site "demo-site") exactly as a fresh clone does. Tokens come from
`bookings token mint` with the same data directory, i.e. the same signing key.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from server_process import BOOKINGS, ServerProcess, bookings_serve

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = "demo-site"


@dataclass
class DemoServer:
    process: ServerProcess
    port: int
    data_dir: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def mint_token(self, *, site: str = DEMO_SITE, identity: str = "owner") -> str:
        """A token from `bookings token mint`, signed with this server's key."""
        flags = ["--site", site, "--identity", identity, "--data-dir", str(self.data_dir)]
        result = subprocess.run(
            [BOOKINGS, "token", "mint", *flags],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"bookings token mint failed: {result.stderr}")
        return result.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        self.process.stop()


def start_demo_server(data_dir: Path) -> DemoServer:
    """Start `bookings serve` on a free port; return once it says it is serving."""
    process = bookings_serve(data_dir)
    try:
        port = process.port()
    except AssertionError:
        process.stop()
        raise
    return DemoServer(process, port, data_dir)
