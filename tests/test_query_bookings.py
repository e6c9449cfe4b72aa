"""GetBooking and QueryBookings: filters, order, paging, errors, and site isolation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from booking_helpers import (
    BookingEnv,
    appointment_booking,
    booking_env,
    class_booking,
    course_booking,
    failure,
    hour_from_now,
    timestamp,
)
from bookings.v1 import booking_pb2, bookings_service_pb2
from page_token_helpers import edited

INVALID = grpc.StatusCode.INVALID_ARGUMENT
INVALID_TOKEN = "INVALID_PAGE_TOKEN"
Order = bookings_service_pb2.BookingOrder


@dataclass
class Booked:
    """Five bookings: appointments at +30 h, +31 h and +32 h (the +31 h one CONFIRMED, for
    Grace), the class session at +72 h and the course from +120 h."""

    env: BookingEnv
    appointments: list[booking_pb2.Booking]
    class_booking: booking_pb2.Booking
    course_booking: booking_pb2.Booking

    @property
    def by_start(self) -> list[str]:
        return [b.id for b in (*self.appointments, self.class_booking, self.course_booking)]


@pytest.fixture
def booked(database_url, start_server, auth_metadata) -> Iterator[Booked]:  # type: ignore[no-untyped-def]
    with booking_env(database_url, start_server, auth_metadata) as env:
        catalog = env.catalog
        owner = env.client()
        class_one = owner.create(class_booking(catalog.session, catalog.class_service))
        appointments = []
        for hours in (32, 31, 30):
            request = appointment_booking(
                catalog.appointment_service, catalog.staff, hour_from_now(hours)
            )
            if hours == 31:
                request.status = booking_pb2.BOOKING_STATUS_CONFIRMED
            appointments.insert(0, owner.create(request))
        course = owner.create(course_booking(catalog.course_service))
        yield Booked(env, appointments, class_one, course)


def ids(response: bookings_service_pb2.QueryBookingsResponse) -> list[str]:
    return [booking.id for booking in response.bookings]


def test_bookings_are_ordered_by_start_by_default(booked: Booked) -> None:
    assert ids(booked.env.client().query()) == booked.by_start


def test_bookings_can_be_ordered_latest_start_first(booked: Booked) -> None:
    response = booked.env.client().query(order=Order.BOOKING_ORDER_START_DATE_DESC)

    assert ids(response) == booked.by_start[::-1]


def test_bookings_can_be_ordered_by_creation(booked: Booked) -> None:
    client = booked.env.client()
    created = [
        booked.class_booking.id,
        *[b.id for b in booked.appointments[::-1]],
        booked.course_booking.id,
    ]

    ascending = ids(client.query(order=Order.BOOKING_ORDER_CREATED_DATE_ASC))
    descending = ids(client.query(order=Order.BOOKING_ORDER_CREATED_DATE_DESC))

    assert (ascending, descending) == (created, created[::-1])


def test_the_status_filter_keeps_only_those_statuses(booked: Booked) -> None:
    query = bookings_service_pb2.BookingFilter(statuses=[booking_pb2.BOOKING_STATUS_CONFIRMED])

    assert ids(booked.env.client().query(filter=query)) == [booked.appointments[1].id]


def test_the_service_filter_keeps_only_those_services(booked: Booked) -> None:
    catalog = booked.env.catalog
    query = bookings_service_pb2.BookingFilter(
        service_ids=[catalog.class_service, catalog.course_service]
    )

    assert ids(booked.env.client().query(filter=query)) == booked.by_start[3:]


def test_the_start_range_is_from_inclusive_to_exclusive(booked: Booked) -> None:
    query = bookings_service_pb2.BookingFilter(
        start_from=timestamp(hour_from_now(31)), start_to=timestamp(hour_from_now(72))
    )

    assert ids(booked.env.client().query(filter=query)) == booked.by_start[1:3]


def test_the_contact_email_filter_ignores_case(booked: Booked) -> None:
    query = bookings_service_pb2.BookingFilter(contact_email="GRACE@example.COM")

    assert ids(booked.env.client().query(filter=query)) == booked.by_start[:3]


def test_pages_cover_every_booking_once(booked: Booked) -> None:
    client = booked.env.client()
    seen: list[str] = []
    token = ""
    for _ in range(5):
        page = client.query(page_size=2, page_token=token)
        seen += ids(page)
        token = page.next_page_token
        if not token:
            break

    assert seen == booked.by_start


def test_a_page_holds_at_most_about_two_mebibytes_of_bookings(booked: Booked) -> None:
    """Large bookings still page within gRPC's 4 MiB message limit (50 would be 12 MB)."""
    client, catalog = booked.env.client(), booked.env.catalog
    large = class_booking(catalog.session, catalog.class_service)
    for index in range(25):
        large.additional_fields.add(id=f"field-{index}", value="v" * 10_000)
    created = {client.create(large).id for _ in range(9)}
    query = {"filter": bookings_service_pb2.BookingFilter(service_ids=[catalog.class_service])}

    first = client.query(**query)
    second = client.query(**query, page_token=first.next_page_token)

    assert len(first.bookings) < 10
    assert set(ids(first) + ids(second)) == created | {booked.class_booking.id}
    assert not second.next_page_token


@pytest.mark.parametrize(
    ("field", "values"),
    [("statuses", [booking_pb2.BOOKING_STATUS_CREATED] * 101), ("service_ids", ["same"] * 101)],
)
def test_more_than_a_hundred_filter_values_are_invalid_even_when_repeated(
    booked: Booked, field: str, values: list[object]
) -> None:
    query_filter = bookings_service_pb2.BookingFilter(**{field: values})

    error = failure(lambda: booked.env.client().query(filter=query_filter))

    assert (error.code, error.fields) == (INVALID, (f"filter.{field}",))


def test_a_page_token_that_was_not_issued_is_invalid(booked: Booked) -> None:
    error = failure(lambda: booked.env.client().query(page_token="not-a-token"))

    assert (error.code, error.reason, error.fields) == (INVALID, INVALID_TOKEN, ("page_token",))


def test_a_page_token_is_refused_on_another_site_and_once_edited(booked: Booked) -> None:
    token = booked.env.client().query(page_size=1).next_page_token
    other_site = booked.env.client(site_id="site-b")

    for client, sent in ((other_site, token), (booked.env.client(), edited(token))):
        error = failure(lambda client=client, sent=sent: client.query(page_token=sent))

        assert (error.code, error.reason, error.fields) == (INVALID, INVALID_TOKEN, ("page_token",))


def test_a_page_token_of_another_query_is_invalid(booked: Booked) -> None:
    client = booked.env.client()
    token = client.query(page_size=1).next_page_token

    error = failure(
        lambda: client.query(page_token=token, order=Order.BOOKING_ORDER_START_DATE_DESC)
    )

    assert (error.code, error.reason, error.fields) == (INVALID, INVALID_TOKEN, ("page_token",))


def test_a_negative_page_size_is_invalid(booked: Booked) -> None:
    error = failure(lambda: booked.env.client().query(page_size=-1))

    assert (error.code, error.fields) == (INVALID, ("page_size",))


def test_an_unspecified_status_filter_is_invalid(booked: Booked) -> None:
    query = bookings_service_pb2.BookingFilter(statuses=[booking_pb2.BOOKING_STATUS_UNSPECIFIED])

    error = failure(lambda: booked.env.client().query(filter=query))

    assert (error.code, error.fields) == (INVALID, ("filter.statuses[0]",))


def test_a_start_range_ending_before_it_starts_is_invalid(booked: Booked) -> None:
    query = bookings_service_pb2.BookingFilter(
        start_from=timestamp(hour_from_now(40)), start_to=timestamp(hour_from_now(30))
    )

    error = failure(lambda: booked.env.client().query(filter=query))

    assert (error.code, error.fields) == (INVALID, ("filter.start_to",))


def test_another_sites_bookings_are_invisible(booked: Booked) -> None:
    stranger = booked.env.client(site_id="site-b")

    error = failure(lambda: stranger.get(booked.class_booking.id))

    assert ids(stranger.query()) == []
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")


def test_an_unknown_booking_is_not_found(booked: Booked) -> None:
    error = failure(lambda: booked.env.client().get("no-such-booking"))

    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "BOOKING_NOT_FOUND")


def test_get_booking_needs_an_id(booked: Booked) -> None:
    error = failure(lambda: booked.env.client().get(""))

    assert (error.code, error.fields) == (INVALID, ("booking_id",))
