"""Domain exceptions: one class per gRPC status code, each with the Wix-style reason.

The code is a class attribute (the python-api-core pattern); api/status.py maps each `Code`
to a gRPC status in one place, so nothing below api/ knows about gRPC. Field paths name
fields relative to the domain object being checked ("slot.timezone"); the api layer, which
knows where that object sits in the request, prefixes them (`with_field_prefix`). An error may
also say when to retry (`retry_after`, google.rpc.RetryInfo) and which quota ran out
(`quota_violations`, google.rpc.QuotaFailure).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import ClassVar, Self

#: How many violations a derived message spells out; the rest are counted.
_SUMMARIZED_VIOLATIONS = 5


class Code(enum.Enum):
    """The gRPC status codes a domain error can carry (names as in google.rpc.Code)."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    UNAVAILABLE = "UNAVAILABLE"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
    INTERNAL = "INTERNAL"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid field: `field` is its path, e.g. "slot.timezone"; `reason` a code for this
    kind of fault (e.g. INVALID_TIME_ZONE), "" when there is none more precise than the error's."""

    field: str
    description: str
    reason: str = ""

    def prefixed(self, prefix: str) -> FieldViolation:
        return replace(self, field=join_path(prefix, self.field))


@dataclass(frozen=True)
class QuotaViolation:
    """One quota the call ran out of: `subject` is whose quota ("site:<id>"), `description`
    which one (e.g. "writes")."""

    subject: str
    description: str


def join_path(prefix: str, path: str) -> str:
    """`path` below `prefix`: join_path("booking", "slot") == "booking.slot"."""
    if not prefix:
        return path
    return f"{prefix}.{path}" if path else prefix


class DomainError(Exception):
    """Base of every error a client can cause. `reason` is the ErrorInfo reason.

    Without an explicit `message`, the message lists the violations ("path: description"),
    so it follows their paths when `with_field_prefix` moves them.
    """

    code: ClassVar[Code] = Code.FAILED_PRECONDITION
    default_reason: ClassVar[str] = "UNSPECIFIED"

    def __init__(
        self,
        message: str | None = None,
        reason: str | None = None,
        *,
        violations: Iterable[FieldViolation] = (),
        metadata: Mapping[str, str] | None = None,
        retry_after: timedelta | None = None,
        quota_violations: Iterable[QuotaViolation] = (),
        **more_metadata: str,
    ) -> None:
        self.reason = reason or self.default_reason
        self.violations = tuple(violations)
        self.metadata: Mapping[str, str] = {**(metadata or {}), **more_metadata}
        #: How long the client should wait before retrying; None when the error does not say.
        self.retry_after = retry_after
        self.quota_violations = tuple(quota_violations)
        self._message = message
        super().__init__(self.message)

    @property
    def message(self) -> str:
        if self._message is not None:
            return self._message
        shown = self.violations[:_SUMMARIZED_VIOLATIONS]
        summary = "; ".join(f"{v.field}: {v.description}" for v in shown)
        hidden = len(self.violations) - len(shown)
        return summary + (f" (and {hidden} more)" if hidden > 0 else "")

    def __str__(self) -> str:
        return self.message

    def with_field_prefix(self, prefix: str) -> Self:
        """The same error with every field path (violations, `field` metadata) under `prefix`."""
        metadata = dict(self.metadata)
        if "field" in metadata:
            metadata["field"] = join_path(prefix, metadata["field"])
        moved = type(self).__new__(type(self))
        DomainError.__init__(
            moved,
            self._message,
            self.reason,
            violations=(v.prefixed(prefix) for v in self.violations),
            metadata=metadata,
            retry_after=self.retry_after,
            quota_violations=self.quota_violations,
        )
        return moved

    @classmethod
    def on_field(
        cls, path: str, description: str, reason: str | None = None, **metadata: str
    ) -> Self:
        """An error about one field, described once for the message and the violation."""
        violation = FieldViolation(path, description)
        return cls(None, reason, violations=(violation,), metadata={"field": path, **metadata})


class InvalidArgument(DomainError):
    """Malformed input. Carries one FieldViolation per invalid field."""

    code = Code.INVALID_ARGUMENT
    default_reason = "INVALID_ARGUMENT"

    @classmethod
    def field(cls, path: str, description: str) -> InvalidArgument:
        """One invalid field, described once for both the message and the violation."""
        return cls(violations=(FieldViolation(path, description),))

    @classmethod
    def of(cls, violations: Iterable[FieldViolation], reason: str | None = None) -> InvalidArgument:
        """Every violation found, as one error whose message lists them. Without a `reason`,
        the error takes the violations' own when they all share one (e.g. INVALID_TIME_ZONE)."""
        found = tuple(violations)
        shared = {v.reason for v in found}
        if reason is None and len(shared) == 1:
            reason = shared.pop() or None
        return cls(None, reason, violations=found)


class NotFound(DomainError):
    """An id that does not exist for the caller's site (also another site's ids)."""

    code = Code.NOT_FOUND
    default_reason = "NOT_FOUND"


class FailedPrecondition(DomainError):
    """A business rule refuses the call in the current state."""

    code = Code.FAILED_PRECONDITION
    default_reason = "FAILED_PRECONDITION"


class Aborted(DomainError):
    """A concurrency conflict, e.g. a stale revision. Re-read and retry."""

    code = Code.ABORTED
    default_reason = "REVISION_MISMATCH"


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""

    code = Code.PERMISSION_DENIED
    default_reason = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """No valid credentials."""

    code = Code.UNAUTHENTICATED
    default_reason = "UNAUTHENTICATED"


class Unavailable(DomainError):
    """Transient: overload or a lock wait that timed out. Safe to retry."""

    code = Code.UNAVAILABLE
    default_reason = "LOCK_TIMEOUT"


class ResourceExhausted(DomainError):
    """A request too large to serve (too many items, too wide a range), or a quota used up
    (a rate limit: with `retry_after` and `quota_violations`)."""

    code = Code.RESOURCE_EXHAUSTED
    default_reason = "RESOURCE_EXHAUSTED"


class Internal(DomainError):
    """A failure that is not the client's: the message stays generic, the details go to the log."""

    code = Code.INTERNAL
    default_reason = "INTERNAL"
