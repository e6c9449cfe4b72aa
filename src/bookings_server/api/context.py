"""The verified principal of the call being served.

The auth interceptor sets it in the worker thread that runs the handler, around the handler's
behaviour; servicers read it with `current_principal()`. It never comes from a request field.
"""

from __future__ import annotations

from contextvars import ContextVar

from bookings_server.domain.errors import Unauthenticated
from bookings_server.domain.identity import Principal

_principal: ContextVar[Principal | None] = ContextVar("bookings_principal", default=None)


def current_principal() -> Principal:
    principal = _principal.get()
    if principal is None:
        raise Unauthenticated("this call carries no verified principal")
    return principal


def set_principal(principal: Principal | None) -> object:
    """Set the principal for the current call; returns a token for `reset_principal`."""
    return _principal.set(principal)


def reset_principal(token: object) -> None:
    _principal.reset(token)  # type: ignore[arg-type]
