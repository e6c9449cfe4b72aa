"""ConfirmOrDeclineBooking through gRPC, one test per row of SPEC section 4's decision table.

The table is the same on every store, so it runs on SQLite; the capacity lock that decides
concurrent rows on PostgreSQL is raced in test_races.py on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from bookings.v1 import booking_pb2
from conftest import AuthMetadata, StartServer
from lifecycle_support import (
    CONFIRMED,
    DECLINED,
    PENDING,
    LifecycleEnv,
    class_booking_request,
    lifecycle_env,
)

NOT_PAID = booking_pb2.PAYMENT_STATUS_NOT_PAID
PAID = booking_pb2.PAYMENT_STATUS_PAID
PARTIALLY_PAID = booking_pb2.PAYMENT_STATUS_PARTIALLY_PAID


@pytest.fixture
def env(
    start_server: StartServer, sqlite_url: str, auth_metadata: AuthMetadata
) -> Iterator[LifecycleEnv]:
    with lifecycle_env(
        sqlite_url, start_server(database_url=sqlite_url), auth_metadata
    ) as environment:
        yield environment


def _contender(env: LifecycleEnv, *, manual_approval: bool = False, **flow: bool) -> Any:
    """A CREATED booking of a capacity-1 session whose spot another booking took since."""
    setup = env.seeder.class_session(capacity=1, manual_approval=manual_approval)
    holder = env.create(class_booking_request(setup))
    contender = env.create(class_booking_request(setup, **flow))
    assert env.confirm_or_decline(holder, PAID).status in (CONFIRMED, PENDING)
    return contender


def test_conflict_unpaid_is_declined(env: LifecycleEnv) -> None:
    booking = _contender(env)
    decided = env.confirm_or_decline(booking, NOT_PAID)
    assert decided.status == DECLINED
    assert decided.payment_status == NOT_PAID
    assert not decided.double_booked


def test_conflict_with_undefined_payment_is_declined(env: LifecycleEnv) -> None:
    booking = _contender(env, manual_approval=True)
    assert env.confirm_or_decline(booking).status == DECLINED


def test_conflict_paid_is_confirmed_double_booked(env: LifecycleEnv) -> None:
    booking = _contender(env)
    decided = env.confirm_or_decline(booking, PARTIALLY_PAID)
    assert (decided.status, decided.double_booked) == (CONFIRMED, True)
    assert decided.payment_status == PARTIALLY_PAID


def test_conflict_paid_with_manual_approval_is_pending_double_booked(env: LifecycleEnv) -> None:
    booking = _contender(env, manual_approval=True)
    decided = env.confirm_or_decline(booking, PAID)
    assert (decided.status, decided.double_booked) == (PENDING, True)


def test_room_is_confirmed_whatever_the_payment(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=2)
    decided = env.confirm_or_decline(env.create(class_booking_request(setup)), NOT_PAID)
    assert (decided.status, decided.double_booked) == (CONFIRMED, False)
    assert decided.revision == 2


def test_room_with_manual_approval_is_pending(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=2, manual_approval=True)
    decided = env.confirm_or_decline(env.create(class_booking_request(setup)))
    assert (decided.status, decided.double_booked) == (PENDING, False)


def test_pending_bookings_hold_their_spots(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1, manual_approval=True)
    first = env.create(class_booking_request(setup))
    second = env.create(class_booking_request(setup))
    assert env.confirm_or_decline(first).status == PENDING
    assert env.confirm_or_decline(second, NOT_PAID).status == DECLINED


def test_redeciding_a_pending_booking_does_not_count_its_own_spots(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1, manual_approval=True)
    pending = env.confirm_or_decline(env.create(class_booking_request(setup)))
    again = env.confirm_or_decline(pending, NOT_PAID)
    assert (again.status, again.double_booked) == (PENDING, False)
    assert again.payment_status == NOT_PAID


def test_skip_availability_validation_never_conflicts(env: LifecycleEnv) -> None:
    booking = _contender(env, skip_availability_validation=True)
    decided = env.confirm_or_decline(booking, NOT_PAID)
    assert decided.status == CONFIRMED


def test_a_skipped_booking_that_overbooks_when_confirmed_is_double_booked(
    env: LifecycleEnv,
) -> None:
    """Never declined, but the overbooking is recorded (RELIABILITY.md promise 1)."""
    booking = _contender(env, skip_availability_validation=True)
    decided = env.confirm_or_decline(booking, NOT_PAID)
    assert (decided.status, decided.double_booked) == (CONFIRMED, True)


def test_skip_business_confirmation_never_goes_pending(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=2, manual_approval=True)
    request = class_booking_request(setup, skip_business_confirmation=True)
    assert env.confirm_or_decline(env.create(request)).status == CONFIRMED


def test_unspecified_payment_status_keeps_the_current_one(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=2)
    decided = env.confirm_or_decline(env.create(class_booking_request(setup)))
    assert decided.payment_status == booking_pb2.PAYMENT_STATUS_UNDEFINED


def test_decision_is_stored(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=2)
    decided = env.confirm_or_decline(env.create(class_booking_request(setup)), PAID)
    assert env.get(decided) == decided


def test_multi_participant_booking_that_does_not_fit_is_declined(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=3)
    first = env.create(class_booking_request(setup, participants=2))
    second = env.create(class_booking_request(setup, participants=2))
    assert env.confirm_or_decline(first).status == CONFIRMED
    decided = env.confirm_or_decline(second)
    assert decided.status == DECLINED
