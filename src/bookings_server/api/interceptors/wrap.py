"""Helpers for server interceptors that wrap a method handler's behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

Behavior = Callable[[Any, grpc.ServicerContext], Any]
#: Given the original behaviour and whether it streams responses, return the replacement.
Decorator = Callable[[Behavior, bool], Behavior]

_KINDS = ("unary_unary", "unary_stream", "stream_unary", "stream_stream")


def wrap_handler(handler: grpc.RpcMethodHandler, decorate: Decorator) -> grpc.RpcMethodHandler:
    """Return `handler` with its behaviour replaced by `decorate(behaviour, streaming)`."""
    for kind in _KINDS:
        behavior = getattr(handler, kind)
        if behavior is not None:
            streaming = kind.endswith("_stream")
            replaced: grpc.RpcMethodHandler = handler._replace(
                **{kind: decorate(behavior, streaming)}
            )
            return replaced
    return handler
