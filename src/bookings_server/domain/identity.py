"""Who is calling: the verified principal of one call (SPEC section 7)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class IdentityType(enum.Enum):
    """Kinds of callers; values are the proto enum names without prefix."""

    OWNER = "OWNER"
    APP = "APP"
    MEMBER = "MEMBER"
    VISITOR = "VISITOR"


class Scope:
    """The Wix permission scopes."""

    MANAGE_BOOKINGS = "SCOPE.DC-BOOKINGS.MANAGE-BOOKINGS"
    MANAGE_BOOKINGS_ALL = "SCOPE.DC-BOOKINGS-MEGA.MANAGE-BOOKINGS"
    READ_BOOKINGS_PUBLIC = "SCOPE.DC-BOOKINGS.READ-BOOKINGS-PUBLIC"
    READ_CALENDAR = "SCOPE.DC-BOOKINGS.READ-CALENDAR"


#: Every scope, in the order SPEC section 7 lists them.
ALL_SCOPES: tuple[str, ...] = (
    Scope.MANAGE_BOOKINGS,
    Scope.MANAGE_BOOKINGS_ALL,
    Scope.READ_BOOKINGS_PUBLIC,
    Scope.READ_CALENDAR,
)


class Permission:
    """Override permissions a token may carry besides its scopes."""

    OVERRIDE_AVAILABILITY = "BOOKINGS.OVERRIDE_AVAILABILITY"
    IGNORE_BOOKING_POLICY = "BOOKINGS.IGNORE_BOOKING_POLICY"
    MANAGE_PAYMENTS = "BOOKINGS.MANAGE_PAYMENTS"


@dataclass(frozen=True)
class Principal:
    """The verified caller: one site, one identity, its scopes and permissions."""

    site_id: str
    identity_type: IdentityType
    identity_id: str
    scopes: frozenset[str] = frozenset()
    permissions: frozenset[str] = frozenset()

    @property
    def is_owner(self) -> bool:
        return self.identity_type is IdentityType.OWNER

    def has_permission(self, permission: str) -> bool:
        """Owners hold every override permission of their own site."""
        return self.is_owner or permission in self.permissions
