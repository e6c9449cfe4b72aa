"""Structured logs: one JSON object per line on stderr.

Every record carries `ts`, `level`, `logger` and `message`, the fields passed in `extra=`,
and the `call_id` of the gRPC call being served in that thread, if any. While tracing is on
(observability/tracer.py), a line written inside a span also carries its `trace_id` and
`span_id`; tracing hands this module the function that reads them, so logging imports no
OpenTelemetry and costs nothing more while tracing is off.

A line is formatted once per call on the serving path (the access log), so the formatter
avoids per-line set-up: one JSON encoder for every line, and the timestamp's date and time of
day formatted once per second (`_utc_timestamp`, the same text as datetime's isoformat).
With several server processes on one stderr (`bookings serve --processes N`) each line also
carries the `pid` of the process that wrote it.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

#: Id of the call the current thread is serving (set by the access-log interceptor).
current_call_id: ContextVar[str | None] = ContextVar("bookings_call_id", default=None)

#: Attributes every LogRecord has from its creation; anything after them came from `extra=`
#: (or a filter). Formatters add `message` and `asctime` later, which are not fields either.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))
_FORMATTER_ATTRIBUTES = frozenset({"message", "asctime"})

#: The trace ids of the current span ({} outside any), while tracing is on.
_trace_ids: Callable[[], dict[str, str]] | None = None


def use_trace_ids(reader: Callable[[], dict[str, str]] | None) -> None:
    """Add `reader()`'s fields (trace_id, span_id) to every line from now on; None stops."""
    global _trace_ids
    _trace_ids = reader


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line, with `extra=` fields at the top level; with
    `with_pid`, also the writing process's `pid`."""

    def __init__(self, *, with_pid: bool = False) -> None:
        super().__init__()
        self._with_pid = with_pid

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self._with_pid:
            entry["pid"] = record.process
        call_id = current_call_id.get()
        if call_id is not None:
            entry["call_id"] = call_id
        if _trace_ids is not None:
            entry.update(_trace_ids())
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return _encode(entry)


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's `extra=` fields, in the order given: the attributes set after the
    record's own, found from the end (a record has some 20 of its own; a line a handful)."""
    fields = vars(record)
    extra: list[str] = []
    for key in reversed(fields):
        if key in _RECORD_ATTRIBUTES:
            break
        if key not in _FORMATTER_ATTRIBUTES:
            extra.append(key)
    return {key: fields[key] for key in reversed(extra)}


#: json.dumps(entry, default=str) without building an encoder per line (same output).
_encode = json.JSONEncoder(default=str).encode

#: (whole second, its "YYYY-MM-DDTHH:MM:SS" text in UTC) of the last line formatted.
_last_second: tuple[int, str] = (-1, "")


def _utc_timestamp(created: float) -> str:
    """`datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")`, rounding
    to the microsecond as datetime does, with the seconds' text reused within one second."""
    global _last_second
    fraction, whole = math.modf(created)
    micros, seconds = round(fraction * 1_000_000), int(whole)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    cached, text = _last_second
    if cached != seconds:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
        _last_second = (seconds, text)
    return f"{text}.{micros // 1000:03d}+00:00"


def configure_logging(level: str = "INFO", *, with_pid: bool = False) -> None:
    """Send every log record of the process to stderr as JSON lines (`with_pid`: each with
    the process id, for processes sharing one stderr)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(with_pid=with_pid))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
