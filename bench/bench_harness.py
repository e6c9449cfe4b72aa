"""Client-side helpers shared by the benchmarks (bench/) and the fault suite (tests/fault/).

Everything here talks to the server the way a client does: a server subprocess started from
the working tree (`python -m bookings_server.cli.main serve`), tokens minted with the server's own
signing keys, and a catalog seeded over the public CatalogService RPCs (the proto contract),
so the harness does not depend on store internals.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from bookings.v1 import (
    availability_service_pb2_grpc,
    booking_pb2,
    bookings_service_pb2,
    bookings_service_pb2_grpc,
    catalog_pb2,
    catalog_service_pb2,
    catalog_service_pb2_grpc,
)
from google.protobuf import duration_pb2, timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bookings_server.config import Config

ROOT = Path(__file__).resolve().parent.parent
SITE_ID = "bench-site"
ALL_SCOPES = (
    "SCOPE.DC-BOOKINGS.MANAGE-BOOKINGS",
    "SCOPE.DC-BOOKINGS-MEGA.MANAGE-BOOKINGS",
    "SCOPE.DC-BOOKINGS.READ-BOOKINGS-PUBLIC",
    "SCOPE.DC-BOOKINGS.READ-CALENDAR",
)
ALL_PERMISSIONS = (
    "BOOKINGS.OVERRIDE_AVAILABILITY",
    "BOOKINGS.IGNORE_BOOKING_POLICY",
    "BOOKINGS.MANAGE_PAYMENTS",
)
Metadata = list[tuple[str, str]]


# ---------------------------------------------------------------- server processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_supports(flag: str) -> bool:
    """Whether `bookings serve` of the working tree accepts `flag` (e.g. --reuse-port)."""
    out = subprocess.run(
        [sys.executable, "-m", "bookings_server.cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return flag in out


@dataclass
class ServerProcess:
    """One `bookings serve` subprocess; its output goes to a log file in the data dir."""

    data_dir: Path
    port: int
    database_url: str | None = None
    reuse_port: bool = False
    extra_args: Sequence[str] = ()
    name: str = "server"
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # BENCH_SERVER_MODULE: run another entry point (e.g. one that patches a hot path
        # first) to measure a change before making it
        module = os.environ.get("BENCH_SERVER_MODULE", "bookings_server.cli.main")
        cmd = [
            sys.executable,
            "-m",
            module,
            "serve",
            "--address",
            self.address,
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]
        if self.database_url:
            cmd += ["--database-url", self.database_url]
        if self.reuse_port:
            cmd.append("--reuse-port")
        env = dict(os.environ, **self.env)
        env.pop("BOOKINGS_DATABASE_URL", None)
        if module != "bookings_server.cli.main":
            bench = str(Path(__file__).resolve().parent)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [bench, env.get("PYTHONPATH")]))
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        wait_serving(self.address, timeout, self)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook, no flush; what a power cut looks like to the process."""
        if self.proc is not None and self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or not self.alive():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_serving(address: str, timeout: float, server: ServerProcess | None = None) -> None:
    """Poll grpc.health.v1 until SERVING; fail early if the process died."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            if server is not None and not server.alive():
                raise RuntimeError(f"{server.name} exited:\n{server.log_tail()}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                tail = server.log_tail() if server else ""
                raise TimeoutError(f"server at {address} not serving after {timeout}s\n{tail}")
            time.sleep(0.1)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_kib(pid: int) -> int:
    """Resident set size of a process now (VmRSS of /proc/<pid>/status), in KiB; 0 if gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def serve_worker_threads() -> int:
    """Worker threads a `bookings serve` of the working tree starts with in this environment:
    BOOKINGS_MAX_WORKERS if set, else the default its --help states (else the Config one)."""
    configured = os.environ.get("BOOKINGS_MAX_WORKERS")
    if configured:
        return int(configured)
    out = subprocess.run(
        [sys.executable, "-m", "bookings_server.cli.main", "serve", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    stated = re.search(r"BOOKINGS_MAX_WORKERS;\s+default\s+(\d+)", " ".join(out.split()))
    return int(stated.group(1)) if stated else int(Config().max_workers)


# ---------------------------------------------------------------- database and auth


def sqlite_url(data_dir: Path) -> str:
    return Config(data_dir=data_dir).effective_database_url


def migrate_database(url: str) -> None:
    """Run the project's migrations (a no-op before the store lands)."""
    try:
        from bookings_server.store.migrations import migrate
    except ImportError:
        return
    migrate(url)


def owner_metadata(
    data_dir: Path,
    *,
    site_id: str = SITE_ID,
    identity_type: str = "OWNER",
    scopes: Sequence[str] = ALL_SCOPES,
    permissions: Sequence[str] = ALL_PERMISSIONS,
    ttl: timedelta = timedelta(hours=12),
) -> Metadata:
    """`authorization` metadata minted with the keys a server on `data_dir` verifies with.

    Before auth lands (no api.auth package) this returns no metadata.
    """
    try:
        from bookings_server.api.auth.keys import load_signing_keys
        from bookings_server.api.auth.tokens import mint_token
    except ImportError:
        return []
    from bookings_server.domain.identity import IdentityType

    data_dir.mkdir(parents=True, exist_ok=True)
    keys = load_signing_keys(Config(data_dir=data_dir))
    token = mint_token(
        keys,
        site_id=site_id,
        identity_type=IdentityType[identity_type],
        identity_id=f"{identity_type.lower()}-bench",
        scopes=scopes,
        permissions=permissions,
        ttl=ttl,
    )
    return [("authorization", f"Bearer {token}")]


# ---------------------------------------------------------------- protobuf helpers


def ts(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def minutes(n: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=60 * n)


def next_monday(after: datetime, min_days: int = 7) -> datetime:
    """Midnight UTC of the first Monday at least `min_days` after `after`."""
    day = (after + timedelta(days=min_days)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7)


# ---------------------------------------------------------------- catalog


@dataclass
class Catalog:
    """Ids of a seeded catalog."""

    staff_ids: list[str]
    #: 30-minute appointments given by the first 5 staff members.
    small_service_id: str
    #: 30-minute appointments given by all staff members.
    large_service_id: str
    class_service_id: str
    class_capacity: int
    session_ids: list[str]
    #: Capacity of each class session, by id.
    capacities: dict[str, int]
    #: Monday (UTC midnight) where the availability windows start.
    window_start: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "staff_ids": self.staff_ids,
            "small_service_id": self.small_service_id,
            "large_service_id": self.large_service_id,
            "class_service_id": self.class_service_id,
            "session_ids": self.session_ids,
            "window_start": self.window_start.isoformat(),
        }


class Stubs:
    """The three bookings.v1 stubs and health on one channel, with default metadata."""

    def __init__(self, channel: grpc.Channel, metadata: Metadata) -> None:
        self.metadata = metadata
        self.bookings = bookings_service_pb2_grpc.BookingsServiceStub(channel)
        self.availability = availability_service_pb2_grpc.AvailabilityServiceStub(channel)
        self.catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
        self.health = health_pb2_grpc.HealthStub(channel)


@contextlib.contextmanager
def stubs(address: str, metadata: Metadata) -> Iterator[Stubs]:
    with grpc.insecure_channel(address) as channel:
        yield Stubs(channel, metadata)


WEEKDAYS = range(1, 8)  # catalog_pb2.Weekday MONDAY..SUNDAY


def seed_catalog(
    api: Stubs,
    *,
    staff: int = 20,
    sessions: int = 100,
    class_capacity: int = 1000,
    working_hours: tuple[str, str] = ("09:00", "17:00"),
    timezone: str = "Europe/London",
    now: datetime | None = None,
) -> Catalog:
    """Create staff, two appointment services, and a class with `sessions` daily sessions."""
    now = now or datetime.now(UTC)
    md = api.metadata
    staff_ids = []
    for i in range(staff):
        member = catalog_pb2.StaffMember(
            name=f"Staff {i:03d}",
            email=f"staff{i}@bench.example",
            timezone=timezone,
            working_hours=[
                catalog_pb2.WorkingInterval(
                    day_of_week=day, start_time=working_hours[0], end_time=working_hours[1]
                )
                for day in WEEKDAYS
            ],
        )
        reply = api.catalog.CreateStaffMember(
            catalog_service_pb2.CreateStaffMemberRequest(staff_member=member), metadata=md
        )
        staff_ids.append(reply.staff_member.id)

    def appointment(name: str, staff_member_ids: list[str]) -> str:
        service = catalog_pb2.Service(
            name=name,
            type=catalog_pb2.SERVICE_TYPE_APPOINTMENT,
            default_capacity=1,
            duration=minutes(30),
            timezone=timezone,
            online_booking=catalog_pb2.OnlineBooking(enabled=True),
            staff_member_ids=staff_member_ids,
        )
        reply = api.catalog.CreateService(
            catalog_service_pb2.CreateServiceRequest(service=service), metadata=md
        )
        return str(reply.service.id)

    small = appointment("Haircut (5 staff)", staff_ids[:5])
    large = appointment(f"Consultation ({staff} staff)", staff_ids)
    class_service = catalog_pb2.Service(
        name="Yoga class",
        type=catalog_pb2.SERVICE_TYPE_CLASS,
        default_capacity=class_capacity,
        timezone=timezone,
        online_booking=catalog_pb2.OnlineBooking(enabled=True),
    )
    class_id = api.catalog.CreateService(
        catalog_service_pb2.CreateServiceRequest(service=class_service), metadata=md
    ).service.id
    session_ids: list[str] = []
    capacities: dict[str, int] = {}
    first = (now + timedelta(days=1)).replace(hour=10, minute=0, second=0, microsecond=0)
    remaining = sessions
    while remaining > 0:
        count = min(remaining, 500)
        start = first + timedelta(days=len(session_ids))
        session = catalog_pb2.Session(
            service_id=class_id,
            start_date=ts(start),
            end_date=ts(start + timedelta(hours=1)),
            capacity=class_capacity,
        )
        reply = api.catalog.CreateSession(
            catalog_service_pb2.CreateSessionRequest(
                session=session, recurrence=f"FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;COUNT={count}"
            ),
            metadata=md,
        )
        for created in reply.sessions:
            session_ids.append(created.id)
            capacities[created.id] = created.capacity or class_capacity
        remaining -= count
    return Catalog(
        staff_ids=staff_ids,
        small_service_id=small,
        large_service_id=large,
        class_service_id=class_id,
        class_capacity=class_capacity,
        session_ids=session_ids,
        capacities=capacities,
        window_start=next_monday(now),
    )


# ---------------------------------------------------------------- request builders


def create_booking_request(
    session_id: str, service_id: str, request_id: str, participants: int = 1
) -> bookings_service_pb2.CreateBookingRequest:
    """A class-session booking; `external_user_id` repeats the request id for auditing."""
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            booked_entity=booking_pb2.BookedEntity(
                slot=booking_pb2.BookedSlot(session_id=session_id, service_id=service_id)
            ),
            contact_details=booking_pb2.ContactDetails(
                first_name="Bench", last_name=request_id[-12:], email="bench@example.com"
            ),
            total_participants=participants,
            external_user_id=request_id,
        ),
        request_id=request_id,
    )


def create_slot_booking_request(
    slot: booking_pb2.BookedSlot, request_id: str
) -> bookings_service_pb2.CreateBookingRequest:
    """A booking of one participant in `slot`, e.g. an appointment slot taken from an answer
    of QueryAvailability (its entries' slots are in the shape CreateBooking accepts)."""
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            booked_entity=booking_pb2.BookedEntity(slot=slot),
            contact_details=booking_pb2.ContactDetails(
                first_name="Bench", last_name=request_id[-12:], email="bench@example.com"
            ),
            total_participants=1,
            external_user_id=request_id,
        ),
        request_id=request_id,
    )


def create_hold_request(
    session_id: str, service_id: str, request_id: str, participants: int = 1
) -> bookings_service_pb2.CreateHoldRequest:
    """A hold on a class session, for the default time-to-live (5 minutes)."""
    return bookings_service_pb2.CreateHoldRequest(
        booked_entity=booking_pb2.BookedEntity(
            slot=booking_pb2.BookedSlot(session_id=session_id, service_id=service_id)
        ),
        total_participants=participants,
        request_id=request_id,
    )


def booking_from_hold_request(
    hold_id: str, request_id: str
) -> bookings_service_pb2.CreateBookingRequest:
    """A booking of what the hold holds: only the contact details are the booking's own."""
    return bookings_service_pb2.CreateBookingRequest(
        booking=booking_pb2.Booking(
            contact_details=booking_pb2.ContactDetails(
                first_name="Bench", last_name=request_id[-12:], email="bench@example.com"
            ),
            external_user_id=request_id,
        ),
        hold_id=hold_id,
        request_id=request_id,
    )


def all_bookings(api: Stubs, statuses: Sequence[int] = ()) -> list[booking_pb2.Booking]:
    """Every booking of the caller's site (QueryBookings, paged)."""
    found: list[booking_pb2.Booking] = []
    token = ""
    while True:
        reply = api.bookings.QueryBookings(
            bookings_service_pb2.QueryBookingsRequest(
                filter=bookings_service_pb2.BookingFilter(statuses=statuses),
                order=bookings_service_pb2.BOOKING_ORDER_CREATED_DATE_ASC,
                page_size=500,
                page_token=token,
            ),
            metadata=api.metadata,
            timeout=60,
        )
        found.extend(reply.bookings)
        token = reply.next_page_token
        if not token:
            return found
