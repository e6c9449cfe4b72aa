"""Helpers for server interceptors that wrap a method handler's behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeAlias, cast

import grpc

#: A method handler of any request and response types.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behavior = Callable[[Any, grpc.ServicerContext], Any]
#: Given the original behaviour and whether it streams responses, return the replacement.
Decorator = Callable[[Behavior, bool], Behavior]

_KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


def replace_handler(handler: Handler, **fields: Any) -> Handler:
    """`handler` with `fields` replaced (grpc's handlers are named tuples; the stubs hide it)."""
    replaced: Handler = cast(Any, handler)._replace(**fields)
    return replaced


def servicer_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The status code set on `context` so far (grpc has `code()`; the stubs lack it)."""
    code: grpc.StatusCode | None = cast(Any, context).code()
    return code


def servicer_details(context: grpc.ServicerContext) -> str | bytes | None:
    """The status details set on `context` so far (grpc has `details()`; the stubs lack it)."""
    details: str | bytes | None = cast(Any, context).details()
    return details


def wrap_handler(handler: Handler, decorate: Decorator) -> Handler:
    """Return `handler` with its behaviour replaced by `decorate(behaviour, streaming)`."""
    for kind in _KINDS:
        behavior = getattr(handler, kind)
        if behavior is not None:
            streaming = kind.endswith("_stream")
            return replace_handler(handler, **{kind: decorate(behavior, streaming)})
    return handler
