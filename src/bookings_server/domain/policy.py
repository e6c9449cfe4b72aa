"""The booking policy of a service (SPEC 3.7): the one evaluator, for CreateBooking and
QueryAvailability alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bookings_server.domain.catalog import Service

#: The rule names of SPEC 3.7, in the order a refusal names them.
ONLINE_BOOKING_DISABLED = "online_booking_disabled"
TOO_LATE = "too_late"
TOO_EARLY = "too_early"


@dataclass(frozen=True)
class PolicyViolations:
    """Why the service's booking policy refuses a start now."""

    too_early_to_book: bool = False
    too_late_to_book: bool = False
    book_online_disabled: bool = False

    @property
    def any(self) -> bool:
        return self.too_early_to_book or self.too_late_to_book or self.book_online_disabled

    @property
    def rules(self) -> tuple[str, ...]:
        """The broken rules by name, in SPEC order."""
        named = (
            (self.book_online_disabled, ONLINE_BOOKING_DISABLED),
            (self.too_late_to_book, TOO_LATE),
            (self.too_early_to_book, TOO_EARLY),
        )
        return tuple(name for broken, name in named if broken)


def policy_violations(service: Service, start: datetime, now: datetime) -> PolicyViolations:
    """The policy rules a booking starting at `start` breaks when made at `now`.

    Too late: it starts sooner than min_notice from now (a start in the past always is).
    Too early: it starts further ahead than max_advance.
    """
    policy = service.policy
    return PolicyViolations(
        too_early_to_book=policy.max_advance is not None and start > now + policy.max_advance,
        too_late_to_book=start < now + policy.min_notice,
        book_online_disabled=not service.online_booking_enabled,
    )
