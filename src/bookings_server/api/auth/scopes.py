"""Per-RPC scope rules, read once from the `(bookings.v1.required_scopes)` and
`(bookings.v1.granted_identities)` method options of the descriptors.

One source of truth: the proto declares what each RPC accepts, every client can see it, and a
method without declared scopes stops the server from starting (nothing is open by accident).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bookings.v1 import (
    availability_service_pb2,
    bookings_service_pb2,
    catalog_service_pb2,
    options_pb2,
)
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from bookings_server.domain.errors import PermissionDenied
from bookings_server.domain.identity import IdentityType, Principal

#: Method-path prefixes that need no token: health checks and reflection (grpcurl, buf curl).
PUBLIC_PREFIXES: tuple[str, ...] = (
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/grpc.reflection.v1.ServerReflection/",
)

#: Modules whose import registers the bookings.v1 services in the default descriptor pool.
_SERVICE_MODULES = (availability_service_pb2, bookings_service_pb2, catalog_service_pb2)


class UndeclaredScopesError(RuntimeError):
    """Some RPC declares no `required_scopes`; the server refuses to start."""

    def __init__(self, methods: list[str]) -> None:
        super().__init__(
            "every RPC must declare (bookings.v1.required_scopes); missing on: "
            + ", ".join(methods)
        )
        self.methods = methods


@dataclass(frozen=True)
class ScopeRule:
    """Who may call one RPC: a holder of any accepted scope, or any granted identity type."""

    accepted_scopes: tuple[str, ...]
    granted_identities: frozenset[IdentityType] = frozenset()

    def authorize(self, principal: Principal) -> None:
        """Raise PermissionDenied (naming the accepted scopes) unless the principal may call."""
        if principal.identity_type in self.granted_identities:
            return
        if not principal.scopes.isdisjoint(self.accepted_scopes):
            return
        granted = ",".join(sorted(identity.value for identity in self.granted_identities))
        raise PermissionDenied(
            "the token lacks a scope this call accepts",
            "MISSING_SCOPE",
            metadata={"accepted_scopes": ",".join(self.accepted_scopes)}
            | ({"granted_identities": granted} if granted else {}),
        )


ScopeRules = Mapping[str, ScopeRule]


def method_path(method: MethodDescriptor) -> str:
    """The gRPC path of a method, e.g. "/bookings.v1.BookingsService/CreateBooking"."""
    return f"/{method.containing_service.full_name}/{method.name}"


def services_named(names: Iterable[str]) -> tuple[ServiceDescriptor, ...]:
    """The descriptors of the services with these full names, e.g. "bookings.v1.CatalogService"."""
    pool = descriptor_pool.Default()
    return tuple(pool.FindServiceByName(name) for name in names)


def read_scope_rules(services: Iterable[ServiceDescriptor]) -> dict[str, ScopeRule]:
    """The rule of every method of `services`, keyed by path.

    Raises UndeclaredScopesError listing every method without `required_scopes`.
    """
    rules: dict[str, ScopeRule] = {}
    undeclared: list[str] = []
    for service in services:
        for method in service.methods:
            path = method_path(method)
            rule = _rule_of(method)
            if rule is None:
                undeclared.append(path)
            else:
                rules[path] = rule
    if undeclared:
        raise UndeclaredScopesError(undeclared)
    return rules


def _rule_of(method: MethodDescriptor) -> ScopeRule | None:
    # The generated stubs type the extension handles loosely; read them untyped.
    extensions: Any = method.GetOptions().Extensions
    scopes: tuple[str, ...] = tuple(extensions[options_pb2.required_scopes])
    if not scopes:
        return None
    identities = frozenset(
        _identity_type(value) for value in extensions[options_pb2.granted_identities]
    )
    return ScopeRule(accepted_scopes=scopes, granted_identities=identities)


def _identity_type(value: options_pb2.IdentityType.ValueType) -> IdentityType:
    """IDENTITY_TYPE_OWNER -> IdentityType.OWNER."""
    return IdentityType(options_pb2.IdentityType.Name(value).removeprefix("IDENTITY_TYPE_"))
