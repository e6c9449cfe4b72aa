"""The clock every use case takes: a callable returning the current instant, aware, in UTC.

Tests pass a fixed or stepping clock; the server passes `utc_now`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
