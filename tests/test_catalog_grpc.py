"""CatalogService over gRPC on SQLite and PostgreSQL: all 12 RPCs, errors with BadRequest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import grpc
import pytest
from bookings.v1 import booking_pb2, catalog_pb2, catalog_service_pb2_grpc
from bookings.v1 import catalog_service_pb2 as pb
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from page_token_helpers import edited

T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


class Catalog:
    """A CatalogService stub that sends the owner's token of one site with every call."""

    def __init__(self, channel: grpc.Channel, metadata: list[tuple[str, str]]) -> None:
        self._stub = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        self._metadata = metadata

    def __getattr__(self, name: str) -> Callable[[Any], Any]:
        method = getattr(self._stub, name)
        return lambda request: method(request, metadata=self._metadata, timeout=10)


@pytest.fixture
def server(start_server: Any, database_url: str) -> Any:
    return start_server(database_url=database_url)


@pytest.fixture
def channel(server: Any) -> Any:
    with grpc.insecure_channel(server.address) as channel:
        yield channel


@pytest.fixture
def catalog(server: Any, channel: grpc.Channel, auth_metadata: Any) -> Catalog:
    return Catalog(channel, auth_metadata(server))


@pytest.fixture
def other_site(server: Any, channel: grpc.Channel, auth_metadata: Any) -> Catalog:
    return Catalog(channel, auth_metadata(server, site_id="site-b"))


def minutes(n: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=60 * n)


def stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    value = timestamp_pb2.Timestamp()
    value.FromDatetime(moment)
    return value


def haircut(**fields: Any) -> catalog_pb2.Service:
    service = catalog_pb2.Service(
        name="Haircut",
        type=catalog_pb2.SERVICE_TYPE_APPOINTMENT,
        duration=minutes(45),
        buffer_after=minutes(15),
        timezone="Europe/London",
        online_booking=catalog_pb2.OnlineBooking(enabled=True, require_manual_approval=True),
        payment_options=[booking_pb2.SELECTED_PAYMENT_OPTION_OFFLINE],
        choices=[
            catalog_pb2.ServiceOption(
                id="length",
                name="Length",
                type=catalog_pb2.SERVICE_OPTION_TYPE_DURATION,
                duration_choices=[booking_pb2.ChoiceDuration(minutes=30, name="Short")],
            )
        ],
        booking_policy=catalog_pb2.BookingPolicy(
            min_notice=minutes(60),
            max_advance=minutes(60 * 24 * 30),
            max_participants_per_booking=1,
        ),
        location=booking_pb2.Location(
            name="Salon", location_type=booking_pb2.LOCATION_TYPE_OWNER_BUSINESS
        ),
    )
    service.MergeFrom(catalog_pb2.Service(**fields))
    return service


def yoga(**fields: Any) -> catalog_pb2.Service:
    service = catalog_pb2.Service(
        name="Yoga",
        type=catalog_pb2.SERVICE_TYPE_CLASS,
        default_capacity=12,
        timezone="Europe/Paris",
    )
    service.MergeFrom(catalog_pb2.Service(**fields))
    return service


def ana(**fields: Any) -> catalog_pb2.StaffMember:
    member = catalog_pb2.StaffMember(
        name="Ana",
        email="ana@example.com",
        timezone="America/New_York",
        working_hours=[
            catalog_pb2.WorkingInterval(
                day_of_week=catalog_pb2.WEEKDAY_MONDAY, start_time="09:00", end_time="12:00"
            ),
            catalog_pb2.WorkingInterval(
                day_of_week=catalog_pb2.WEEKDAY_MONDAY, start_time="13:00", end_time="24:00"
            ),
        ],
        blocked_times=[
            catalog_pb2.BlockedTime(
                start_date=stamp(T0), end_date=stamp(T0 + timedelta(hours=2)), reason="x"
            )
        ],
    )
    member.MergeFrom(catalog_pb2.StaffMember(**fields))
    return member


def failure(call: Callable[[], Any]) -> tuple[grpc.StatusCode, str, set[str]]:
    """The status code, ErrorInfo reason and BadRequest field paths of a failing call."""
    with pytest.raises(grpc.RpcError) as raised:
        call()
    error: Any = raised.value
    status = rpc_status.from_call(error)
    reason, fields = "", set()
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            reason = info.reason
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            fields = {violation.field for violation in bad.field_violations}
    return error.code(), reason, fields


def test_services_are_created_read_listed_and_updated(
    catalog: Catalog, other_site: Catalog
) -> None:
    staff = catalog.CreateStaffMember(pb.CreateStaffMemberRequest(staff_member=ana())).staff_member
    created = catalog.CreateService(
        pb.CreateServiceRequest(service=haircut(staff_member_ids=[staff.id]))
    ).service
    assert created.id and created.schedule_id and created.HasField("created_date")
    assert created.default_capacity == 1 and created.staff_member_ids == [staff.id]
    assert catalog.GetService(pb.GetServiceRequest(service_id=created.id)).service == created
    catalog.CreateService(pb.CreateServiceRequest(service=yoga()))
    listed = catalog.ListServices(pb.ListServicesRequest())
    assert [s.name for s in listed.services] == ["Haircut", "Yoga"]
    classes = catalog.ListServices(pb.ListServicesRequest(type=catalog_pb2.SERVICE_TYPE_CLASS))
    assert [s.name for s in classes.services] == ["Yoga"]
    assert list(other_site.ListServices(pb.ListServicesRequest()).services) == []

    masked = catalog.UpdateService(
        pb.UpdateServiceRequest(
            service=catalog_pb2.Service(id=created.id, name="Cut & dry", timezone="Nowhere/Else"),
            update_mask=field_mask_pb2.FieldMask(paths=["name"]),
        )
    ).service
    assert (masked.name, masked.timezone, masked.duration) == (
        "Cut & dry",
        "Europe/London",
        minutes(45),
    )
    full = haircut(id=created.id, name="Trim")
    full.ClearField("type")
    replaced = catalog.UpdateService(pb.UpdateServiceRequest(service=full)).service
    assert replaced.name == "Trim" and list(replaced.staff_member_ids) == []


def test_services_page_with_opaque_tokens(catalog: Catalog) -> None:
    for name in "EDCBA":
        catalog.CreateService(pb.CreateServiceRequest(service=yoga(name=name)))
    first = catalog.ListServices(pb.ListServicesRequest(page_size=3))
    second = catalog.ListServices(
        pb.ListServicesRequest(page_size=3, page_token=first.next_page_token)
    )
    assert [s.name for s in (*first.services, *second.services)] == list("ABCDE")
    assert second.next_page_token == ""
    code, _, fields = failure(
        lambda: catalog.ListServices(pb.ListServicesRequest(page_token="%%%"))
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"page_token"})


def test_a_list_token_is_refused_on_another_site_and_once_edited(
    catalog: Catalog, other_site: Catalog
) -> None:
    for name in "AB":
        catalog.CreateService(pb.CreateServiceRequest(service=yoga(name=name)))
        other_site.CreateService(pb.CreateServiceRequest(service=yoga(name=name)))
    token = catalog.ListServices(pb.ListServicesRequest(page_size=1)).next_page_token
    for client, sent in ((other_site, token), (catalog, edited(token))):
        refused = failure(
            lambda client=client, sent=sent: client.ListServices(
                pb.ListServicesRequest(page_size=1, page_token=sent)
            )
        )
        assert refused == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", {"page_token"})


def test_unknown_and_other_sites_ids_are_not_found(catalog: Catalog, other_site: Catalog) -> None:
    service = catalog.CreateService(pb.CreateServiceRequest(service=yoga())).service
    staff = catalog.CreateStaffMember(pb.CreateStaffMemberRequest(staff_member=ana())).staff_member
    session = catalog.CreateSession(
        pb.CreateSessionRequest(
            session=catalog_pb2.Session(
                service_id=service.id, start_date=stamp(T0), end_date=stamp(T0 + timedelta(hours=1))
            )
        )
    ).sessions[0]
    calls = [
        lambda c: c.GetService(pb.GetServiceRequest(service_id=service.id)),
        lambda c: c.GetStaffMember(pb.GetStaffMemberRequest(staff_member_id=staff.id)),
        lambda c: c.GetSession(pb.GetSessionRequest(session_id=session.id)),
        lambda c: c.UpdateService(pb.UpdateServiceRequest(service=yoga(id=service.id))),
        lambda c: c.UpdateStaffMember(pb.UpdateStaffMemberRequest(staff_member=ana(id=staff.id))),
        lambda c: c.UpdateSession(
            pb.UpdateSessionRequest(session=catalog_pb2.Session(id=session.id))
        ),
    ]
    for call in calls:
        assert failure(partial(call, other_site))[0] == grpc.StatusCode.NOT_FOUND
    assert (
        failure(lambda: catalog.GetService(pb.GetServiceRequest(service_id="nope")))[0]
        == grpc.StatusCode.NOT_FOUND
    )


def _untyped() -> catalog_pb2.Service:
    service = yoga()
    service.ClearField("type")
    return service


def _without_duration() -> catalog_pb2.Service:
    service = haircut()
    service.ClearField("duration")
    return service


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: yoga(default_capacity=1001), "service.default_capacity"),
        (_untyped, "service.type"),
        (_without_duration, "service.duration"),
        (
            lambda: haircut(payment_options=[booking_pb2.SELECTED_PAYMENT_OPTION_UNSPECIFIED]),
            "service.payment_options[1]",
        ),
        (lambda: haircut(staff_member_ids=["ghost"]), "service.staff_member_ids[0]"),
    ],
)
def test_invalid_services_are_invalid_argument_naming_the_field(
    catalog: Catalog, make: Callable[[], catalog_pb2.Service], field: str
) -> None:
    request = pb.CreateServiceRequest(service=make())
    code, reason, fields = failure(lambda: catalog.CreateService(request))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
    assert field in fields


@pytest.mark.parametrize("zone", ["Not/AZone", "America", "posix/Europe/Paris", "localtime"])
def test_a_service_zone_that_is_not_a_canonical_iana_zone_is_invalid_time_zone(
    catalog: Catalog, zone: str
) -> None:
    request = pb.CreateServiceRequest(service=yoga(timezone=zone))
    code, reason, fields = failure(lambda: catalog.CreateService(request))
    assert (code, reason, fields) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "INVALID_TIME_ZONE",
        {"service.timezone"},
    )


def test_staff_members_are_created_read_listed_and_updated(catalog: Catalog) -> None:
    created = catalog.CreateStaffMember(
        pb.CreateStaffMemberRequest(staff_member=ana())
    ).staff_member
    assert created.id and [w.end_time for w in created.working_hours] == ["12:00", "24:00"]
    assert (
        catalog.GetStaffMember(pb.GetStaffMemberRequest(staff_member_id=created.id)).staff_member
        == created
    )
    catalog.CreateStaffMember(pb.CreateStaffMemberRequest(staff_member=ana(name="Bo")))
    first = catalog.ListStaffMembers(pb.ListStaffMembersRequest(page_size=1))
    second = catalog.ListStaffMembers(
        pb.ListStaffMembersRequest(page_size=1, page_token=first.next_page_token)
    )
    assert [m.name for m in (*first.staff_members, *second.staff_members)] == ["Ana", "Bo"]
    updated = catalog.UpdateStaffMember(
        pb.UpdateStaffMemberRequest(
            staff_member=catalog_pb2.StaffMember(id=created.id, timezone="Asia/Tokyo"),
            update_mask=field_mask_pb2.FieldMask(paths=["timezone", "blocked_times"]),
        )
    ).staff_member
    assert (updated.timezone, updated.name, len(updated.blocked_times)) == ("Asia/Tokyo", "Ana", 0)
    assert len(updated.working_hours) == 2


@pytest.mark.parametrize(
    ("interval", "field"),
    [
        (("09:00", "08:00"), "staff_member.working_hours[1].end_time"),
        (("9am", "10:00"), "staff_member.working_hours[1].start_time"),
        (("09:00", "25:00"), "staff_member.working_hours[1].end_time"),
        (("11:00", "14:00"), "staff_member.working_hours[1]"),
    ],
)
def test_invalid_working_hours_name_the_interval(
    catalog: Catalog, interval: tuple[str, str], field: str
) -> None:
    member = ana()
    member.working_hours[1].start_time, member.working_hours[1].end_time = interval
    code, _, fields = failure(
        lambda: catalog.CreateStaffMember(pb.CreateStaffMemberRequest(staff_member=member))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and field in fields


def test_staff_member_time_zone_must_be_iana(catalog: Catalog) -> None:
    code, _, fields = failure(
        lambda: catalog.CreateStaffMember(
            pb.CreateStaffMemberRequest(staff_member=ana(timezone="EST5"))
        )
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"staff_member.timezone"})


def test_sessions_are_created_with_recurrence_listed_and_updated(catalog: Catalog) -> None:
    service = catalog.CreateService(pb.CreateServiceRequest(service=yoga())).service
    first = catalog_pb2.Session(
        service_id=service.id, start_date=stamp(T0), end_date=stamp(T0 + timedelta(hours=1))
    )
    sessions = catalog.CreateSession(
        pb.CreateSessionRequest(session=first, recurrence="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=6")
    ).sessions
    assert len(sessions) == 6 and all(
        s.capacity == 12 and s.timezone == "Europe/Paris" for s in sessions
    )
    assert len({s.recurrence_id for s in sessions}) == 1
    assert (
        catalog.GetSession(pb.GetSessionRequest(session_id=sessions[0].id)).session == sessions[0]
    )
    page = catalog.ListSessions(
        pb.ListSessionsRequest(
            service_id=service.id, start_from=stamp(T0 + timedelta(days=1)), page_size=2
        )
    )
    assert [s.id for s in page.sessions] == [s.id for s in sessions[1:3]] and page.next_page_token
    updated = catalog.UpdateSession(
        pb.UpdateSessionRequest(
            session=catalog_pb2.Session(id=sessions[0].id, capacity=4),
            update_mask=field_mask_pb2.FieldMask(paths=["capacity"]),
        )
    ).session
    assert (updated.capacity, updated.start_date) == (4, sessions[0].start_date)
    code, _, fields = failure(
        lambda: catalog.UpdateSession(
            pb.UpdateSessionRequest(
                session=catalog_pb2.Session(id=sessions[0].id),
                update_mask=field_mask_pb2.FieldMask(paths=["recurrence_id"]),
            )
        )
    )
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"update_mask"})


@pytest.mark.parametrize(
    ("changes", "recurrence", "field"),
    [
        ({"capacity": 1001}, "", "session.capacity"),
        ({"end_date": stamp(T0 - timedelta(hours=1))}, "", "session.end_date"),
        ({}, "FREQ=WEEKLY;BYDAY=MO", "recurrence"),
        ({"service_id": "ghost"}, "", "session.service_id"),
    ],
)
def test_invalid_sessions_are_invalid_argument_naming_the_field(
    catalog: Catalog, changes: dict[str, Any], recurrence: str, field: str
) -> None:
    service = catalog.CreateService(pb.CreateServiceRequest(service=yoga())).service
    session = catalog_pb2.Session(
        service_id=service.id, start_date=stamp(T0), end_date=stamp(T0 + timedelta(hours=1))
    )
    for name, value in changes.items():
        if isinstance(value, timestamp_pb2.Timestamp):
            getattr(session, name).CopyFrom(value)
        else:
            setattr(session, name, value)
    code, _, fields = failure(
        lambda: catalog.CreateSession(
            pb.CreateSessionRequest(session=session, recurrence=recurrence)
        )
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT and field in fields


def test_catalog_writes_need_the_owner(
    server: Any, channel: grpc.Channel, auth_metadata: Any
) -> None:
    member = Catalog(
        channel,
        auth_metadata(server, identity="MEMBER", scopes=["SCOPE.DC-BOOKINGS.MANAGE-BOOKINGS"]),
    )
    code, _, _ = failure(lambda: member.CreateService(pb.CreateServiceRequest(service=yoga())))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert list(member.ListServices(pb.ListServicesRequest()).services) == []


def test_nul_characters_are_invalid_on_every_backend(catalog: Catalog) -> None:
    code, _, fields = failure(lambda: catalog.GetService(pb.GetServiceRequest(service_id="a\x00")))
    assert (code, fields) == (grpc.StatusCode.INVALID_ARGUMENT, {"service_id"})
    member = ana(name="A\x00na", email="ana@x\x00")
    code, _, fields = failure(
        lambda: catalog.CreateStaffMember(pb.CreateStaffMemberRequest(staff_member=member))
    )
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert fields == {"staff_member.name", "staff_member.email"}
