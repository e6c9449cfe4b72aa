"""What the fuzz reads from an answer, and the properties every answer must have.

`send` returns an `Answer`: the status code, the message and every string of the
`google.rpc.Status` details (ErrorInfo reason and metadata, BadRequest fields and
descriptions, anything else packed). `leaks` finds what must never reach a client: a
filesystem path, a Python exception name or runtime message, a driver's name, SQL. Messages
may echo the request ("unknown time zone '/usr/share/zoneinfo/UTC'"), so a match that is part
of what was sent is not a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import FieldDescriptor, MethodDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass
from google.rpc import error_details_pb2, status_pb2

from fault.fault_support import CALL_TIMEOUT, method_path

#: Answers that mean the server failed rather than judged the request.
FAILURES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
#: The fuzz reads streams this long: enough for a refusal to arrive, short enough for
#: thousands of calls (a stream still open then is following live events: OK).
FUZZ_STREAM_TIMEOUT = 0.2
#: What server internals look like in text.
LEAK_PATTERNS = (
    re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w-]+"),  # an absolute path: /usr/lib/python3
    re.compile(r"\w\.py\b"),
    re.compile(r"\b\w*(?:Error|Exception)\b"),
    re.compile(r"\bTraceback\b|\bFile \"|line \d+, in\b"),
    re.compile(r"invalid literal for|object has no attribute|not subscriptable|NoneType"),
    re.compile(r"unsupported operand|positional argument|int\(\)|Exceeds the limit"),
    re.compile(r"sqlite3?|psycopg|sqlalchemy|SQLAlchemy|alembic|grpc\._|google\.protobuf", re.I),
    re.compile(r"\b(?:SELECT|INSERT INTO|DELETE FROM|DROP TABLE|PRAGMA|WHERE|JOIN)\b"),
    re.compile(r"\bUPDATE \w+ SET\b|\bVALUES ?\("),
)
_DETAIL_TYPES: tuple[type[Message], ...] = (
    error_details_pb2.ErrorInfo,
    error_details_pb2.BadRequest,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.ResourceInfo,
    error_details_pb2.DebugInfo,
)


@dataclass(frozen=True)
class Answer:
    code: grpc.StatusCode
    message: str = ""
    #: Every string of the status details.
    details: tuple[str, ...] = ()
    #: ErrorInfo.reason, "" without one.
    reason: str = ""

    @property
    def texts(self) -> tuple[str, ...]:
        return (self.message, *self.details)


def message_strings(message: Message) -> list[str]:
    """Every string (and map key) set anywhere in `message`."""
    found: list[str] = []
    for field, value in message.ListFields():
        items = value if field.is_repeated else [value]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            items = [value[key] for key in value]
            found.extend(str(key) for key in value)
        for item in items:
            if isinstance(item, Message):
                found.extend(message_strings(item))
            elif field.type == FieldDescriptor.TYPE_STRING:
                found.append(item)
    return found


def _detail_strings(packed: Any) -> tuple[list[str], str]:
    """The strings of one packed detail and, for an ErrorInfo, its reason."""
    for detail_type in _DETAIL_TYPES:
        if packed.Is(detail_type.DESCRIPTOR):
            detail = detail_type()
            packed.Unpack(detail)
            reason = detail.reason if isinstance(detail, error_details_pb2.ErrorInfo) else ""
            return message_strings(detail), reason
    return [packed.type_url, packed.value.decode(errors="replace")], ""


def answer_of(error: grpc.RpcError) -> Answer:
    """The code, message and details of a failed call."""
    code: grpc.StatusCode = error.code()
    metadata: Any = error.trailing_metadata() or ()  # (key, value) pairs
    trailers: dict[str, Any] = dict(metadata)
    details: list[str] = []
    reason = ""
    raw = trailers.get("grpc-status-details-bin")
    if isinstance(raw, bytes):
        status = status_pb2.Status()
        try:
            status.ParseFromString(raw)
        except DecodeError:
            details.append(raw.decode(errors="replace"))
        for packed in status.details:
            strings, found_reason = _detail_strings(packed)
            details.extend(strings)
            reason = reason or found_reason
    return Answer(code, error.details() or "", tuple(details), reason)


def send(
    channel: grpc.Channel,
    method: MethodDescriptor,
    request: Message | bytes,
    metadata: list[tuple[str, str]],
) -> Answer:
    """One call (a message, or raw bytes); a stream open at FUZZ_STREAM_TIMEOUT is OK."""
    serializer = (
        None if isinstance(request, bytes) else GetMessageClass(method.input_type).SerializeToString
    )
    path = method_path(method)
    sent: Any = request  # raw bytes go out as they are (no serializer)
    try:
        if method.server_streaming:
            stream: grpc.UnaryStreamMultiCallable[Any, Any] = channel.unary_stream(
                path, request_serializer=serializer
            )
            for _ in stream(sent, metadata=tuple(metadata), timeout=FUZZ_STREAM_TIMEOUT):
                pass
        else:
            channel.unary_unary(path, request_serializer=serializer)(
                sent, metadata=tuple(metadata), timeout=CALL_TIMEOUT
            )
    except grpc.RpcError as error:
        answer = answer_of(error)
        if answer.code == grpc.StatusCode.DEADLINE_EXCEEDED and method.server_streaming:
            return Answer(grpc.StatusCode.OK)
        return answer
    return Answer(grpc.StatusCode.OK)


def sent_texts(request: Message | bytes) -> list[str]:
    """What the request carried as text (raw bytes as UTF-8, undecodable bytes replaced)."""
    if isinstance(request, bytes):
        return [request.decode(errors="replace")]
    return message_strings(request)


def leaks(texts: Iterable[str], sent: Iterable[str] = ()) -> list[str]:
    """Matches of LEAK_PATTERNS in `texts` that are not part of anything `sent`."""
    echoes = list(sent)
    found = []
    for text in texts:
        for pattern in LEAK_PATTERNS:
            found += [
                match.group()
                for match in pattern.finditer(text)
                if not any(match.group() in echo for echo in echoes)
            ]
    return found
