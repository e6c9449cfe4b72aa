"""QueryAvailability's answer cache through the use cases, on both stores, with a clock the
test moves: an answer is reused only while nothing it depends on changed — a commit through
any unit of work (another process's included), a catalog change, the clock passing a policy
limit, a hold running out — and the cache stays within its budget."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta

import pytest
from lifecycle_support import SITE, AppointmentSetup, ClassSetup, MovableClock, Seeder

from bookings_server.app.availability import AvailabilityReader
from bookings_server.app.availability_cache import AvailabilityAnswer, AvailabilityCache, Turn
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.holds import HoldKeeper
from bookings_server.domain.availability.entries import AvailabilityEntry, AvailabilityPage
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.booking import BookedSlot, BookingStatus, SlotResource
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog import WorkingInterval
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.page_tokens import PageTokenCodec
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
TOKENS = PageTokenCodec.from_secret("test")


@dataclass
class Process:
    """What one server process has: its own database engine, cache and reader."""

    database: Database
    cache: AvailabilityCache
    reader: AvailabilityReader

    def entries(self, query: AvailabilityQuery) -> tuple[AvailabilityEntry, ...]:
        return self.reader.answer(SITE, query).page.entries


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def processes(database_url: str, clock: MovableClock) -> Iterator[list[Process]]:
    started = []
    for _ in range(2):
        database = Database.from_url(database_url)
        cache = AvailabilityCache(1 << 20)
        reader = AvailabilityReader(SqlUnitOfWork(database), clock, page_tokens=TOKENS, cache=cache)
        started.append(Process(database, cache, reader))
    yield started
    for process in started:
        process.database.dispose()


def _appointment_query(setup: AppointmentSetup, hours: int = 3) -> AvailabilityQuery:
    return AvailabilityQuery((setup.service.id,), setup.start, setup.start + timedelta(hours=hours))


def _class_query(setup: ClassSetup) -> AvailabilityQuery:
    start = setup.session.start - timedelta(hours=1)
    return AvailabilityQuery((setup.service.id,), start, start + timedelta(hours=3))


def _bookable_starts(entries: tuple[AvailabilityEntry, ...]) -> list[datetime]:
    return [entry.start for entry in entries if entry.bookable]


def _book_confirmed(seeder: Seeder, setup: AppointmentSetup, start: datetime) -> None:
    slot = BookedSlot(setup.service.id, start=start, resource=SlotResource(setup.staff.id))
    draft = BookingDraft(slot=slot, total_participants=1, status=BookingStatus.CONFIRMED)
    BookingCreator(seeder.uow).create(draft, OWNER)


def _warm(process: Process, query: AvailabilityQuery) -> AvailabilityAnswer:
    """The query's first answer: computed and cached by `process`."""
    return process.reader.answer(SITE, query)


@pytest.mark.parametrize("kind", ["appointment", "class"])
def test_an_answer_is_reused_from_its_first_computation(
    seeder: Seeder, processes: list[Process], kind: str
) -> None:
    """Its keys follow from the catalog (staff days, sessions), so their versions are read
    before any booking or count, and the first answer already knows them all."""
    if kind == "appointment":
        query = _appointment_query(seeder.appointment())
    else:
        query = _class_query(seeder.class_session())

    first = processes[0].reader.answer(SITE, query)

    assert processes[0].reader.answer(SITE, query) is first
    stats = processes[0].cache.stats()
    assert (stats.hits, stats.misses) == (1, 1)


def test_a_booking_committed_by_another_process_is_never_offered_by_this_one(
    seeder: Seeder, processes: list[Process]
) -> None:
    setup = seeder.appointment()
    query = _appointment_query(setup)
    reader, other = processes
    for process in processes:
        _warm(process, query)
    assert setup.start in _bookable_starts(reader.entries(query))

    _book_confirmed(Seeder(seeder.database_url), setup, setup.start)

    assert setup.start not in _bookable_starts(reader.entries(query))
    assert setup.start not in _bookable_starts(other.entries(query))


def test_a_created_booking_leaves_the_answer_reused(
    seeder: Seeder, processes: list[Process]
) -> None:
    setup = seeder.appointment()
    query = _appointment_query(setup)
    first = _warm(processes[0], query)
    slot = BookedSlot(setup.service.id, start=setup.start, resource=SlotResource(setup.staff.id))
    BookingCreator(seeder.uow).create(BookingDraft(slot=slot, total_participants=1), OWNER)

    assert processes[0].reader.answer(SITE, query) is first


def test_changed_working_hours_show_in_the_next_query_of_every_process(
    seeder: Seeder, processes: list[Process]
) -> None:
    setup = seeder.appointment()
    query = _appointment_query(setup)
    for process in processes:
        assert len(_warm(process, query).page.entries) == 3

    with seeder.uow.write(SITE) as tx:
        staff = tx.catalog.get_staff_member(setup.staff.id)
        no_hours = tuple(WorkingInterval(day, time(0), time(0, 30)) for day in range(7))
        tx.catalog.update_staff_member(replace(staff, working_hours=no_hours), datetime.now(UTC))

    for process in processes:
        assert process.entries(query) == ()


def test_an_entry_turns_too_late_once_the_clock_passes_its_start(
    seeder: Seeder, processes: list[Process], clock: MovableClock
) -> None:
    setup = seeder.class_session()
    query = _class_query(setup)
    reader = processes[0]
    assert _bookable_starts(_warm(reader, query).page.entries) == [setup.session.start]

    clock.now = setup.session.start + timedelta(seconds=1)

    (entry,) = reader.entries(query)
    assert not entry.bookable and entry.violations.too_late_to_book


def test_a_hold_running_out_frees_its_spot_without_any_write(
    seeder: Seeder, processes: list[Process], clock: MovableClock
) -> None:
    setup = seeder.class_session(capacity=1)
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    draft = BookingDraft(slot=slot, total_participants=1)
    HoldKeeper(seeder.uow, clock).create(OWNER, draft, timedelta(minutes=2))
    query = _class_query(setup)
    reader = processes[0]
    assert [entry.open_spots for entry in _warm(reader, query).page.entries] == [0]

    clock.now += timedelta(minutes=2)

    assert [entry.open_spots for entry in reader.entries(query)] == [1]


def test_the_cache_stays_within_its_budget(seeder: Seeder, clock: MovableClock) -> None:
    setup = seeder.appointment()
    cache = AvailabilityCache(10_000)
    reader = AvailabilityReader(seeder.uow, clock, page_tokens=TOKENS, cache=cache)

    for hours in range(1, 40):
        reader.answer(SITE, _appointment_query(setup, hours))

    stats = cache.stats()
    assert 0 < stats.bytes <= 10_000
    assert stats.answers < 39


def test_a_query_another_thread_is_computing_waits_for_that_answer() -> None:
    cache = AvailabilityCache(1 << 20)
    answer = AvailabilityAnswer(AvailabilityPage((), None, "UTC"), "", {}, None)
    computing, release = threading.Event(), threading.Event()
    followed: list[Turn] = []

    def lead() -> None:
        with cache.computing("query", wait_s=5) as turn:
            assert turn == Turn(leader=True, answer=None)
            computing.set()
            release.wait(5)
            cache.put("query", answer)

    def follow() -> None:
        with cache.computing("query", wait_s=5) as turn:
            followed.append(turn)

    leader = threading.Thread(target=lead)
    leader.start()
    computing.wait(5)
    follower = threading.Thread(target=follow)
    follower.start()
    follower.join(0.2)
    assert followed == []  # still waiting for the leader

    release.set()
    for thread in (leader, follower):
        thread.join(5)
    assert followed == [Turn(leader=False, answer=answer)]


def test_a_query_whose_turn_comes_after_another_stored_its_answer_is_given_that_answer() -> None:
    """A miss then a turn: in between, another thread may have computed and stored the very
    answer the query needs (the caller takes it when it holds, instead of computing it again;
    without this, a write made several threads compute the same answer one after another)."""
    cache = AvailabilityCache(1 << 20)
    answer = AvailabilityAnswer(AvailabilityPage((), None, "UTC"), "", {}, None)
    cache.put("query", answer)

    with cache.computing("query", wait_s=5) as turn:
        assert turn == Turn(leader=True, answer=answer)


def test_concurrent_first_queries_compute_their_answer_once(
    seeder: Seeder, processes: list[Process]
) -> None:
    """Those that missed before the first answer was stored read its keys' versions and
    take it, though they had read only the catalog's."""
    query = _appointment_query(seeder.appointment(), hours=48)
    process = processes[0]
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait(5)
        process.reader.answer(SITE, query)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    stats = process.cache.stats()
    assert (stats.hits, stats.misses) == (7, 1)


def test_an_answer_newer_than_the_versions_a_call_read_holds_for_it(clock: MovableClock) -> None:
    answer = AvailabilityAnswer(AvailabilityPage((), None, "UTC"), "", {"a": 3, "b": 1}, None)

    assert answer.holds_at({"a": 2, "b": 1}, clock.now)
    assert not answer.holds_at({"a": 4, "b": 1}, clock.now)
    assert not answer.holds_at({"a": 3}, clock.now)  # b was never read: unknown


def test_an_answer_with_a_version_learnt_from_its_data_holds_for_nobody(
    clock: MovableClock,
) -> None:
    answer = AvailabilityAnswer(AvailabilityPage((), None, "UTC"), "", {"a": None}, None)

    assert not answer.holds_at({"a": 0}, clock.now)
