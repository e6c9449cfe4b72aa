"""Structured logs: one JSON object per line on stderr.

Every record carries `ts`, `level`, `logger` and `message`, the fields passed in `extra=`,
and the `call_id` of the gRPC call being served in that thread, if any. While tracing is on
(observability/tracer.py), a line written inside a span also carries its `trace_id` and
`span_id`; tracing hands this module the function that reads them, so logging imports no
OpenTelemetry and costs nothing more while tracing is off.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: Id of the call the current thread is serving (set by the access-log interceptor).
current_call_id: ContextVar[str | None] = ContextVar("bookings_call_id", default=None)

#: Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}

#: The trace ids of the current span ({} outside any), while tracing is on.
_trace_ids: Callable[[], dict[str, str]] | None = None


def use_trace_ids(reader: Callable[[], dict[str, str]] | None) -> None:
    """Add `reader()`'s fields (trace_id, span_id) to every line from now on; None stops."""
    global _trace_ids
    _trace_ids = reader


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line, with `extra=` fields at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_id = current_call_id.get()
        if call_id is not None:
            entry["call_id"] = call_id
        if _trace_ids is not None:
            entry.update(_trace_ids())
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send every log record of the process to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
