"""Lifecycle transitions through gRPC (SPEC 4, docs/lifecycle.md): each allowed one and the
refused ones, revisions, the cancellation window, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from bookings.v1 import booking_pb2
from bookings.v1 import bookings_service_pb2 as pb
from conftest import AuthMetadata, StartServer
from lifecycle_support import (
    CANCELED,
    CONFIRMED,
    DECLINED,
    PENDING,
    SITE,
    ClassSetup,
    LifecycleEnv,
    class_booking_request,
    error_reason,
    lifecycle_env,
)

from bookings_server.domain.identity import Permission
from bookings_server.domain.outbox import OutboxKind
from bookings_server.store.locks import lock_capacity_unit

NOT_PAID = booking_pb2.PAYMENT_STATUS_NOT_PAID
PAID = booking_pb2.PAYMENT_STATUS_PAID


@pytest.fixture
def env(
    start_server: StartServer, database_url: str, auth_metadata: AuthMetadata
) -> Iterator[LifecycleEnv]:
    with lifecycle_env(
        database_url, start_server(database_url=database_url), auth_metadata
    ) as environment:
        yield environment


@pytest.fixture
def session(env: LifecycleEnv) -> ClassSetup:
    return env.seeder.class_session(capacity=2)


def _confirm(env: LifecycleEnv, booking: Any, **fields: Any) -> Any:
    request = pb.ConfirmBookingRequest(booking_id=booking.id, revision=booking.revision, **fields)
    return env.client.ConfirmBooking(request, metadata=env.metadata).booking


def _decline(env: LifecycleEnv, booking: Any, **fields: Any) -> Any:
    request = pb.DeclineBookingRequest(booking_id=booking.id, revision=booking.revision, **fields)
    return env.client.DeclineBooking(request, metadata=env.metadata).booking


def _cancel(env: LifecycleEnv, booking: Any, metadata: Any = None, **fields: Any) -> Any:
    request = pb.CancelBookingRequest(booking_id=booking.id, revision=booking.revision, **fields)
    return env.client.CancelBooking(request, metadata=metadata or env.metadata).booking


def _refused(call: Any, code: grpc.StatusCode, reason: str) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    assert raised.value.code() == code
    assert error_reason(raised.value) == reason


# ConfirmOrDeclineBooking: only from CREATED, PENDING, WAITING_LIST.


def test_confirm_or_decline_from_waiting_list(env: LifecycleEnv, session: ClassSetup) -> None:
    request = class_booking_request(session)
    request.booking.status = booking_pb2.BOOKING_STATUS_WAITING_LIST
    waiting = env.create(request)
    assert env.confirm_or_decline(waiting).status == CONFIRMED


@pytest.mark.parametrize("final", ["confirmed", "declined", "canceled"])
def test_confirm_or_decline_is_refused_after_a_decision(
    env: LifecycleEnv, session: ClassSetup, final: str
) -> None:
    booking = env.create(class_booking_request(session))
    decided = {
        "confirmed": lambda: env.confirm_or_decline(booking),
        "declined": lambda: _decline(env, booking),
        "canceled": lambda: _cancel(env, booking),
    }[final]()
    _refused(
        lambda: env.confirm_or_decline(decided),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_BOOKING_STATUS",
    )


# ConfirmBooking.


def test_confirm_from_created(env: LifecycleEnv, session: ClassSetup) -> None:
    confirmed = _confirm(env, env.create(class_booking_request(session)), payment_status=PAID)
    assert (confirmed.status, confirmed.payment_status, confirmed.revision) == (CONFIRMED, PAID, 2)
    assert not confirmed.double_booked


def test_confirm_from_pending(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1, manual_approval=True)
    pending = env.confirm_or_decline(env.create(class_booking_request(setup)))
    assert pending.status == PENDING
    confirmed = _confirm(env, pending)
    assert (confirmed.status, confirmed.double_booked) == (CONFIRMED, False)


def test_force_confirm_over_capacity_is_double_booked(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1)
    first = env.create(class_booking_request(setup))
    second = env.create(class_booking_request(setup))
    env.confirm_or_decline(first)
    forced = _confirm(env, second)
    assert (forced.status, forced.double_booked) == (CONFIRMED, True)


def test_confirm_is_refused_when_already_confirmed(env: LifecycleEnv, session: ClassSetup) -> None:
    confirmed = env.confirm_or_decline(env.create(class_booking_request(session)))
    _refused(
        lambda: _confirm(env, confirmed),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_BOOKING_STATUS",
    )


# DeclineBooking.


def test_decline_from_created(env: LifecycleEnv, session: ClassSetup) -> None:
    declined = _decline(env, env.create(class_booking_request(session)))
    assert (declined.status, declined.revision) == (DECLINED, 2)


def test_declining_a_pending_booking_frees_its_spot(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1, manual_approval=True)
    first = env.create(class_booking_request(setup))
    second = env.create(class_booking_request(setup, skip_business_confirmation=True))
    pending = env.confirm_or_decline(first)
    _decline(env, pending)
    assert env.confirm_or_decline(second).status == CONFIRMED


def test_decline_is_refused_when_confirmed(env: LifecycleEnv, session: ClassSetup) -> None:
    confirmed = env.confirm_or_decline(env.create(class_booking_request(session)))
    _refused(
        lambda: _decline(env, confirmed),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_BOOKING_STATUS",
    )


# CancelBooking.


def test_cancel_frees_the_spot(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(capacity=1)
    first = env.create(class_booking_request(setup))
    second = env.create(class_booking_request(setup))
    confirmed = env.confirm_or_decline(first)
    canceled = _cancel(env, confirmed)
    assert (canceled.status, canceled.revision) == (CANCELED, 3)
    assert env.confirm_or_decline(second, NOT_PAID).status == CONFIRMED


def test_cancel_from_created(env: LifecycleEnv, session: ClassSetup) -> None:
    assert _cancel(env, env.create(class_booking_request(session))).status == CANCELED


def test_cancel_is_refused_when_already_canceled(env: LifecycleEnv, session: ClassSetup) -> None:
    canceled = _cancel(env, env.create(class_booking_request(session)))
    _refused(
        lambda: _cancel(env, canceled),
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_BOOKING_STATUS",
    )


def test_cancel_inside_the_cancellation_window_is_refused(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(cancellation_window=timedelta(days=3))
    confirmed = env.confirm_or_decline(env.create(class_booking_request(setup)))
    _refused(
        lambda: _cancel(env, confirmed),
        grpc.StatusCode.FAILED_PRECONDITION,
        "CANCELLATION_POLICY_VIOLATION",
    )
    assert env.get(confirmed).status == CONFIRMED


def test_owner_may_ignore_the_cancellation_window(env: LifecycleEnv) -> None:
    setup = env.seeder.class_session(cancellation_window=timedelta(days=3))
    confirmed = env.confirm_or_decline(env.create(class_booking_request(setup)))
    canceled = _cancel(env, confirmed, ignore_cancellation_policy=True)
    assert canceled.status == CANCELED


def test_ignoring_the_window_needs_the_permission(
    env: LifecycleEnv, auth_metadata: AuthMetadata
) -> None:
    setup = env.seeder.class_session(cancellation_window=timedelta(days=3))
    confirmed = env.confirm_or_decline(env.create(class_booking_request(setup)))
    app = auth_metadata(env.server, identity="APP")
    _refused(
        lambda: _cancel(env, confirmed, app, ignore_cancellation_policy=True),
        grpc.StatusCode.PERMISSION_DENIED,
        "MISSING_PERMISSION",
    )
    allowed = auth_metadata(
        env.server, identity="APP", permissions=[Permission.IGNORE_BOOKING_POLICY]
    )
    assert _cancel(env, confirmed, allowed, ignore_cancellation_policy=True).status == CANCELED


# Revisions and ids.


def test_stale_revision_is_aborted(env: LifecycleEnv, session: ClassSetup) -> None:
    booking = env.create(class_booking_request(session))
    env.confirm_or_decline(booking)  # revision 1 -> 2
    _refused(lambda: _cancel(env, booking), grpc.StatusCode.ABORTED, "REVISION_MISMATCH")
    _refused(
        lambda: env.confirm_or_decline(booking, revision=1),
        grpc.StatusCode.ABORTED,
        "REVISION_MISMATCH",
    )


def test_current_revision_is_accepted_on_confirm_or_decline(
    env: LifecycleEnv, session: ClassSetup
) -> None:
    booking = env.create(class_booking_request(session))
    assert env.confirm_or_decline(booking, revision=booking.revision).status == CONFIRMED


def test_missing_revision_is_invalid(env: LifecycleEnv, session: ClassSetup) -> None:
    booking = env.create(class_booking_request(session))
    booking.revision = 0
    _refused(lambda: _confirm(env, booking), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")


def test_unknown_booking_is_not_found(env: LifecycleEnv, session: ClassSetup) -> None:
    booking = env.create(class_booking_request(session))
    booking.id = "00000000-0000-0000-0000-000000000000"
    _refused(
        lambda: env.confirm_or_decline(booking),
        grpc.StatusCode.NOT_FOUND,
        "BOOKING_NOT_FOUND",
    )


def test_another_sites_booking_is_not_found(
    env: LifecycleEnv, session: ClassSetup, auth_metadata: AuthMetadata
) -> None:
    booking = env.create(class_booking_request(session))
    other_site = auth_metadata(env.server, site_id="site-b")
    _refused(
        lambda: _cancel(env, booking, other_site),
        grpc.StatusCode.NOT_FOUND,
        "BOOKING_NOT_FOUND",
    )
    assert env.get(booking).status == booking_pb2.BOOKING_STATUS_CREATED


# Lock waits.


def test_lock_wait_that_times_out_is_unavailable_and_changes_nothing(
    env: LifecycleEnv, session: ClassSetup
) -> None:
    booking = env.create(class_booking_request(session))
    with env.seeder.database.write() as holder:
        holder.connection()  # SQLite: BEGIN IMMEDIATE now holds the database's write lock
        lock_capacity_unit(holder, SITE, f"session:{session.session.id}")
        _refused(
            lambda: env.confirm_or_decline(booking),
            grpc.StatusCode.UNAVAILABLE,
            "STORE_BUSY",
        )
    assert env.get(booking).status == booking_pb2.BOOKING_STATUS_CREATED
    assert env.confirm_or_decline(booking).status == CONFIRMED


# Outbox side effects.


def _outbox(env: LifecycleEnv, booking: Any) -> list[Any]:
    with env.seeder.uow.read(SITE) as tx:
        return tx.outbox.list_items(booking_id=booking.id)


def test_cancel_drops_the_pending_sms_reminder(env: LifecycleEnv, session: ClassSetup) -> None:
    request = class_booking_request(session)
    request.send_sms_reminder = True
    booking = env.create(request)
    assert OutboxKind.SMS_REMINDER in {item.kind for item in _outbox(env, booking)}
    _cancel(env, booking)
    assert OutboxKind.SMS_REMINDER not in {item.kind for item in _outbox(env, booking)}


def test_notification_is_queued_with_the_change(env: LifecycleEnv, session: ClassSetup) -> None:
    booking = env.create(class_booking_request(session))
    notification = booking_pb2.ParticipantNotification(notify_participants=True, message="See you")
    confirmed = _confirm(env, booking, participant_notification=notification)
    assert confirmed.participant_notification == notification
    kinds = [item.kind for item in _outbox(env, booking)]
    assert kinds.count(OutboxKind.PARTICIPANT_NOTIFICATION) == 1
