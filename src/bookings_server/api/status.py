"""The one place where domain errors become gRPC statuses with google.rpc details."""

from __future__ import annotations

from datetime import timedelta

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from bookings_server.domain.errors import Code, DomainError

ERROR_DOMAIN = "bookings.v1"

#: Every domain Code as its google.rpc.Code: the names are the same by construction.
_CODES: dict[Code, int] = {code: code_pb2.Code.Value(code.value) for code in Code}


#: Size limits, in UTF-8 bytes, that keep an error's trailers (grpc-message plus the
#: base64 status details, about 6 KiB at most) under the 8 KiB from which gRPC clients start
#: refusing metadata with RESOURCE_EXHAUSTED: messages and ids may echo any client input.
MAX_MESSAGE_BYTES = 300
MAX_METADATA_VALUE_BYTES = 256
MAX_VIOLATIONS = 8
MAX_FIELD_BYTES = 100
MAX_DESCRIPTION_BYTES = 120


def to_status_proto(error: DomainError) -> status_pb2.Status:
    """A google.rpc.Status with an ErrorInfo and, when the error has them, a BadRequest (invalid
    fields), a RetryInfo (`retry_after`) and a QuotaFailure (`quota_violations`)."""
    metadata = {key: clip(value, MAX_METADATA_VALUE_BYTES) for key, value in error.metadata.items()}
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=metadata)
    optional = (_bad_request(error), _retry_info(error.retry_after), _quota_failure(error))
    details = [_pack(detail) for detail in (info, *optional) if detail is not None]
    message = clip(error.message, MAX_MESSAGE_BYTES)
    return status_pb2.Status(code=_CODES[error.code], message=message, details=details)


def _bad_request(error: DomainError) -> error_details_pb2.BadRequest | None:
    if not error.violations:
        return None
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=clip(v.field, MAX_FIELD_BYTES),
                description=clip(v.description, MAX_DESCRIPTION_BYTES),
                reason=v.reason,
            )
            for v in error.violations[:MAX_VIOLATIONS]
        ]
    )


def _retry_info(retry_after: timedelta | None) -> error_details_pb2.RetryInfo | None:
    if retry_after is None:
        return None
    delay = duration_pb2.Duration()
    delay.FromTimedelta(retry_after)
    return error_details_pb2.RetryInfo(retry_delay=delay)


def _quota_failure(error: DomainError) -> error_details_pb2.QuotaFailure | None:
    if not error.quota_violations:
        return None
    return error_details_pb2.QuotaFailure(
        violations=[
            error_details_pb2.QuotaFailure.Violation(
                subject=clip(v.subject, MAX_FIELD_BYTES),
                description=clip(v.description, MAX_DESCRIPTION_BYTES),
            )
            for v in error.quota_violations[:MAX_VIOLATIONS]
        ]
    )


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary), marked with "..."."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    return encoded[: limit - 3].decode(errors="ignore") + "..."


def to_grpc_status(error: DomainError) -> grpc.Status:
    status: grpc.Status = rpc_status.to_status(to_status_proto(error))
    return status


def abort_with(context: grpc.ServicerContext, error: DomainError) -> None:
    """Abort the call with the error's status; raises, like context.abort()."""
    context.abort_with_status(to_grpc_status(error))


def _pack(message: Message) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed
