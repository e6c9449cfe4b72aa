"""Races for "any staff member" appointments (SPEC section 9): assignment and the capacity
decision are one step.

N bookings of one start are CREATED unassigned, then all confirmations are released at once.
Each confirmation locks every candidate staff member before it counts, so exactly K of them
confirm, on K different staff members, whatever the thread or process. SQLite runs threads
against one server; PostgreSQL spreads the calls over two server processes (the `race`
fixture of test_races.py).
"""

from __future__ import annotations

from collections import Counter

from lifecycle_support import CONFIRMED, DECLINED, any_staff_booking_request, create_bookings
from test_races import REPETITIONS, RaceTargets, race  # noqa: F401  (the fixture)

STAFF = 4
CONTENDERS = 16


def test_sixteen_confirmations_of_one_start_with_four_staff_confirm_four_on_four_staff(
    race: RaceTargets,  # noqa: F811
) -> None:
    for _ in range(REPETITIONS):
        setup = race.seeder.team(STAFF)
        bookings = create_bookings(
            race.clients[0], any_staff_booking_request(setup), CONTENDERS, race.metadata[0]
        )

        answers = race.confirm_all(bookings)

        assert not [a for a in answers if isinstance(a, BaseException)]
        assert Counter(a.booking.status for a in answers) == {
            CONFIRMED: STAFF,
            DECLINED: CONTENDERS - STAFF,
        }
        assigned = [
            a.booking.booked_entity.slot.resource.id
            for a in answers
            if a.booking.status == CONFIRMED
        ]
        assert sorted(assigned) == sorted(s.id for s in setup.staff)
        assert race.stored_statuses(bookings) == {CONFIRMED: STAFF, DECLINED: CONTENDERS - STAFF}
