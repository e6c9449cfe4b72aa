"""CreateBooking rules of SPEC section 3, one test per rule and per error reason.

Every error is checked for its status code, its ErrorInfo reason and, where a field is at
fault, the BadRequest field. The rules are the same on every store, so these wire tests run on
SQLite; capacity, idempotency and races, which the store decides, run on both
(test_create_capacity.py, test_create_idempotency.py, test_races.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import grpc
import pytest
from booking_helpers import (
    CHOICES,
    OFFLINE_ONLY,
    POLICY,
    BookingEnv,
    add_service,
    add_session,
    appointment_booking,
    booking_env,
    class_booking,
    course_booking,
    failure,
    hour_from_now,
)
from bookings.v1 import booking_pb2, bookings_service_pb2

from bookings_server.domain.catalog import BookingPolicy, ServiceType
from bookings_server.domain.identity import Permission

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
DENIED = grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture
def env(sqlite_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(sqlite_url, start_server, auth_metadata) as environment:
        yield environment


def class_with(env: BookingEnv, start_in_hours: int = 72, **service: object) -> tuple[str, str]:
    """A class service with the given settings and one session; (service id, session id)."""
    created = add_service(env.database_url, ServiceType.CLASS, **service)
    return created.id, add_session(env.database_url, created.id, hour_from_now(start_in_hours))


# ---- 3.1 slot versus schedule ----------------------------------------------------------------


def test_a_course_booked_with_a_slot_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.course_service)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        INVALID,
        "INVALID_ARGUMENT",
        ("booking.booked_entity",),
    )


def test_a_class_booked_with_a_schedule_is_invalid(env: BookingEnv) -> None:
    error = failure(lambda: env.visitor().create(course_booking(env.catalog.class_service)))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity",))


def test_a_booking_without_slot_or_schedule_is_invalid(env: BookingEnv) -> None:
    error = failure(lambda: env.visitor().create(booking_pb2.Booking(total_participants=1)))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity",))


def test_a_class_slot_needs_a_session_id(env: BookingEnv) -> None:
    request = class_booking("", env.catalog.class_service)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity.slot.session_id",))


def test_an_unknown_service_is_not_found(env: BookingEnv) -> None:
    error = failure(lambda: env.visitor().create(course_booking("no-such-service")))

    assert error.code == grpc.StatusCode.NOT_FOUND


# ---- 3.2 participants ------------------------------------------------------------------------


def test_a_booking_without_participants_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.ClearField("total_participants")

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.participants_info",))


def test_zero_participants_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service, participants=0)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.total_participants",))


def with_choices(request: booking_pb2.Booking, *groups: tuple[int, dict[str, object]]) -> None:
    request.ClearField("total_participants")
    for count, choices in groups:
        entry = request.participants_choices.service_choices.add(number_of_participants=count)
        for option_id, value in choices.items():
            choice = entry.choices.add(option_id=option_id)
            if isinstance(value, int):
                choice.duration.minutes = value
            else:
                choice.custom = str(value)


def test_participant_choices_of_the_service_are_summed(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, choices=CHOICES)
    request = class_booking(session_id, service_id)
    with_choices(request, (1, {"level": "expert", "length": 30}), (2, {"level": "beginner"}))

    booking = env.visitor().create(request)

    assert len(booking.participants_choices.service_choices) == 2
    assert booking.WhichOneof("participants_info") == "participants_choices"


def test_an_unknown_choice_option_is_invalid_service_choices(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, choices=CHOICES)
    request = class_booking(session_id, service_id)
    with_choices(request, (1, {"color": "red"}))

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "INVALID_SERVICE_CHOICES",
        ("booking.participants_choices.service_choices[0].choices[0].option_id",),
    )


def test_a_value_the_option_does_not_offer_is_invalid_service_choices(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, choices=CHOICES)
    request = class_booking(session_id, service_id)
    with_choices(request, (1, {"level": "beginner", "length": 45}))

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "INVALID_SERVICE_CHOICES",
        ("booking.participants_choices.service_choices[0].choices[1]",),
    )


def test_a_choice_group_without_participants_is_invalid(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, choices=CHOICES)
    request = class_booking(session_id, service_id)
    with_choices(request, (0, {"level": "beginner"}))

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (
        INVALID,
        ("booking.participants_choices.service_choices[0].number_of_participants",),
    )


def test_more_participants_than_the_policy_allows_per_booking_is_refused(
    env: BookingEnv,
) -> None:
    service_id, session_id = class_with(env, policy=BookingPolicy(max_participants_per_booking=2))
    request = class_booking(session_id, service_id, participants=3)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "TOO_MANY_PARTICIPANTS",
        ("booking.participants_info",),
    )


# ---- 3.3 session and appointment slots ------------------------------------------------------


def test_an_unknown_session_is_session_not_found(env: BookingEnv) -> None:
    request = class_booking("no-such-session", env.catalog.class_service)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "SESSION_NOT_FOUND",
        ("booking.booked_entity.slot.session_id",),
    )


def test_a_session_of_another_service_is_session_not_found(env: BookingEnv) -> None:
    other_service, _ = class_with(env)
    request = class_booking(env.catalog.session, other_service)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason) == (PRECONDITION, "SESSION_NOT_FOUND")


def test_an_unknown_schedule_or_a_course_without_sessions_is_schedule_not_found(
    env: BookingEnv,
) -> None:
    unknown = course_booking("")
    unknown.booked_entity.schedule.schedule_id = "no-such-schedule"
    wrong = course_booking(env.catalog.course_service)
    wrong.booked_entity.schedule.schedule_id = "no-such-schedule"
    empty = course_booking(add_service(env.database_url, ServiceType.COURSE).id)

    for request in (unknown, wrong, empty):
        error = failure(lambda request=request: env.visitor().create(request))
        assert (error.code, error.reason, error.fields) == (
            PRECONDITION,
            "SCHEDULE_NOT_FOUND",
            ("booking.booked_entity.schedule.schedule_id",),
        )


def test_an_appointment_off_the_slot_grid_is_not_available(env: BookingEnv) -> None:
    start = hour_from_now(48) + timedelta(minutes=20)
    request = appointment_booking(env.catalog.appointment_service, env.catalog.staff, start)

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "SLOT_NOT_AVAILABLE",
        ("booking.booked_entity.slot.start_date",),
    )


def test_an_appointment_longer_than_the_service_duration_is_not_available(
    env: BookingEnv,
) -> None:
    start = hour_from_now(48)
    request = appointment_booking(env.catalog.appointment_service, env.catalog.staff, start)
    request.booked_entity.slot.end_date.FromDatetime(start + timedelta(minutes=90))

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "SLOT_NOT_AVAILABLE",
        ("booking.booked_entity.slot.end_date",),
    )


def test_an_appointment_with_a_staff_member_not_of_the_service_is_not_available(
    env: BookingEnv,
) -> None:
    request = appointment_booking(env.catalog.appointment_service, "stranger", hour_from_now(48))

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "SLOT_NOT_AVAILABLE",
        ("booking.booked_entity.slot.resource.id",),
    )


def test_an_appointment_needs_a_start(env: BookingEnv) -> None:
    request = booking_pb2.Booking(total_participants=1)
    request.booked_entity.slot.service_id = env.catalog.appointment_service

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity.slot.start_date",))


def test_a_slot_holding_only_a_session_id_books_that_session(env: BookingEnv) -> None:
    request = booking_pb2.Booking(total_participants=1)
    request.booked_entity.slot.session_id = env.catalog.session

    booking = env.visitor().create(request)

    slot = booking.booked_entity.slot
    assert (slot.session_id, slot.service_id) == (env.catalog.session, env.catalog.class_service)
    assert slot.start_date.ToDatetime(tzinfo=UTC) == env.catalog.session_start


# ---- 3.4 / 3.5 status ------------------------------------------------------------------------


def test_payment_status_in_the_request_is_ignored(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.payment_status = booking_pb2.PAYMENT_STATUS_PAID

    booking = env.visitor().create(request)

    assert booking.payment_status == booking_pb2.PAYMENT_STATUS_UNDEFINED


def test_only_an_owner_may_create_a_booking_in_another_status(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.status = booking_pb2.BOOKING_STATUS_CONFIRMED

    error = failure(lambda: env.client(identity="MEMBER").create(request))

    assert (error.code, error.reason) == (DENIED, "UNAUTHORIZED_OPERATION")
    assert env.client().create(request).status == booking_pb2.BOOKING_STATUS_CONFIRMED


def test_created_by_comes_from_the_token_not_the_request(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.created_by.identity_id = "someone-else"

    booking = env.client(identity="MEMBER").create(request)

    assert booking.created_by.identity_id == "member-1"


def test_an_unknown_status_number_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.status = 99  # type: ignore[assignment]

    error = failure(lambda: env.client().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.status",))


def test_a_timestamp_out_of_range_is_invalid(env: BookingEnv) -> None:
    request = appointment_booking(
        env.catalog.appointment_service, env.catalog.staff, hour_from_now(48)
    )
    request.booked_entity.slot.start_date.seconds = 253402300799

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity.slot.start_date",))


# ---- 3.7 booking policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start_in_hours", "settings", "rule"),
    [
        (1, {"policy": POLICY}, "too_late"),
        (24 * 40, {"policy": POLICY}, "too_early"),
        (72, {"online_booking_enabled": False}, "online_booking_disabled"),
    ],
)
def test_a_booking_breaking_the_policy_names_the_rule(
    env: BookingEnv, start_in_hours: int, settings: dict[str, object], rule: str
) -> None:
    service_id, session_id = class_with(env, start_in_hours, **settings)

    error = failure(lambda: env.visitor().create(class_booking(session_id, service_id)))

    assert (error.code, error.reason, error.metadata["rule"]) == (
        DENIED,
        "BOOKING_POLICY_VIOLATION",
        rule,
    )


def test_ignore_booking_policy_with_the_permission_books_anyway(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, 1, policy=POLICY)
    client = env.visitor(permissions=[Permission.IGNORE_BOOKING_POLICY])
    flow = bookings_service_pb2.FlowControlSettings(ignore_booking_policy=True)

    booking = client.create(class_booking(session_id, service_id), flow_control_settings=flow)

    assert booking.status == booking_pb2.BOOKING_STATUS_CREATED


@pytest.mark.parametrize(
    ("flag", "permission"),
    [
        ("ignore_booking_policy", Permission.IGNORE_BOOKING_POLICY),
        ("skip_availability_validation", Permission.OVERRIDE_AVAILABILITY),
        ("skip_business_confirmation", Permission.OVERRIDE_AVAILABILITY),
        ("skip_selected_payment_option_validation", Permission.MANAGE_PAYMENTS),
    ],
)
def test_a_flow_control_flag_without_its_permission_is_denied(
    env: BookingEnv, flag: str, permission: str
) -> None:
    flow = bookings_service_pb2.FlowControlSettings(**{flag: True})
    request = class_booking(env.catalog.session, env.catalog.class_service)

    error = failure(lambda: env.visitor().create(request, flow_control_settings=flow))

    assert (error.code, error.reason, error.metadata["permission"]) == (
        DENIED,
        "MISSING_PERMISSION",
        permission,
    )


# ---- 3.8 payment options ---------------------------------------------------------------------


def test_a_payment_option_the_service_does_not_offer_is_refused(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, payment_options=OFFLINE_ONLY)
    request = class_booking(session_id, service_id)
    request.selected_payment_option = booking_pb2.SELECTED_PAYMENT_OPTION_ONLINE

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.reason, error.fields) == (
        PRECONDITION,
        "INVALID_PAYMENT_OPTION",
        ("booking.selected_payment_option",),
    )


def test_an_offered_payment_option_is_kept(env: BookingEnv) -> None:
    service_id, session_id = class_with(env, payment_options=OFFLINE_ONLY)
    request = class_booking(session_id, service_id)
    request.selected_payment_option = booking_pb2.SELECTED_PAYMENT_OPTION_OFFLINE

    booking = env.visitor().create(request)

    assert booking.selected_payment_option == booking_pb2.SELECTED_PAYMENT_OPTION_OFFLINE


def test_skipping_payment_option_validation_with_the_permission_accepts_any(
    env: BookingEnv,
) -> None:
    service_id, session_id = class_with(env, payment_options=OFFLINE_ONLY)
    request = class_booking(session_id, service_id)
    request.selected_payment_option = booking_pb2.SELECTED_PAYMENT_OPTION_ONLINE
    client = env.visitor(permissions=[Permission.MANAGE_PAYMENTS])
    flow = bookings_service_pb2.FlowControlSettings(skip_selected_payment_option_validation=True)

    booking = client.create(request, flow_control_settings=flow)

    assert booking.selected_payment_option == booking_pb2.SELECTED_PAYMENT_OPTION_ONLINE


# ---- hostile input ---------------------------------------------------------------------------


def test_a_nul_character_in_a_string_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.contact_details.email = "a\x00@example.com"

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.contact_details.email",))


def test_extended_fields_that_are_not_json_are_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.extended_fields["ns"].fields["score"].number_value = float("nan")

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.extended_fields['ns']",))


def test_extended_fields_are_kept(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.extended_fields["crm"].update({"tier": "gold", "visits": 3, "tags": ["a", "b"]})

    booking = env.visitor().create(request)

    assert booking.extended_fields["crm"] == request.extended_fields["crm"]


def test_an_oversized_contact_email_is_invalid(env: BookingEnv) -> None:
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.contact_details.email = "a" * 5000 + "@example.com"

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.contact_details.email",))


def test_oversized_free_form_data_is_invalid(env: BookingEnv) -> None:
    """Bounded so every booking fits a response and an event (RELIABILITY.md promise 6)."""
    request = class_booking(env.catalog.session, env.catalog.class_service)
    request.additional_fields.add(id="notes", value="v" * 10_001)
    request.additional_fields.add(id="x" * 321, label="y" * 321)
    request.extended_fields["crm"].update({"blob": "z" * 70_000})

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (
        INVALID,
        (
            "booking.additional_fields[0].value",
            "booking.additional_fields[1].id",
            "booking.additional_fields[1].label",
            "booking.extended_fields",
        ),
    )
    named = class_booking(env.catalog.session, env.catalog.class_service)
    named.ClearField("total_participants")
    choice = named.participants_choices.service_choices.add(number_of_participants=1).choices.add()
    choice.option_id, choice.duration.minutes, choice.duration.name = "length", 30, "n" * 321

    error = failure(lambda: env.visitor().create(named))

    assert (error.code, error.fields) == (
        INVALID,
        ("booking.participants_choices.service_choices[0].choices[0].duration.name",),
    )
    wide = class_booking(env.catalog.session, env.catalog.class_service)
    for index in range(30):  # 10 000 characters each, but 40 000 bytes
        wide.additional_fields.add(id=f"f{index}", value="\N{GRINNING FACE}" * 10_000)

    error = failure(lambda: env.visitor().create(wide))

    assert (error.code, error.fields) == (INVALID, ("booking.additional_fields",))


def test_a_time_zone_that_is_not_iana_is_invalid(env: BookingEnv) -> None:
    request = appointment_booking(
        env.catalog.appointment_service, env.catalog.staff, hour_from_now(48)
    )
    request.booked_entity.slot.timezone = "Europe/" + "x" * 5000

    error = failure(lambda: env.visitor().create(request))

    assert (error.code, error.fields) == (INVALID, ("booking.booked_entity.slot.timezone",))
