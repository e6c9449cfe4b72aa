"""Lines a server process prints to standard output, which its sibling processes share.

`print` writes a line's text and its newline separately. With unbuffered output
(`PYTHONUNBUFFERED`, common in containers and CI), those are two write calls, and two
processes of one `bookings serve --processes N` starting together then produce
"bookings: serving on port 1bookings: serving on port 1" followed by two newlines. `say`
writes the whole line in one call (atomic on a pipe up to PIPE_BUF bytes) and flushes.
"""

from __future__ import annotations

import sys

__all__ = ["say"]


def say(line: str) -> None:
    """Write `line` and its newline to standard output in one write, then flush."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()
