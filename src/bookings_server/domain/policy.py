"""The booking policy of a service (SPEC 3.7): the one evaluator, for CreateBooking and
QueryAvailability alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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


@dataclass(frozen=True)
class BookableStarts:
    """The starts a service's booking policy accepts at one instant: [earliest, latest].

    Starts before `earliest` are too late to book (min_notice), starts after `latest` too
    early (max_advance; None: no limit).
    """

    earliest: datetime
    latest: datetime | None
    online_booking_enabled: bool

    def too_early(self, start: datetime) -> bool:
        """True when `start` is further ahead than max_advance."""
        return self.latest is not None and start > self.latest

    def too_late(self, start: datetime) -> bool:
        """True when `start` is sooner than min_notice (a start in the past always is)."""
        return start < self.earliest

    def violations(self, start: datetime) -> PolicyViolations:
        """The policy rules a booking starting at `start` breaks."""
        return PolicyViolations(
            too_early_to_book=self.too_early(start),
            too_late_to_book=self.too_late(start),
            book_online_disabled=not self.online_booking_enabled,
        )

    @property
    def accepts_some_start(self) -> bool:
        """False when every start breaks a rule (online booking off, or an empty range)."""
        return self.online_booking_enabled and (self.latest is None or self.earliest <= self.latest)


def bookable_starts(service: Service, now: datetime) -> BookableStarts:
    """The starts `service`'s policy accepts at `now`; bounds beyond the representable
    instants are clamped to them (so a huge min_notice or max_advance does not overflow)."""
    policy = service.policy
    return BookableStarts(
        earliest=clamped_shift(now, policy.min_notice),
        latest=None if policy.max_advance is None else clamped_shift(now, policy.max_advance),
        online_booking_enabled=service.online_booking_enabled,
    )


def policy_violations(service: Service, start: datetime, now: datetime) -> PolicyViolations:
    """The policy rules a booking starting at `start` breaks when made at `now`.

    Too late: it starts sooner than min_notice from now (a start in the past always is).
    Too early: it starts further ahead than max_advance. Unlike `bookable_starts`, the bounds
    are not clamped (an out-of-range bound raises OverflowError, as it always has).
    """
    policy = service.policy
    window = BookableStarts(
        earliest=now + policy.min_notice,
        latest=None if policy.max_advance is None else now + policy.max_advance,
        online_booking_enabled=service.online_booking_enabled,
    )
    return window.violations(start)


_UTC_MIN = datetime.min.replace(tzinfo=UTC)
_UTC_MAX = datetime.max.replace(tzinfo=UTC)


def clamped_shift(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, clamped to the representable range instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return _UTC_MAX if delta > timedelta(0) else _UTC_MIN
