"""The server interceptor that authenticates and authorizes every call.

It wraps the handler's behaviour, so verification runs in the worker thread that serves the
call; the verified principal is set in api/context.py for exactly the duration of the call
(a streaming call keeps it until its last message). Health and reflection need no token.
A registered method that has no scope rule is refused (fail closed); an unknown method is
left to gRPC (UNIMPLEMENTED).

Its own failures are turned into statuses by api/errors.abort_with, the same mapping the
ErrorMappingInterceptor uses, because this wrapper sits outside that one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from bookings_server.api.auth.keys import SigningKeys
from bookings_server.api.auth.scopes import PUBLIC_PREFIXES, ScopeRule, ScopeRules
from bookings_server.api.auth.token_cache import TokenVerifier
from bookings_server.api.context import reset_principal, set_principal
from bookings_server.api.interceptors.wrap import Behavior, Handler, wrap_handler
from bookings_server.api.status import abort_with
from bookings_server.domain.errors import DomainError, PermissionDenied, Unauthenticated
from bookings_server.domain.identity import Principal

_BEARER = "bearer "


class AuthInterceptor(grpc.ServerInterceptor):
    """Verifies `authorization: Bearer <jwt>` and the method's scope rule on every call."""

    def __init__(self, keys: SigningKeys, rules: ScopeRules) -> None:
        #: Verified tokens are remembered until they expire (api/auth/token_cache.py).
        self._verifier = TokenVerifier(keys)
        self._rules = dict(rules)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None or method.startswith(PUBLIC_PREFIXES):
            return handler
        rule = self._rules.get(method)

        def guard(behavior: Behavior, streaming: bool) -> Behavior:
            return self._guard(rule, behavior, streaming)

        return wrap_handler(handler, guard)

    def _guard(self, rule: ScopeRule | None, behavior: Behavior, streaming: bool) -> Behavior:
        if streaming:

            def streamed(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
                token = set_principal(self._authorize(rule, context))
                try:
                    yield from behavior(request, context)
                finally:
                    reset_principal(token)

            return streamed

        def unary(request: Any, context: grpc.ServicerContext) -> Any:
            token = set_principal(self._authorize(rule, context))
            try:
                return behavior(request, context)
            finally:
                reset_principal(token)

        return unary

    def _authorize(self, rule: ScopeRule | None, context: grpc.ServicerContext) -> Principal:
        """The verified principal allowed by `rule`; aborts the call otherwise."""
        try:
            return _authorized_principal(self._verifier, rule, context)
        except DomainError as error:
            abort_with(context, error)
            raise  # abort_with raises; this only satisfies the type checker


def _authorized_principal(
    verifier: TokenVerifier, rule: ScopeRule | None, context: grpc.ServicerContext
) -> Principal:
    if rule is None:
        raise PermissionDenied("this method declares no scopes", "UNDECLARED_METHOD")
    principal = verifier.verify(_bearer_token(context))
    rule.authorize(principal)
    return principal


def _bearer_token(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            text = value if isinstance(value, str) else value.decode("latin-1")
            if text[: len(_BEARER)].lower() == _BEARER and text[len(_BEARER) :].strip():
                return text[len(_BEARER) :].strip()
            raise Unauthenticated("authorization metadata is not a bearer token", "INVALID_TOKEN")
    raise Unauthenticated("the call carries no authorization metadata", "MISSING_CREDENTIALS")
