"""Logging failures that repeat (a receiver down, a store away) without drowning the log.

Every failure is one WARNING line naming the error type; the traceback comes with the first
occurrence of each distinct failure only (same exception type raised along the same code
path), so a retry loop does not print the same traceback every few seconds.
"""

from __future__ import annotations

import logging
import traceback

#: Longest error text kept on a line.
_MAX_ERROR_LENGTH = 500


class FailureLog:
    """One line per failure, one traceback per distinct failure."""

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        #: Failures already logged with their traceback; bounded by the code's paths.
        self._seen: set[tuple[str, tuple[tuple[str, int], ...]]] = set()

    def failed(self, message: str, error: BaseException, **fields: object) -> None:
        signature = _signature(error)
        first = signature not in self._seen
        self._seen.add(signature)
        self._logger.warning(
            message,
            exc_info=error if first else None,
            extra={
                "error_type": type(error).__name__,
                "error": str(error)[:_MAX_ERROR_LENGTH],
                **fields,
            },
        )


def _signature(error: BaseException) -> tuple[str, tuple[tuple[str, int], ...]]:
    """The exception's type and the path it was raised along (every frame from where it was
    caught to where it was raised): the same failure of the same code path."""
    frames = traceback.extract_tb(error.__traceback__)
    kind = f"{type(error).__module__}.{type(error).__qualname__}"
    # Unique frames: an exception object raised again keeps its old frames and adds new ones.
    path = dict.fromkeys((frame.filename, frame.lineno or 0) for frame in frames)
    return kind, tuple(path)
