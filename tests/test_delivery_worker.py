"""The worker delivering through real webhooks: at least once with the same `webhook-id` when
killed mid-delivery, dead letters after the last allowed attempt, listed and retried with
`bookings outbox`, and the in-server worker wired from the configuration."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from booking_helpers import SITE, BookingEnv, booking_env, class_booking
from delivery_receivers import WebhookReceiver, webhooks_file

from bookings_server.app.outbox_delivery import OutboxWorker, WorkerSettings, start_worker_thread
from bookings_server.cli.main import main
from bookings_server.config import Config
from bookings_server.delivery.routing import sender_from_config
from bookings_server.store.database import Database
from bookings_server.store.outbox_repository import OutboxState
from bookings_server.store.unit_of_work import SqlUnitOfWork

WORKER = [sys.executable, "-m", "bookings_server.cli.main", "worker"]


@pytest.fixture
def env(sqlite_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(sqlite_url, start_server, auth_metadata) as environment:
        yield environment


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    started = WebhookReceiver()
    yield started
    started.close()


@pytest.fixture
def database(env: BookingEnv) -> Iterator[Database]:
    opened = Database.from_url(env.database_url)
    yield opened
    opened.dispose()


def outbox(database: Database) -> list[OutboxState]:
    with SqlUnitOfWork(database).read(SITE) as tx:
        return tx.outbox.list_items()


def book(env: BookingEnv) -> str:
    """A booking with no notification: its one due item is the BOOKING_CREATED event."""
    return env.visitor().create(class_booking(env.catalog.session, env.catalog.class_service)).id


def hooks(tmp_path: Path, receiver: WebhookReceiver) -> Path:
    return webhooks_file(tmp_path / "webhooks.yaml", {SITE: [receiver.endpoint()]})


def test_a_worker_killed_mid_delivery_posts_the_item_again_with_the_same_webhook_id(
    env: BookingEnv, database: Database, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    book(env)
    [item] = outbox(database)
    options = ["--database-url", env.database_url, "--lease-seconds", "1", "--poll-interval"]
    options += [
        "0.05",
        "--webhooks-file",
        str(hooks(tmp_path, receiver)),
        "--webhooks-allow-private",
    ]
    receiver.hold = True

    worker = subprocess.Popen([*WORKER, *options], stderr=subprocess.DEVNULL)
    try:
        assert receiver.arrived.wait(60), "the worker never posted"
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    unsent_after_kill = outbox(database)[0].sent_at is None
    receiver.hold = False
    receiver.release.set()
    time.sleep(1.1)  # the dead worker's lease runs out
    subprocess.run([*WORKER, *options, "--once"], stderr=subprocess.DEVNULL, check=True, timeout=60)

    assert unsent_after_kill
    first, again = receiver.posts
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == item.id
    assert first.verified(receiver.secret) == again.verified(receiver.secret)
    assert outbox(database)[0].sent_at is not None


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_an_item_failing_its_last_attempt_is_a_dead_letter_the_cli_lists_and_retries(
    env: BookingEnv,
    database: Database,
    receiver: WebhookReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    book(env)
    receiver.status = 500
    config = Config(webhooks_file=hooks(tmp_path, receiver), webhooks_allow_private=True)
    clock = Clock()
    worker = OutboxWorker(
        SqlUnitOfWork(database), sender_from_config(config), WorkerSettings(max_attempts=3), clock
    )
    for _ in range(4):
        worker.run_once()
        clock.now += timedelta(hours=1)
    [dead] = outbox(database)
    store = ["--database-url", env.database_url]

    listed = main(["outbox", "list", "--failed", *store]), capsys.readouterr().out
    retried = main(["outbox", "retry", dead.id, *store]), capsys.readouterr().out
    receiver.status = 200
    worker.run_once()
    relisted = main(["outbox", "list", "--failed", *store]), capsys.readouterr().out

    assert (dead.attempts, dead.sent_at, dead.dead_at is not None) == (3, None, True)
    assert len(receiver.posts) == 4
    assert {post.headers["webhook-id"] for post in receiver.posts} == {dead.id}
    row = listed[1].splitlines()[1].split("\t")
    assert listed[0] == 0
    assert row[:5] == [dead.id, SITE, "BOOKING_EVENT", dead.booking_id, "3"]
    assert row[5].startswith("dead since ") and "HTTP 500" in row[6]
    assert retried == (0, "bookings: 1 dead letter(s) due again\n")
    assert outbox(database)[0].sent_at is not None
    assert relisted == (0, "id\tsite\tkind\tbooking\tattempts\tstate\tlast_error\n")


def test_retrying_an_id_that_is_no_dead_letter_fails(
    env: BookingEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    book(env)

    code = main(["outbox", "retry", "no-such-item", "--database-url", env.database_url])

    assert code == 1
    assert "no dead letter with id no-such-item" in capsys.readouterr().err


def test_the_in_server_worker_posts_through_the_configured_webhooks(
    env: BookingEnv, database: Database, receiver: WebhookReceiver, tmp_path: Path
) -> None:
    booking_id = book(env)
    config = Config(
        database_url=env.database_url,
        run_worker=True,
        webhooks_file=hooks(tmp_path, receiver),
        webhooks_allow_private=True,
    )

    thread = start_worker_thread(config, sender_from_config(config))
    assert thread is not None
    try:
        assert receiver.arrived.wait(30)
    finally:
        thread.stop()

    body = receiver.posts[0].verified(receiver.secret)
    assert (body["type"], body["booking_id"], body["data"]["type"]) == (
        "bookings.booking_event",
        booking_id,
        "BOOKING_CREATED",
    )


def test_a_bad_webhooks_file_stops_the_worker_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "webhooks.yaml"
    bad.write_text("site-a: {url: https://h.example/}\n")

    done = subprocess.run(
        [*WORKER, "--data-dir", str(tmp_path / "data"), "--webhooks-file", str(bad), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stderr.startswith("bookings: ")
    assert "site 'site-a': expected a list of endpoints" in done.stderr
