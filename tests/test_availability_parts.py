"""QueryAvailability below the whole answer, through the use cases on both stores: an answer
recomputed after a write reuses the parts that the write did not touch (one staff member's
free starts for one service and UTC day; one class session's or course's occupancy), and is
the answer computed from scratch."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from lifecycle_support import SITE, ClassSetup, MovableClock, Seeder, TeamSetup

from bookings_server.app.availability import AvailabilityReader
from bookings_server.app.availability_cache import AvailabilityCache, CacheStats
from bookings_server.app.bookings.create import BookingCreator
from bookings_server.app.bookings.holds import HoldKeeper
from bookings_server.app.bookings.lifecycle import BookingLifecycle, Notification
from bookings_server.domain.availability.entries import AvailabilityEntry
from bookings_server.domain.availability.request import AvailabilityQuery
from bookings_server.domain.booking import BookedSlot, Booking, BookingStatus, SlotResource
from bookings_server.domain.booking_request import BookingDraft
from bookings_server.domain.catalog import WaitingListPolicy
from bookings_server.domain.identity import IdentityType, Principal
from bookings_server.domain.page_tokens import PageTokenCodec

OWNER = Principal(SITE, IdentityType.OWNER, "owner")
TOKENS = PageTokenCodec.from_secret("test")
DAYS = 4


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime.now(UTC))


@pytest.fixture
def team(seeder: Seeder) -> TeamSetup:
    return seeder.team(3)


@pytest.fixture
def cache() -> AvailabilityCache:
    return AvailabilityCache(8 << 20)


@pytest.fixture
def reader(seeder: Seeder, clock: MovableClock, cache: AvailabilityCache) -> AvailabilityReader:
    return AvailabilityReader(seeder.uow, clock, page_tokens=TOKENS, cache=cache)


def _query(team: TeamSetup, **changes: object) -> AvailabilityQuery:
    end = team.start + timedelta(days=DAYS)
    query = AvailabilityQuery((team.service.id,), team.start, end, page_size=1000)
    return replace(query, **changes)


def _book(seeder: Seeder, team: TeamSetup, staff: int, start: datetime) -> Booking:
    slot = BookedSlot(team.service.id, start=start, resource=SlotResource(team.staff[staff].id))
    draft = BookingDraft(slot=slot, total_participants=1, status=BookingStatus.CONFIRMED)
    return BookingCreator(seeder.uow).create(draft, OWNER)


def _delta(before: CacheStats, after: CacheStats) -> tuple[int, int]:
    return after.part_hits - before.part_hits, after.part_misses - before.part_misses


def _staff_starts(entries: tuple[AvailabilityEntry, ...], staff_id: str) -> list[datetime]:
    return [entry.start for entry in entries if entry.slot.resource.id == staff_id]


def _warm(reader: AvailabilityReader, query: AvailabilityQuery) -> None:
    """Computed once: its parts cached, with the versions of their keys."""
    reader.answer(SITE, query)


def test_a_write_to_one_staff_members_day_recomputes_only_that_staff_members_parts(
    seeder: Seeder, team: TeamSetup, reader: AvailabilityReader, cache: AvailabilityCache
) -> None:
    query = _query(team)
    _warm(reader, query)
    booked = team.start + timedelta(days=2, hours=3)
    before = cache.stats()

    _book(seeder, team, 0, booked)
    entries = reader.answer(SITE, query).page.entries

    hits, misses = _delta(before, cache.stats())
    assert booked not in _staff_starts(entries, team.staff[0].id)
    assert booked in _staff_starts(entries, team.staff[1].id)
    parts_per_staff = DAYS + 1  # the range starts mid-day: its first and last days are cut
    # Only staff member 0's parts whose slots a booking of that day can block: the day
    # before (its last slot ends after midnight) to two days after (versions.staff_day_keys
    # lets a booking block up to MAX_STAFF_HOLD later). None of the two others'.
    assert 1 <= misses <= 4
    assert hits == 3 * parts_per_staff - misses


@pytest.fixture
def yoga(seeder: Seeder) -> list[ClassSetup]:
    """Three sessions of one class, a day apart, with a waiting list."""
    first = seeder.class_session(
        capacity=2, starts_in=timedelta(days=1), waiting_list=WaitingListPolicy(True, 3)
    )
    return [first] + [
        seeder.another_session(first, capacity=2, starts_in=timedelta(days=days)) for days in (2, 3)
    ]


def _class_query(yoga: list[ClassSetup], **changes: object) -> AvailabilityQuery:
    start = yoga[0].session.start - timedelta(hours=1)
    query = AvailabilityQuery((yoga[0].service.id,), start, start + timedelta(days=DAYS))
    return replace(query, **changes)


def _book_session(seeder: Seeder, setup: ClassSetup) -> Booking:
    slot = BookedSlot(setup.service.id, session_id=setup.session.id)
    draft = BookingDraft(slot=slot, total_participants=1, status=BookingStatus.CONFIRMED)
    return BookingCreator(seeder.uow).create(draft, OWNER)


def test_a_booking_of_one_session_recounts_only_that_session(
    seeder: Seeder, yoga: list[ClassSetup], reader: AvailabilityReader, cache: AvailabilityCache
) -> None:
    query = _class_query(yoga)
    _warm(reader, query)
    before = cache.stats()

    _book_session(seeder, yoga[1])
    entries = reader.answer(SITE, query).page.entries

    assert [entry.open_spots for entry in entries] == [2, 1, 2]
    assert _delta(before, cache.stats()) == (2, 1)


def test_a_query_over_other_days_reuses_the_parts_it_shares(
    team: TeamSetup, reader: AvailabilityReader, cache: AvailabilityCache
) -> None:
    _warm(reader, _query(team))
    before = cache.stats()

    reader.answer(SITE, _query(team, end=team.start + timedelta(days=1)))

    hits, misses = _delta(before, cache.stats())
    assert hits >= 3  # each staff member's first day: cut the same way in both ranges
    assert misses <= 3  # the second day, cut differently


def test_the_clock_passing_a_slot_recomputes_its_flags_but_no_part(
    team: TeamSetup, reader: AvailabilityReader, cache: AvailabilityCache, clock: MovableClock
) -> None:
    query = _query(team)
    _warm(reader, query)
    before = cache.stats()

    clock.now = team.start + timedelta(minutes=1)
    entries = reader.answer(SITE, query).page.entries

    assert _delta(before, cache.stats())[1] == 0
    first = [entry for entry in entries if entry.start == team.start]
    assert len(first) == 3
    assert all(not e.bookable and e.violations.too_late_to_book for e in first)


def test_a_hold_running_out_frees_its_slot_in_the_recomputed_part(
    seeder: Seeder, team: TeamSetup, reader: AvailabilityReader, clock: MovableClock
) -> None:
    held = team.start + timedelta(days=1)
    slot = BookedSlot(team.service.id, start=held, resource=SlotResource(team.staff[0].id))
    HoldKeeper(seeder.uow, clock).create(
        OWNER, BookingDraft(slot=slot, total_participants=1), timedelta(minutes=2)
    )
    query = _query(team)
    _warm(reader, query)
    assert held not in _staff_starts(reader.answer(SITE, query).page.entries, team.staff[0].id)

    clock.now += timedelta(minutes=2)

    assert held in _staff_starts(reader.answer(SITE, query).page.entries, team.staff[0].id)


def test_parts_share_the_answers_budget(seeder: Seeder, team: TeamSetup) -> None:
    cache = AvailabilityCache(20_000)
    reader = AvailabilityReader(seeder.uow, page_tokens=TOKENS, cache=cache)

    for hours in range(1, 30):
        _warm(reader, _query(team, end=team.start + timedelta(hours=hours * 4)))

    stats = cache.stats()
    assert stats.parts > 0
    assert 0 < stats.bytes <= 20_000


def _pages(reader: AvailabilityReader, query: AvailabilityQuery) -> list[AvailabilityEntry]:
    entries: list[AvailabilityEntry] = []
    token = ""
    while True:
        answer = reader.answer(SITE, replace(query, page_token=token))
        entries.extend(answer.page.entries)
        token = answer.next_page_token
        if not token:
            return entries


def test_answers_from_parts_are_the_answers_computed_from_scratch(
    seeder: Seeder,
    team: TeamSetup,
    yoga: list[ClassSetup],
    reader: AvailabilityReader,
    clock: MovableClock,
) -> None:
    scratch = AvailabilityReader(seeder.uow, clock, page_tokens=TOKENS)
    both = (team.service.id, yoga[0].service.id)
    queries = [
        _query(team),
        _query(team, page_size=7),
        _query(team, page_size=5, slots_per_day=3),
        _query(team, bookable=True, page_size=11),
        _query(team, resource_ids=(team.staff[1].id,), page_size=9),
        _query(team, service_ids=both, page_size=13),
        _query(team, merge_staff=True, page_size=17),
        _class_query(yoga),
    ]
    lifecycle = BookingLifecycle(seeder.uow, clock)
    booked: list[Booking] = []

    def same() -> None:
        for query in queries:
            assert _pages(reader, query) == _pages(scratch, query)

    same()
    for step in range(6):
        start = team.start + timedelta(days=step % DAYS, hours=2 * step + 1)
        booked.append(_book(seeder, team, step % 3, start))
        same()
        booked.append(_book_session(seeder, yoga[step % 3]))
        same()
        if step % 2:
            cancelled = booked.pop(0)
            lifecycle.cancel(
                OWNER,
                cancelled.id,
                revision=cancelled.revision,
                notification=Notification(),
                ignore_cancellation_policy=True,
            )
            same()
        clock.now += timedelta(hours=5)
        same()
