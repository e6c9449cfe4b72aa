"""`bookings catalog import`: the demo catalog, re-imports, all-or-nothing, errors with lines."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from booking_helpers import Client, class_booking
from bookings.v1 import booking_pb2

from bookings_server.app.catalog_file import parse_catalog
from bookings_server.app.catalog_import import catalog_is_empty, import_catalog
from bookings_server.cli.bootstrap import demo_catalog_text, prepare_store
from bookings_server.cli.main import main
from bookings_server.config import Config
from bookings_server.domain.catalog import ServiceType
from bookings_server.domain.errors import FailedPrecondition, InvalidArgument
from bookings_server.store.catalog_repository import CatalogRepository
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo-catalog.yaml"

VALID_STAFF_BAD_SERVICE = """\
site: s1
staff:
  - key: ana
    name: Ana
    timezone: Europe/Lisbon
    working_hours:
      - {days: [MO, TU], start: "09:00", end: "13:00"}
services:
  - key: yoga
    name: Yoga
    type: CLASS
    timezone: Mars/Base
    default_capacity: 12
"""


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database.from_url(database_url)
    yield database
    database.dispose()


def test_the_packaged_demo_catalog_is_the_example() -> None:
    assert demo_catalog_text() == EXAMPLE.read_text(encoding="utf-8")


def test_the_demo_catalog_imports_a_salon_a_yoga_studio_and_a_course(db: Database) -> None:
    summary = import_catalog(SqlUnitOfWork(db), parse_catalog(EXAMPLE.read_text()))
    assert (summary.site_id, summary.staff_members, summary.services) == ("demo-site", 3, 5)
    with db.read() as session:
        services = {
            s.name: s for s in CatalogRepository(session, "demo-site").list_services().items
        }
        staff = CatalogRepository(session, "demo-site").list_staff_members().items
        haircut = services["Haircut"]
        assert haircut.type is ServiceType.APPOINTMENT and len(haircut.staff_member_ids) == 2
        assert {m.timezone for m in staff} == {"Europe/Lisbon", "America/Sao_Paulo"}
        yoga = services["Vinyasa Flow"]
        assert (yoga.type, yoga.default_capacity) == (ServiceType.CLASS, 12)
        course = services["Beginner Pottery (6 weeks)"]
        sessions = CatalogRepository(session, "demo-site").list_schedule_sessions(course.id)
    assert course.type is ServiceType.COURSE and len(sessions) == 6
    assert sessions[0].start == datetime(2027, 1, 12, 19, 0, tzinfo=UTC)  # London winter time


def test_importing_again_updates_instead_of_duplicating(db: Database) -> None:
    text = EXAMPLE.read_text()
    first = import_catalog(SqlUnitOfWork(db), parse_catalog(text))
    with db.read() as session:
        before = CatalogRepository(session, "demo-site").list_sessions(size=500).items
    again = import_catalog(
        SqlUnitOfWork(db),
        parse_catalog(text.replace("default_capacity: 12", "default_capacity: 14")),
    )
    assert (again.created, again.updated) == (0, first.created)
    with db.read() as session:
        after = CatalogRepository(session, "demo-site").list_sessions(size=500).items
        yoga = next(
            s
            for s in CatalogRepository(session, "demo-site").list_services().items
            if s.name == "Vinyasa Flow"
        )
    assert [s.id for s in after] == [s.id for s in before]
    assert yoga.default_capacity == 14


def test_a_bad_file_changes_nothing(db: Database) -> None:
    with pytest.raises(InvalidArgument) as error:
        import_catalog(SqlUnitOfWork(db), parse_catalog(VALID_STAFF_BAD_SERVICE))
    assert [v.field for v in error.value.violations] == ["services[0].timezone"]
    assert catalog_is_empty(SqlUnitOfWork(db))


def test_every_problem_of_a_file_is_reported_with_its_file_path(db: Database) -> None:
    text = VALID_STAFF_BAD_SERVICE.replace('end: "13:00"', 'end: "08:00"') + (
        "sessions:\n  - {key: s, service: yoga, start: 2027-01-01T10:00:00, duration: 1h}\n"
    )
    with pytest.raises(InvalidArgument) as error:
        import_catalog(SqlUnitOfWork(db), parse_catalog(text))
    fields = [v.field for v in error.value.violations]
    # one YAML item with two days is two intervals, both reported at the item's path
    assert fields == ["staff[0].working_hours[0].end"] * 2 + ["services[0].timezone"]


def test_file_paths_map_to_lines() -> None:
    document = parse_catalog(VALID_STAFF_BAD_SERVICE)
    assert document.line_of("services[0].timezone") == 12
    assert document.line_of("staff[0].working_hours[0].end") == 7


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("staff:\n  - {key: a, name: A, timezone: UTC}\n", "site"),
        ("site: s\nstaff:\n  - {key: a, nmae: A, timezone: UTC}\n", "staff[0].nmae"),
        (
            "site: s\nservices:\n  - {key: x, name: X, type: PARTY, timezone: UTC}\n",
            "services[0].type",
        ),
        (
            "site: s\nservices:\n"
            "  - {key: x, name: X, type: APPOINTMENT, timezone: UTC, duration: soon}\n",
            "services[0].duration",
        ),
        (
            "site: s\nstaff:\n"
            "  - {key: a, name: A, timezone: UTC}\n  - {key: a, name: B, timezone: UTC}\n",
            "staff[1].key",
        ),
        (
            "site: s\nsessions:\n  - {key: s, service: x, start: 2027-01-01T10:00:00}\n",
            "sessions[0].end",
        ),
        ("- just\n- a list\n", ""),
    ],
)
def test_malformed_files_name_the_field(text: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        parse_catalog(text)
    assert field in {v.field for v in error.value.violations}


def test_unquoted_times_still_read_as_times() -> None:
    document = parse_catalog(
        "site: s\nstaff:\n  - key: a\n    name: A\n    timezone: UTC\n"
        "    working_hours: [{day: MO, start: 9:30, end: 17:00}]\n"
    )
    (interval,) = document.staff[0].staff.working_hours
    assert (interval.start.hour, interval.start.minute, interval.end) == (9, 30, interval.end)
    assert interval.end is not None and interval.end.hour == 17


def test_cli_import_reports_lines_and_exits_nonzero(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(VALID_STAFF_BAD_SERVICE)
    assert main(["catalog", "import", str(bad), "--database-url", database_url]) == 1
    assert f"{bad}:12: services[0].timezone: 'Mars/Base' is not a canonical IANA" in (
        capsys.readouterr().err
    )
    assert (
        main(["catalog", "import", str(EXAMPLE), "--database-url", database_url, "--site", "s9"])
        == 0
    )
    assert "into site s9" in capsys.readouterr().out


def test_serve_preparation_migrates_and_seeds_only_an_empty_embedded_database(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path / "data")
    assert prepare_store(config) is not None
    assert prepare_store(config) is None  # not empty any more
    database = Database.from_url(config.effective_database_url)
    with database.read() as session:
        assert len(CatalogRepository(session, "demo-site").list_services().items) == 5
    database.dispose()


def test_cli_migrate_creates_the_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--data-dir", str(tmp_path / "d")]) == 0
    assert "database at revision" in capsys.readouterr().out


def test_reimport_refuses_to_drop_sessions_that_have_bookings(
    database_url: str, start_server: Any, auth_metadata: Any
) -> None:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0, tzinfo=None)
    text = (
        "site: site-a\nservices:\n  - {key: yoga, name: Yoga, type: CLASS, timezone: UTC, "
        "default_capacity: 5}\nsessions:\n"
        f"  - {{key: yoga-weekly, service: yoga, start: {start.isoformat()}, duration: 1h, "
        "recurrence: FREQ=WEEKLY;COUNT=3}\n"
    )
    database = Database.from_url(database_url)
    import_catalog(SqlUnitOfWork(database), parse_catalog(text))
    with database.read() as session:
        last = CatalogRepository(session, "site-a").list_sessions().items[-1]
    server = start_server(database_url=database_url)
    with grpc.insecure_channel(server.address) as channel:
        booking = class_booking(last.id, last.service_id)
        booking.status = booking_pb2.BOOKING_STATUS_CONFIRMED
        Client(channel, auth_metadata(server)).create(booking)
    with pytest.raises(FailedPrecondition) as error:
        import_catalog(SqlUnitOfWork(database), parse_catalog(text.replace("COUNT=3", "COUNT=2")))
    assert error.value.reason == "SESSIONS_IN_USE"
    import_catalog(SqlUnitOfWork(database), parse_catalog(text.replace("COUNT=3", "COUNT=4")))
    with database.read() as session:
        assert len(CatalogRepository(session, "site-a").list_sessions().items) == 4
    database.dispose()
