"""Timestamp, Duration and enum conversion between the wire and the domain, with one set of
limits for every service.

Decoders return None for an unset field and raise InvalidArgument naming the field for a value
out of range, so a hostile number never reaches datetime arithmetic.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf import duration_pb2, timestamp_pb2
from google.protobuf.message import Message

from bookings_server.domain.errors import InvalidArgument

#: Instants a request may name: wide enough for any real booking, narrow enough that adding
#: durations and zone offsets can never overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
#: Longest duration a request may name (ten years, the longest policy period).
MAX_DURATION = timedelta(days=3660)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EARLIEST_SECONDS = int((EARLIEST - _EPOCH).total_seconds())
_LATEST_SECONDS = int((LATEST - _EPOCH).total_seconds())
_NANOS = 1_000_000_000
E = TypeVar("E", bound=enum.Enum)


def timestamp_from_proto(message: Message, name: str, path: str) -> datetime | None:
    """`message.<name>` as an aware UTC datetime; None when unset."""
    if not message.HasField(name):
        return None
    stamp: timestamp_pb2.Timestamp = getattr(message, name)
    if not 0 <= stamp.nanos < _NANOS:
        raise InvalidArgument.field(path, "nanos must be in [0, 1e9)")
    if not _EARLIEST_SECONDS <= stamp.seconds < _LATEST_SECONDS:
        raise InvalidArgument.field(path, f"must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return _EPOCH + timedelta(seconds=stamp.seconds, microseconds=stamp.nanos // 1000)


def set_timestamp(target: timestamp_pb2.Timestamp, moment: datetime) -> None:
    """What Timestamp.FromDatetime does for an aware datetime, without its Python overhead."""
    delta = moment - _EPOCH
    target.seconds = delta.days * 86400 + delta.seconds
    target.nanos = delta.microseconds * 1000


def set_optional_timestamp(message: Message, name: str, moment: datetime | None) -> None:
    """Set `message.<name>` to `moment`, leaving it unset for None."""
    if moment is not None:
        set_timestamp(getattr(message, name), moment)


def duration_from_proto(message: Message, name: str, path: str) -> timedelta | None:
    """`message.<name>` as a timedelta; None when unset."""
    if not message.HasField(name):
        return None
    value: duration_pb2.Duration = getattr(message, name)
    if not -_NANOS < value.nanos < _NANOS or (value.seconds < 0 < value.nanos):
        raise InvalidArgument.field(path, "not a valid duration")
    if abs(value.seconds) > MAX_DURATION.total_seconds():
        raise InvalidArgument.field(path, f"must be at most {MAX_DURATION.days} days")
    return timedelta(seconds=value.seconds, microseconds=value.nanos // 1000)


def set_optional_duration(message: Message, name: str, value: timedelta | None) -> None:
    if value is not None:
        getattr(message, name).FromTimedelta(value)


def enum_from_proto(
    proto_enum: Any, domain: type[E], value: int, prefix: str, path: str
) -> E | None:
    """The domain member named like the proto value (without `prefix`); None for UNSPECIFIED
    (0); INVALID_ARGUMENT for a number the contract does not define or the domain lacks."""
    if value == 0:
        return None
    try:
        name: str = proto_enum.Name(value)
    except ValueError as error:
        raise InvalidArgument.field(path, f"unknown value {value}") from error
    member = domain.__members__.get(name.removeprefix(prefix))
    if member is None:
        raise InvalidArgument.field(path, f"unsupported value {name}")
    return member


def enum_to_proto(proto_enum: Any, prefix: str, member: enum.Enum) -> int:
    number: int = proto_enum.Value(prefix + member.name)
    return number
