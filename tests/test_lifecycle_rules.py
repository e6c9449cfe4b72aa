"""The pure lifecycle rules of SPEC section 4: decision table, transitions, revisions, window."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bookings_server.domain.booking import (
    Actor,
    BookedSlot,
    Booking,
    BookingStatus,
    EventType,
    FlowControl,
    PaymentStatus,
)
from bookings_server.domain.capacity import session_unit
from bookings_server.domain.errors import Aborted, FailedPrecondition, InvalidArgument
from bookings_server.domain.identity import IdentityType
from bookings_server.domain.lifecycle import (
    ALLOWED_FROM,
    CANCELLATION_POLICY_VIOLATION,
    INVALID_BOOKING_STATUS,
    Action,
    Outcome,
    apply_outcome,
    changes,
    check_cancellation_window,
    check_revision,
    conflicts,
    decide_confirm_or_decline,
    force_confirm,
    require_allowed,
    validate_revision,
)

UNPAID = (
    PaymentStatus.UNDEFINED,
    PaymentStatus.NOT_PAID,
    PaymentStatus.REFUNDED,
    PaymentStatus.EXEMPT,
)
PAID = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_PAID)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _booking(status: BookingStatus = BookingStatus.CREATED, revision: int = 3) -> Booking:
    return Booking(
        id="b-1",
        site_id="site-a",
        status=status,
        payment_status=PaymentStatus.UNDEFINED,
        participants=1,
        revision=revision,
        created_by=Actor(IdentityType.OWNER, "owner-1"),
        slot=BookedSlot(service_id="svc-1", start=NOW + timedelta(days=1)),
    )


def _decide(
    *, conflict: bool, payment: PaymentStatus, manual: bool, skip_confirmation: bool = False
) -> Outcome:
    return decide_confirm_or_decline(
        conflict=conflict,
        payment_status=payment,
        requires_manual_approval=manual,
        skip_business_confirmation=skip_confirmation,
    )


# The decision table, one test per row.


@pytest.mark.parametrize("payment", UNPAID)
@pytest.mark.parametrize("manual", [False, True])
def test_conflict_unpaid_is_declined(payment: PaymentStatus, manual: bool) -> None:
    assert _decide(conflict=True, payment=payment, manual=manual) == Outcome(BookingStatus.DECLINED)


@pytest.mark.parametrize("payment", PAID)
def test_conflict_paid_without_approval_is_confirmed_double_booked(
    payment: PaymentStatus,
) -> None:
    assert _decide(conflict=True, payment=payment, manual=False) == Outcome(
        BookingStatus.CONFIRMED, double_booked=True
    )


@pytest.mark.parametrize("payment", PAID)
def test_conflict_paid_with_approval_is_pending_double_booked(payment: PaymentStatus) -> None:
    assert _decide(conflict=True, payment=payment, manual=True) == Outcome(
        BookingStatus.PENDING, double_booked=True
    )


@pytest.mark.parametrize("payment", list(PaymentStatus))
def test_room_without_approval_is_confirmed(payment: PaymentStatus) -> None:
    assert _decide(conflict=False, payment=payment, manual=False) == Outcome(
        BookingStatus.CONFIRMED
    )


@pytest.mark.parametrize("payment", list(PaymentStatus))
def test_room_with_approval_is_pending(payment: PaymentStatus) -> None:
    assert _decide(conflict=False, payment=payment, manual=True) == Outcome(BookingStatus.PENDING)


def test_skip_business_confirmation_never_goes_pending() -> None:
    assert _decide(
        conflict=False, payment=PaymentStatus.UNDEFINED, manual=True, skip_confirmation=True
    ) == Outcome(BookingStatus.CONFIRMED)
    assert _decide(
        conflict=True, payment=PaymentStatus.PAID, manual=True, skip_confirmation=True
    ) == Outcome(BookingStatus.CONFIRMED, double_booked=True)


def test_skip_availability_validation_never_conflicts() -> None:
    skipping = replace(_booking(), flow_control=FlowControl(skip_availability_validation=True))
    assert not conflicts(skipping, session_unit("s-1"), capacity=1, taken_by_others=5)


def test_class_conflict_counts_other_bookings_plus_own_participants() -> None:
    pair = replace(_booking(), participants=2)
    assert not conflicts(pair, session_unit("s-1"), capacity=5, taken_by_others=3)
    assert conflicts(pair, session_unit("s-1"), capacity=5, taken_by_others=4)


def test_force_confirm_double_books_only_on_conflict() -> None:
    assert force_confirm(conflict=False) == Outcome(BookingStatus.CONFIRMED)
    assert force_confirm(conflict=True) == Outcome(BookingStatus.CONFIRMED, double_booked=True)


def test_each_outcome_names_its_event() -> None:
    assert Outcome(BookingStatus.CONFIRMED).event_type is EventType.BOOKING_CONFIRMED
    assert Outcome(BookingStatus.DECLINED).event_type is EventType.BOOKING_DECLINED
    assert Outcome(BookingStatus.PENDING).event_type is EventType.BOOKING_PENDING
    assert Outcome(BookingStatus.CANCELED).event_type is EventType.BOOKING_CANCELED


# Transitions: every (action, status) pair, allowed or refused.

_TRANSITIONS = [
    (action, status, status in ALLOWED_FROM[action])
    for action in Action
    for status in BookingStatus
]


@pytest.mark.parametrize(
    ("action", "status", "allowed"),
    _TRANSITIONS,
    ids=[f"{a.name}-from-{s.name}-{'ok' if ok else 'refused'}" for a, s, ok in _TRANSITIONS],
)
def test_transition(action: Action, status: BookingStatus, allowed: bool) -> None:
    if allowed:
        require_allowed(action, status)
        return
    with pytest.raises(FailedPrecondition) as raised:
        require_allowed(action, status)
    assert raised.value.reason == INVALID_BOOKING_STATUS
    assert raised.value.metadata["status"] == status.value


def test_final_statuses_allow_nothing() -> None:
    for action in Action:
        assert BookingStatus.CANCELED not in ALLOWED_FROM[action]
        assert BookingStatus.DECLINED not in ALLOWED_FROM[action]


def test_confirmed_bookings_can_only_be_canceled_rescheduled_or_resized() -> None:
    assert {a for a in Action if BookingStatus.CONFIRMED in ALLOWED_FROM[a]} == {
        Action.CANCEL,
        Action.RESCHEDULE,
        Action.UPDATE_PARTICIPANTS,
    }


# Revisions.


def test_current_revision_passes() -> None:
    check_revision(_booking(revision=3), 3)


def test_stale_revision_is_aborted() -> None:
    with pytest.raises(Aborted) as raised:
        check_revision(_booking(revision=3), 2)
    assert raised.value.metadata["current_revision"] == "3"


def test_revision_zero_skips_the_check_where_optional() -> None:
    validate_revision(0, required=False)
    check_revision(_booking(revision=3), 0)


@pytest.mark.parametrize("given", [0, -1])
def test_missing_or_negative_revision_is_invalid_where_required(given: int) -> None:
    with pytest.raises(InvalidArgument) as raised:
        validate_revision(given, required=True)
    assert raised.value.violations[0].field == "revision"


def test_negative_revision_is_invalid_even_where_optional() -> None:
    with pytest.raises(InvalidArgument):
        validate_revision(-5, required=False)


# Cancellation window.


def test_cancel_before_the_window_is_allowed() -> None:
    check_cancellation_window(
        start=NOW + timedelta(hours=25), now=NOW, window=timedelta(hours=24), ignore_policy=False
    )


def test_cancel_inside_the_window_is_refused() -> None:
    with pytest.raises(FailedPrecondition) as raised:
        check_cancellation_window(
            start=NOW + timedelta(hours=23),
            now=NOW,
            window=timedelta(hours=24),
            ignore_policy=False,
        )
    assert raised.value.reason == CANCELLATION_POLICY_VIOLATION


def test_cancel_after_the_start_is_refused_without_a_window() -> None:
    with pytest.raises(FailedPrecondition):
        check_cancellation_window(
            start=NOW - timedelta(minutes=1), now=NOW, window=timedelta(0), ignore_policy=False
        )


def test_ignoring_the_policy_allows_cancel_inside_the_window() -> None:
    check_cancellation_window(
        start=NOW + timedelta(hours=1), now=NOW, window=timedelta(hours=24), ignore_policy=True
    )


# Applying an outcome.


def test_apply_outcome_bumps_revision_and_stores_payment_status() -> None:
    after = apply_outcome(
        _booking(revision=3), Outcome(BookingStatus.CONFIRMED, True), PaymentStatus.PAID, NOW
    )
    assert (after.status, after.double_booked, after.payment_status, after.revision) == (
        BookingStatus.CONFIRMED,
        True,
        PaymentStatus.PAID,
        4,
    )
    assert after.updated_date == NOW


def test_apply_outcome_without_payment_status_keeps_it() -> None:
    after = apply_outcome(_booking(), Outcome(BookingStatus.DECLINED), None, NOW)
    assert after.payment_status is PaymentStatus.UNDEFINED


def test_staying_pending_with_the_same_payment_status_is_no_change() -> None:
    pending = _booking(BookingStatus.PENDING)
    assert not changes(pending, Outcome(BookingStatus.PENDING), None)
    assert not changes(pending, Outcome(BookingStatus.PENDING), PaymentStatus.UNDEFINED)
    assert changes(pending, Outcome(BookingStatus.PENDING), PaymentStatus.PAID)
    assert changes(pending, Outcome(BookingStatus.CONFIRMED), None)
