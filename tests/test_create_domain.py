"""Pure parts of CreateBooking: the capacity decision, backoff, the row codec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bookings_server.domain.booking import (
    Actor,
    BookedSchedule,
    BookedSlot,
    Booking,
    BookingStatus,
    Choice,
    ChoiceGroup,
    ContactDetails,
    FlowControl,
    FormField,
    PaymentStatus,
    SlotResource,
)
from bookings_server.domain.booking_rules import check_capacity
from bookings_server.domain.capacity import session_unit, staff_unit
from bookings_server.domain.catalog import Location, LocationType, PaymentOption
from bookings_server.domain.errors import FailedPrecondition
from bookings_server.domain.identity import IdentityType
from bookings_server.domain.outbox import retry_delay
from bookings_server.store.booking_codec import booking_from_dict, booking_to_dict

START = datetime(2030, 5, 1, 9, tzinfo=UTC)
SESSION = session_unit("s-1")


@pytest.mark.parametrize(
    ("status", "taken", "double_booked"),
    [
        (BookingStatus.CREATED, 2, False),
        (BookingStatus.CONFIRMED, 2, False),
        (BookingStatus.CONFIRMED, 3, True),
        (BookingStatus.PENDING, 3, True),
        (BookingStatus.WAITING_LIST, 3, False),
    ],
)
def test_the_capacity_decision(status: BookingStatus, taken: int, double_booked: bool) -> None:
    decided = check_capacity(
        SESSION, capacity=3, taken=taken, participants=1, status=status, skip=False
    )

    assert decided is double_booked


def test_a_created_booking_that_does_not_fit_is_refused_unless_skipped() -> None:
    def check(skip: bool) -> bool:
        return check_capacity(
            SESSION, capacity=3, taken=3, participants=1, status=BookingStatus.CREATED, skip=skip
        )

    with pytest.raises(FailedPrecondition) as refused:
        check(False)

    assert refused.value.reason == "SESSION_CAPACITY_EXCEEDED"
    assert check(True) is False


def test_any_overlapping_appointment_is_a_conflict() -> None:
    unit = staff_unit("staff-1", START, START + timedelta(hours=1), timedelta(minutes=15))

    with pytest.raises(FailedPrecondition) as refused:
        check_capacity(
            unit, capacity=5, taken=1, participants=1, status=BookingStatus.CREATED, skip=False
        )

    assert refused.value.reason == "SLOT_NOT_AVAILABLE"
    assert unit.blocked_until == START + timedelta(minutes=75)


def test_retries_back_off_exponentially_up_to_the_cap() -> None:
    delays = [retry_delay(n, timedelta(seconds=5), timedelta(minutes=1)) for n in range(1, 7)]

    assert [d.total_seconds() for d in delays] == [5, 10, 20, 40, 60, 60]


def full_booking() -> Booking:
    return Booking(
        id="b-1",
        site_id="site-a",
        status=BookingStatus.PENDING,
        payment_status=PaymentStatus.PARTIALLY_PAID,
        participants=3,
        revision=4,
        created_by=Actor(IdentityType.MEMBER, "member-9"),
        slot=BookedSlot(
            "svc",
            START,
            START + timedelta(hours=1),
            "Europe/Paris",
            "sess",
            "sched",
            SlotResource("staff", "Dana", "d@example.com", "staff-sched"),
            Location("loc", "Studio", "1 Main St", LocationType.OWNER_BUSINESS),
        ),
        title="Yoga",
        tags=("GROUP",),
        contact=ContactDetails("c", "Ada", "L", "a@example.com", "+1", "UTC", "GB"),
        additional_fields=(FormField("f", "yes", "Agree?", "CHECK_BOX"),),
        participants_choices=(
            ChoiceGroup(2, (Choice("level", custom="expert"),)),
            ChoiceGroup(1, (Choice("length", duration_minutes=30, duration_name="Short"),)),
        ),
        selected_payment_option=PaymentOption.ONLINE,
        start=START,
        end=START + timedelta(hours=1),
        external_user_id="ext",
        notify_participants=True,
        notification_message="hi",
        send_sms_reminder=True,
        extended_fields={"crm": {"tier": "gold", "visits": 3.0}},
        double_booked=True,
        flow_control=FlowControl(skip_business_confirmation=True),
        created_date=START - timedelta(days=1),
        updated_date=START - timedelta(hours=1),
    )


def test_the_row_codec_round_trips_every_field() -> None:
    booking = full_booking()
    course = Booking(
        id="b-2",
        site_id="site-a",
        status=BookingStatus.CREATED,
        payment_status=PaymentStatus.UNDEFINED,
        participants=1,
        revision=1,
        created_by=Actor(IdentityType.OWNER, "o"),
        schedule=BookedSchedule("svc", "sched", "UTC", START, START + timedelta(days=7)),
        total_participants=1,
    )

    assert booking_from_dict(booking_to_dict(booking)) == booking
    assert booking_from_dict(booking_to_dict(course)) == course
