"""The catalog use cases (app/catalog.py) and repository on SQLite and PostgreSQL: every call,
every validation rule."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from bookings_server.app.catalog import Catalog
from bookings_server.domain.catalog import (
    BlockedTime,
    BookingPolicy,
    DurationChoice,
    Location,
    LocationType,
    OptionType,
    PaymentOption,
    Service,
    ServiceOption,
    ServiceType,
    SessionSpec,
    StaffMember,
    WorkingInterval,
)
from bookings_server.domain.errors import InvalidArgument, NotFound
from bookings_server.domain.page_tokens import INVALID_PAGE_TOKEN, PageTokenCodec
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

SITE = "site-a"
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # a Monday
PAGE_TOKENS = PageTokenCodec.from_secret("catalog tests")


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


class _Calls:
    """`repo.<name>` names a call: `write` runs that use case of app/catalog.py, `read` that
    query of the site's `tx.catalog` repository."""

    def __getattr__(self, name: str) -> str:
        return name


repo = _Calls()


def write(db: Database, action: str, site_id: str, *args: Any, **kwargs: Any) -> Any:
    return getattr(Catalog(SqlUnitOfWork(db), page_tokens=PAGE_TOKENS), action)(
        site_id, *args, **kwargs
    )


def list_page(db: Database, action: str, site_id: str, **kwargs: Any) -> Any:
    """A page of that list use case of app/catalog.py, which signs and checks page tokens."""
    return write(db, action, site_id, **kwargs)


def read(db: Database, action: str, site_id: str, *args: Any, **kwargs: Any) -> Any:
    with SqlUnitOfWork(db).read(site_id) as tx:
        return getattr(tx.catalog, action)(*args, **kwargs)


def appointment(**changes: Any) -> Service:
    service = Service(
        id="",
        site_id=SITE,
        name="Haircut",
        type=ServiceType.APPOINTMENT,
        timezone="Europe/London",
        schedule_id="",
        duration=timedelta(minutes=45),
        buffer_after=timedelta(minutes=15),
        payment_options=frozenset({PaymentOption.ONLINE, PaymentOption.OFFLINE}),
        choices=(
            ServiceOption(
                "length", "Length", OptionType.DURATION, (), (DurationChoice(30, "Short"),)
            ),
            ServiceOption("style", "Style", OptionType.CUSTOM, ("bob", "crop")),
        ),
        policy=BookingPolicy(min_notice=timedelta(hours=2), max_advance=timedelta(days=60)),
        location=Location("loc-1", "Salon", "1 High St", LocationType.OWNER_BUSINESS),
    )
    return replace(service, **changes)


def yoga(**changes: Any) -> Service:
    defaults: dict[str, Any] = {
        "name": "Yoga",
        "type": ServiceType.CLASS,
        "default_capacity": 12,
        "duration": None,
        "choices": (),
    }
    return replace(appointment(), **(defaults | changes))


def staff(**changes: Any) -> StaffMember:
    member = StaffMember(
        id="",
        site_id=SITE,
        name="Ana",
        timezone="America/New_York",
        schedule_id="",
        email="ana@example.com",
        working_hours=(
            WorkingInterval(0, time(9), time(12)),
            WorkingInterval(0, time(13), time(17)),
            WorkingInterval(6, time(20), None),
        ),
        blocked_times=(BlockedTime(T0, T0 + timedelta(hours=3), "dentist"),),
    )
    return replace(member, **changes)


def violations(error: pytest.ExceptionInfo[InvalidArgument]) -> set[str]:
    return {violation.field for violation in error.value.violations}


def test_a_created_service_reads_back_with_every_field(db: Database) -> None:
    ana = write(db, repo.create_staff_member, SITE, staff())
    created = write(db, repo.create_service, SITE, appointment(staff_member_ids=(ana.id,)))
    assert created.id and created.schedule_id and created.created_date is not None
    fetched = read(db, repo.get_service, SITE, created.id)
    assert fetched == created
    assert fetched.choices == appointment().choices
    assert fetched.staff_member_ids == (ana.id,)
    assert read(db, repo.get_service_by_schedule, SITE, created.schedule_id) == created


def test_another_sites_service_is_not_found(db: Database) -> None:
    created = write(db, repo.create_service, SITE, appointment())
    with pytest.raises(NotFound):
        read(db, repo.get_service, "site-b", created.id)
    with pytest.raises(NotFound):
        read(db, repo.get_service, SITE, "no-such-id")
    with pytest.raises(NotFound):
        write(db, repo.update_service, "site-b", replace(created, name="Stolen"))


def test_updating_a_service_overwrites_its_fields_but_not_its_type(db: Database) -> None:
    created = write(db, repo.create_service, SITE, yoga())
    updated = write(
        db, repo.update_service, SITE, replace(created, name="Hot yoga", default_capacity=20)
    )
    assert (updated.name, updated.default_capacity) == ("Hot yoga", 20)
    assert read(db, repo.get_service, SITE, created.id).name == "Hot yoga"
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.update_service, SITE, replace(created, type=ServiceType.COURSE))
    assert violations(error) == {"service.type"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "service.timezone"),
        ({"timezone": ""}, "service.timezone"),
        ({"name": " "}, "service.name"),
        ({"duration": None}, "service.duration"),
        ({"duration": timedelta(0)}, "service.duration"),
        ({"default_capacity": 3}, "service.default_capacity"),
        ({"buffer_after": timedelta(minutes=-5)}, "service.buffer_after"),
        ({"policy": BookingPolicy(min_notice=timedelta(-1))}, "service.booking_policy.min_notice"),
        ({"policy": BookingPolicy(max_advance=timedelta(0))}, "service.booking_policy.max_advance"),
        (
            {"policy": BookingPolicy(max_advance=timedelta(days=40_000))},
            "service.booking_policy.max_advance",
        ),
        (
            {"policy": BookingPolicy(cancellation_window=timedelta(days=4000))},
            "service.booking_policy.cancellation_window",
        ),
        (
            {"policy": BookingPolicy(max_participants_per_booking=-1)},
            "service.booking_policy.max_participants_per_booking",
        ),
        (
            {"choices": (ServiceOption("", "x", OptionType.CUSTOM, ("a",)),)},
            "service.choices[0].id",
        ),
        (
            {"choices": (ServiceOption("a", "x", OptionType.CUSTOM, ()),)},
            "service.choices[0].custom_choices",
        ),
        (
            {"choices": (ServiceOption("a", "x", OptionType.DURATION, (), (DurationChoice(0),)),)},
            "service.choices[0].duration_choices",
        ),
        ({"staff_member_ids": ("nobody",)}, "service.staff_member_ids[0]"),
        ({"staff_member_ids": ("x", "x")}, "service.staff_member_ids[1]"),
    ],
)
def test_invalid_appointments_are_refused_naming_the_field(
    db: Database, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_service, SITE, appointment(**changes))
    assert field in violations(error)


@pytest.mark.parametrize("capacity", [0, -1, 1001])
def test_class_capacity_must_be_between_1_and_1000(db: Database, capacity: int) -> None:
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_service, SITE, yoga(default_capacity=capacity))
    assert violations(error) == {"service.default_capacity"}


def test_services_list_in_pages_ordered_by_name(db: Database) -> None:
    for name in ["Delta", "Alpha", "Charlie", "Bravo", "Echo"]:
        write(db, repo.create_service, SITE, yoga(name=name))
    write(db, repo.create_service, SITE, appointment(name="Aardvark"))
    write(db, repo.create_service, "site-b", yoga(name="Other site"))
    names: list[str] = []
    token = ""
    while True:
        page = list_page(
            db, repo.list_services, SITE, size=2, token=token, service_type=ServiceType.CLASS
        )
        names += [service.name for service in page.items]
        token = page.next_page_token
        if not token:
            break
    assert names == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert len(read(db, repo.list_services, SITE).items) == 6


@pytest.mark.parametrize("token", ["garbage!", "e30", "eyJxIjoieCIsImEiOltdfQ"])
def test_a_bad_page_token_is_invalid(db: Database, token: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        list_page(db, repo.list_services, SITE, token=token)
    assert violations(error) == {"page_token"}
    assert error.value.reason == INVALID_PAGE_TOKEN


def test_a_page_token_of_another_list_filter_or_site_is_invalid(db: Database) -> None:
    for name in "ABC":
        write(db, repo.create_service, SITE, yoga(name=name))
    token = list_page(db, repo.list_services, SITE, size=1).next_page_token
    for action, site_id, filters in [
        (repo.list_services, SITE, {"service_type": ServiceType.CLASS}),
        (repo.list_staff_members, SITE, {}),
        (repo.list_sessions, SITE, {}),
        (repo.list_services, "site-b", {}),
    ]:
        with pytest.raises(InvalidArgument) as error:
            list_page(db, action, site_id, token=token, **filters)
        assert error.value.reason == INVALID_PAGE_TOKEN, (action, site_id, filters)


def test_negative_page_size_is_invalid(db: Database) -> None:
    with pytest.raises(InvalidArgument) as error:
        read(db, repo.list_staff_members, SITE, size=-1)
    assert violations(error) == {"page_size"}


def test_a_staff_member_keeps_several_intervals_a_day_and_blocked_times(db: Database) -> None:
    created = write(db, repo.create_staff_member, SITE, staff())
    fetched = read(db, repo.get_staff_member, SITE, created.id)
    assert fetched == created
    assert fetched.working_hours == staff().working_hours
    assert fetched.blocked_times[0].start == T0
    with pytest.raises(NotFound):
        read(db, repo.get_staff_member, "site-b", created.id)


def test_updating_a_staff_member_replaces_hours(db: Database) -> None:
    created = write(db, repo.create_staff_member, SITE, staff())
    hours = (WorkingInterval(2, time(8), time(10)),)
    write(
        db, repo.update_staff_member, SITE, replace(created, working_hours=hours, blocked_times=())
    )
    fetched = read(db, repo.get_staff_member, SITE, created.id)
    assert (fetched.working_hours, fetched.blocked_times) == (hours, ())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "staff_member.timezone"),
        ({"name": ""}, "staff_member.name"),
        ({"email": "not-an-email"}, "staff_member.email"),
        (
            {"working_hours": (WorkingInterval(0, time(9), time(8)),)},
            "staff_member.working_hours[0].end_time",
        ),
        (
            {
                "working_hours": (
                    WorkingInterval(1, time(9), time(12)),
                    WorkingInterval(1, time(11), time(13)),
                )
            },
            "staff_member.working_hours[1]",
        ),
        (
            {"working_hours": (WorkingInterval(7, time(9), time(12)),)},
            "staff_member.working_hours[0].day_of_week",
        ),
        (
            {"blocked_times": (BlockedTime(T0, T0 - timedelta(hours=1)),)},
            "staff_member.blocked_times[0].end_date",
        ),
    ],
)
def test_invalid_staff_members_are_refused_naming_the_field(
    db: Database, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_staff_member, SITE, staff(**changes))
    assert field in violations(error)


def test_list_staff_returns_known_ids_of_the_site_in_order(db: Database) -> None:
    ana = write(db, repo.create_staff_member, SITE, staff(name="Ana"))
    bo = write(db, repo.create_staff_member, SITE, staff(name="Bo"))
    other = write(db, repo.create_staff_member, "site-b", staff(name="Cy"))
    listed = read(db, repo.list_staff, SITE, [bo.id, "missing", other.id, ana.id])
    assert [member.name for member in listed] == ["Bo", "Ana"]
    page = list_page(db, repo.list_staff_members, SITE, size=1)
    assert [m.name for m in page.items] == ["Ana"] and page.next_page_token
    page = list_page(db, repo.list_staff_members, SITE, size=1, token=page.next_page_token)
    assert [m.name for m in page.items] == ["Bo"] and not page.next_page_token


def test_a_single_session_takes_the_service_capacity_and_location(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    (session,) = write(db, repo.create_sessions, SITE, spec)
    assert (session.capacity, session.timezone, session.schedule_id) == (
        12,
        "Europe/London",
        service.schedule_id,
    )
    assert session.location == service.location and session.capacity_from_service
    write(db, repo.update_service, SITE, replace(service, default_capacity=15))
    assert read(db, repo.get_session, SITE, session.id).capacity == 15
    with pytest.raises(NotFound):
        read(db, repo.get_session, "site-b", session.id)


def test_a_weekly_recurrence_expands_in_the_service_zone_across_dst(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga(timezone="America/New_York"))
    first = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # Monday 18:00 EST
    spec = SessionSpec(service.id, first, first + timedelta(hours=1), capacity=8)
    sessions = write(db, repo.create_sessions, SITE, spec, "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4")
    assert [s.start for s in sessions] == [
        datetime(2026, 3, 2, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 4, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 9, 22, 0, tzinfo=UTC),  # 18:00 EDT after March 8
        datetime(2026, 3, 11, 22, 0, tzinfo=UTC),
    ]
    assert all(s.end - s.start == timedelta(hours=1) and s.capacity == 8 for s in sessions)
    assert len({s.recurrence_id for s in sessions}) == 1 and sessions[0].recurrence_id


def test_a_recurrence_until_a_date_includes_that_day(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    sessions = write(db, repo.create_sessions, SITE, spec, "RRULE:FREQ=WEEKLY;UNTIL=20260316")
    assert len(sessions) == 3


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=MO",
        "FREQ=DAILY;COUNT=3",
        "FREQ=WEEKLY;COUNT=3;UNTIL=20261231",
        "FREQ=WEEKLY;BYDAY=XX;COUNT=3",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;COUNT=501",
        "FREQ=WEEKLY;UNTIL=20200101",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;UNTIL=20300101",
        "FREQ=WEEKLY;BYHOUR=3;COUNT=2",
        "nonsense",
    ],
)
def test_invalid_recurrences_are_refused(db: Database, rule: str) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_sessions, SITE, spec, rule)
    assert violations(error) == {"recurrence"}
    assert read(db, repo.list_sessions, SITE).items == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end": T0 - timedelta(minutes=1)}, "session.end_date"),
        ({"capacity": 0}, "session.capacity"),
        ({"capacity": 1001}, "session.capacity"),
        ({"service_id": "missing"}, "session.service_id"),
        ({"staff_member_id": "missing"}, "session.staff_member_id"),
        ({"start": datetime(1900, 1, 1, tzinfo=UTC)}, "session.start_date"),
    ],
)
def test_invalid_sessions_are_refused_naming_the_field(
    db: Database, changes: dict[str, Any], field: str
) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    spec = replace(SessionSpec(service.id, T0, T0 + timedelta(hours=1)), **changes)
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_sessions, SITE, spec)
    assert field in violations(error)


def test_appointments_have_no_sessions(db: Database) -> None:
    service = write(db, repo.create_service, SITE, appointment())
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.create_sessions, SITE, SessionSpec(service.id, T0, T0 + timedelta(hours=1)))
    assert violations(error) == {"session.service_id"}


def test_updating_a_session_keeps_its_service(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    other = write(db, repo.create_service, SITE, yoga(name="Pilates"))
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    (session,) = write(db, repo.create_sessions, SITE, spec)
    moved = replace(
        spec, start=T0 + timedelta(days=1), end=T0 + timedelta(days=1, hours=2), capacity=3
    )
    updated = write(db, repo.update_session, SITE, session.id, moved)
    assert (updated.start, updated.capacity) == (moved.start, 3)
    with pytest.raises(InvalidArgument) as error:
        write(db, repo.update_session, SITE, session.id, replace(moved, service_id=other.id))
    assert violations(error) == {"session.service_id"}
    with pytest.raises(NotFound):
        write(db, repo.update_session, "site-b", session.id, moved)


def test_a_sessions_page_token_is_bound_to_the_service_and_range_filters(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga(timezone="Etc/UTC"))
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    write(db, repo.create_sessions, SITE, spec, "FREQ=WEEKLY;COUNT=3")
    filters: dict[str, Any] = {"service_id": service.id, "start_from": T0}
    token = list_page(db, repo.list_sessions, SITE, size=1, **filters).next_page_token
    assert len(list_page(db, repo.list_sessions, SITE, token=token, **filters).items) == 2
    for changed in [
        {"service_id": ""},
        {"start_from": T0 + timedelta(seconds=1)},
        {"start_to": T0},
    ]:
        with pytest.raises(InvalidArgument) as error:
            list_page(db, repo.list_sessions, SITE, token=token, **(filters | changed))
        assert error.value.reason == INVALID_PAGE_TOKEN, changed


def test_sessions_list_by_start_with_filters_and_pages(db: Database) -> None:
    yoga_service = write(db, repo.create_service, SITE, yoga(timezone="Etc/UTC"))
    pilates = write(db, repo.create_service, SITE, yoga(name="Pilates", timezone="Etc/UTC"))
    spec = SessionSpec(yoga_service.id, T0, T0 + timedelta(hours=1))
    write(db, repo.create_sessions, SITE, spec, "FREQ=WEEKLY;COUNT=5")
    write(
        db, repo.create_sessions, SITE, replace(spec, service_id=pilates.id), "FREQ=WEEKLY;COUNT=2"
    )
    starts: list[datetime] = []
    token = ""
    while True:
        page = list_page(
            db, repo.list_sessions, SITE, service_id=yoga_service.id, size=2, token=token
        )
        starts += [s.start for s in page.items]
        if not (token := page.next_page_token):
            break
    assert starts == [T0 + timedelta(weeks=w) for w in range(5)]
    ranged = read(
        db,
        repo.list_sessions,
        SITE,
        start_from=T0 + timedelta(weeks=1),
        start_to=T0 + timedelta(weeks=2),
    )
    assert len(ranged.items) == 2
    between = read(db, repo.list_sessions_between, SITE, [pilates.id], T0, T0 + timedelta(weeks=10))
    assert [s.service_id for s in between] == [pilates.id] * 2
    assert len(read(db, repo.list_schedule_sessions, SITE, yoga_service.id)) == 5
    assert (
        read(db, repo.list_sessions_between, "site-b", [pilates.id], T0, T0 + timedelta(weeks=10))
        == []
    )


def test_keyed_sessions_are_updated_in_place_on_reimport(db: Database) -> None:
    service = write(db, repo.create_service, SITE, yoga())
    spec = SessionSpec(service.id, T0, T0 + timedelta(hours=1))
    first = write(db, repo.upsert_keyed_sessions, SITE, "evening", spec, "FREQ=WEEKLY;COUNT=3")
    again = write(
        db,
        repo.upsert_keyed_sessions,
        SITE,
        "evening",
        replace(spec, capacity=5),
        "FREQ=WEEKLY;COUNT=2",
    )
    assert [s.id for s in again] == [s.id for s in first[:2]]
    assert all(s.capacity == 5 for s in again)
    assert len(read(db, repo.list_sessions, SITE).items) == 2
