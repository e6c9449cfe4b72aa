"""Domain exceptions: every failure a client can cause, with the Wix-style reason.

The api layer maps each kind to one gRPC status code in one place (api/errors.py); nothing
below api/ knows about gRPC.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field


class ErrorKind(enum.Enum):
    """The category of an error; api/errors.py maps each to a gRPC status code."""

    INVALID_ARGUMENT = "INVALID_ARGUMENT"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    FAILED_PRECONDITION = "FAILED_PRECONDITION"
    ABORTED = "ABORTED"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    UNAVAILABLE = "UNAVAILABLE"
    RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"


@dataclass(frozen=True)
class FieldViolation:
    """One invalid request field: `field` is its path, e.g. "booking.booked_entity.slot"."""

    field: str
    description: str


@dataclass
class DomainError(Exception):
    """Base of every error a client can cause. `reason` is the ErrorInfo reason."""

    message: str
    reason: str = "UNSPECIFIED"
    metadata: Mapping[str, str] = field(default_factory=dict)
    violations: tuple[FieldViolation, ...] = ()
    kind: ErrorKind = ErrorKind.FAILED_PRECONDITION

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class InvalidArgument(DomainError):
    """Malformed input. Carries one FieldViolation per invalid field."""

    def __init__(
        self,
        message: str,
        violations: tuple[FieldViolation, ...] | list[FieldViolation] = (),
        reason: str = "INVALID_ARGUMENT",
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            message, reason, dict(metadata or {}), tuple(violations), ErrorKind.INVALID_ARGUMENT
        )

    @classmethod
    def field(cls, field_path: str, description: str) -> InvalidArgument:
        """One invalid field, described once for both the message and the violation."""
        return cls(f"{field_path}: {description}", [FieldViolation(field_path, description)])


class NotFound(DomainError):
    """An id that does not exist for the caller's site (also another site's ids)."""

    def __init__(self, message: str, reason: str = "NOT_FOUND", **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.NOT_FOUND)


class AlreadyExists(DomainError):
    """The caller tried to create something that exists."""

    def __init__(self, message: str, reason: str = "ALREADY_EXISTS", **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.ALREADY_EXISTS)


class FailedPrecondition(DomainError):
    """A business rule refuses the call in the current state."""

    def __init__(self, message: str, reason: str, **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.FAILED_PRECONDITION)


class Aborted(DomainError):
    """A concurrency conflict, e.g. a stale revision. Re-read and retry."""

    def __init__(self, message: str, reason: str = "REVISION_MISMATCH", **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.ABORTED)


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""

    def __init__(self, message: str, reason: str, **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.PERMISSION_DENIED)


class Unauthenticated(DomainError):
    """No valid credentials."""

    def __init__(self, message: str, reason: str = "UNAUTHENTICATED") -> None:
        super().__init__(message, reason, {}, (), ErrorKind.UNAUTHENTICATED)


class Unavailable(DomainError):
    """Transient: overload or a lock wait that timed out. Safe to retry."""

    def __init__(self, message: str, reason: str = "LOCK_TIMEOUT", **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.UNAVAILABLE)


class ResourceExhausted(DomainError):
    """A request too large to serve (too many items, too wide a range)."""

    def __init__(self, message: str, reason: str = "RESOURCE_EXHAUSTED", **metadata: str) -> None:
        super().__init__(message, reason, metadata, (), ErrorKind.RESOURCE_EXHAUSTED)
