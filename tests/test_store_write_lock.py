"""The in-process queue of SQLite writers: arrival order, bounded waits, and no lost wake-ups."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from bookings_server.domain.errors import Unavailable
from bookings_server.store.database import Database
from bookings_server.store.write_lock import FifoSemaphore


def test_waiters_get_the_lock_in_arrival_order() -> None:
    lock = FifoSemaphore()
    assert lock.acquire(1)
    order: list[int] = []

    def waiter(number: int) -> None:
        assert lock.acquire(5)
        order.append(number)
        lock.release()

    threads = []
    for number in range(5):
        thread = threading.Thread(target=waiter, args=(number,))
        thread.start()
        threads.append(thread)
        time.sleep(0.05)  # each waiter queues before the next one starts
    lock.release()
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]


def test_a_waiter_that_times_out_leaves_the_queue() -> None:
    lock = FifoSemaphore()
    assert lock.acquire(1)
    assert not lock.acquire(0.05)
    lock.release()
    assert lock.acquire(0.05)  # free again: the timed-out waiter did not keep a turn
    lock.release()


def test_many_threads_never_hold_the_lock_together() -> None:
    lock = FifoSemaphore()
    inside, overlaps, done = [0], [0], [0]

    def worker() -> None:
        for _ in range(200):
            assert lock.acquire(5)
            inside[0] += 1
            overlaps[0] += inside[0] > 1
            inside[0] -= 1
            done[0] += 1
            lock.release()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (overlaps[0], done[0]) == (0, 1600)


def test_a_semaphore_lets_as_many_holders_in_as_it_has_permits() -> None:
    permits = FifoSemaphore(3)
    assert all(permits.acquire(0.01) for _ in range(3))
    assert not permits.acquire(0.05)
    permits.release()
    assert permits.acquire(0.01)


def test_a_released_permit_goes_to_the_longest_waiter_not_a_newcomer() -> None:
    permits = FifoSemaphore(2)
    assert permits.acquire(1) and permits.acquire(1)
    got: list[str] = []
    waiter = threading.Thread(target=lambda: got.append("waiter") if permits.acquire(5) else None)
    waiter.start()
    time.sleep(0.05)
    permits.release()
    waiter.join()
    assert got == ["waiter"]
    assert not permits.acquire(0.01)  # the newcomer finds none: the waiter took it


def test_a_sqlite_writer_waiting_past_the_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    """In one process writers queue in-process; the wait is still bounded by busy_timeout."""
    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite3'}", busy_timeout_ms=100)
    holding, release = threading.Event(), threading.Event()

    def first_writer() -> None:
        with database.write() as session:
            session.execute(text("SELECT 1"))
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised, database.write() as session:
            session.execute(text("SELECT 1"))
        assert raised.value.reason == "STORE_BUSY"
        assert time.monotonic() - started < 2
    finally:
        release.set()
        thread.join()
    with database.write() as session:  # the queue is free again
        assert session.execute(text("SELECT 1")).scalar() == 1
    database.dispose()
