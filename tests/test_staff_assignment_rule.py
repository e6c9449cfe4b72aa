"""SPEC section 9's assignment rule as a pure function: who an "any staff member" booking gets."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bookings_server.domain.staff_assignment import StaffCandidate, assign_staff, local_day


def test_a_free_staff_member_is_chosen_over_a_busy_one_with_fewer_bookings() -> None:
    candidates = [StaffCandidate("a", free=False, load=0), StaffCandidate("b", free=True, load=5)]

    assert assign_staff(candidates) == "b"


def test_among_free_staff_members_the_one_with_the_fewest_bookings_that_day_wins() -> None:
    candidates = [StaffCandidate("a", free=True, load=2), StaffCandidate("b", free=True, load=1)]

    assert assign_staff(candidates) == "b"


def test_ties_are_broken_by_staff_id() -> None:
    candidates = [StaffCandidate("b", free=True, load=1), StaffCandidate("a", free=True, load=1)]

    assert assign_staff(candidates) == "a"


def test_with_nobody_free_the_least_loaded_staff_member_is_chosen() -> None:
    candidates = [StaffCandidate("a", free=False, load=3), StaffCandidate("b", free=False, load=1)]

    assert assign_staff(candidates) == "b"


def test_without_candidates_nobody_is_assigned() -> None:
    assert assign_staff([]) is None


def test_the_local_day_follows_the_zone_across_a_dst_change() -> None:
    new_york = ZoneInfo("America/New_York")
    # 2026-03-08 is the spring-forward day in New York: it lasts 23 hours.
    first, after = local_day(datetime(2026, 3, 8, 15, tzinfo=UTC), new_york)

    assert (first, after) == (
        datetime(2026, 3, 8, 5, tzinfo=UTC),
        datetime(2026, 3, 9, 4, tzinfo=UTC),
    )
