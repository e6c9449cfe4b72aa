"""Participant notifications by email, against a real SMTP server (aiosmtpd): the booking's
contact gets the business's message; STARTTLS whenever the server offers it; credentials
never sent in the clear."""

from __future__ import annotations

import email
import email.policy
import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
import trustme
from booking_helpers import BookingEnv, booking_env, class_booking
from bookings.v1 import booking_pb2
from delivery_receivers import EphemeralController, Inbox, Mail, smtp_server

from bookings_server.app.outbox_delivery import OutboxWorker
from bookings_server.config import Config
from bookings_server.delivery.routing import sender_from_config
from bookings_server.delivery.smtp import SmtpDeliveryError, SmtpSender, SmtpSettings
from bookings_server.domain.outbox import OutboxItem, OutboxKind
from bookings_server.store.database import Database
from bookings_server.store.unit_of_work import SqlUnitOfWork


def notification(**payload: Any) -> OutboxItem:
    values: dict[str, Any] = {
        "event": "BOOKING_CONFIRMED",
        "message": "See you on Monday!",
        "contact": {"first_name": "Ada", "email": "ada@example.com"},
        "title": "Yoga",
        "start": "2026-12-07T09:00:00+00:00",
    }
    return OutboxItem(
        id=str(uuid.uuid4()),
        site_id="site-a",
        kind=OutboxKind.PARTICIPANT_NOTIFICATION,
        booking_id="booking-1",
        due_at=datetime.now(UTC),
        payload=values | payload,
        attempts=0,
        claim_token="token",
    )


def parsed(mail: Mail) -> EmailMessage:
    message = email.message_from_bytes(mail.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.fixture
def servers() -> Iterator[list[EphemeralController]]:
    started: list[EphemeralController] = []
    yield started
    for controller in started:
        controller.stop()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def started(servers: list[EphemeralController], inbox: Inbox, **options: Any) -> int:
    controller = smtp_server(inbox, **options)
    servers.append(controller)
    return int(controller.port)


def tls_options(ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the server's STARTTLS context, a client context trusting it)."""
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


@pytest.fixture
def env(sqlite_url, start_server, auth_metadata) -> Iterator[BookingEnv]:  # type: ignore[no-untyped-def]
    with booking_env(sqlite_url, start_server, auth_metadata) as environment:
        yield environment


def test_a_booking_notification_is_mailed_to_its_contact(
    env: BookingEnv, servers: list[EphemeralController]
) -> None:
    inbox = Inbox()
    port = started(servers, inbox)
    request = class_booking(env.catalog.session, env.catalog.class_service)
    notify = booking_pb2.ParticipantNotification(notify_participants=True, message="See you!")
    env.visitor().create(request, participant_notification=notify)
    config = Config(smtp_host="127.0.0.1", smtp_port=port, smtp_from="desk@studio.example")
    database = Database.from_url(env.database_url)

    try:
        OutboxWorker(SqlUnitOfWork(database), sender_from_config(config)).run_once()
    finally:
        database.dispose()

    [mail] = inbox.mail
    message = parsed(mail)
    assert (mail.mail_from, mail.rcpt_tos) == ("desk@studio.example", ("Ada@Example.com",))
    assert message["Subject"] == "Booking created: Class service"
    assert "Hello Ada," in message.get_content()
    assert "See you!" in message.get_content()
    assert message["Message-ID"].endswith("@studio.example>")


def test_the_message_id_is_the_outbox_item_so_a_resent_notification_is_recognisable(
    servers: list[EphemeralController],
) -> None:
    inbox = Inbox()
    smtp = SmtpSender(SmtpSettings("127.0.0.1", started(servers, inbox)))
    item = notification()

    smtp.send(item)
    smtp.send(item)

    assert [parsed(m)["Message-ID"] for m in inbox.mail] == [f"<{item.id}@localhost>"] * 2


def test_starttls_is_used_when_offered_and_only_then_the_login(
    servers: list[EphemeralController], ca: trustme.CA
) -> None:
    inbox = Inbox()
    server_tls, client_tls = tls_options(ca)
    port = started(servers, inbox, tls=server_tls, logins={"mailer": "s3cret"})
    settings = SmtpSettings("127.0.0.1", port, username="mailer", password="s3cret")

    SmtpSender(settings, tls=client_tls).send(notification())

    [mail] = inbox.mail
    assert (mail.encrypted, mail.login) == (True, "mailer")


def test_credentials_are_never_sent_without_starttls(servers: list[EphemeralController]) -> None:
    inbox = Inbox()
    port = started(servers, inbox, logins={"mailer": "s3cret"})
    settings = SmtpSettings("127.0.0.1", port, username="mailer", password="s3cret")

    with pytest.raises(SmtpDeliveryError, match="without STARTTLS"):
        SmtpSender(settings).send(notification())

    assert inbox.mail == []


def test_starttls_always_refuses_a_server_that_does_not_offer_it(
    servers: list[EphemeralController],
) -> None:
    inbox = Inbox()
    settings = SmtpSettings("127.0.0.1", started(servers, inbox), starttls="always")

    with pytest.raises(SmtpDeliveryError, match="does not offer STARTTLS"):
        SmtpSender(settings).send(notification())

    assert inbox.mail == []


def test_a_server_certificate_that_does_not_verify_fails_the_delivery(
    servers: list[EphemeralController], ca: trustme.CA
) -> None:
    inbox = Inbox()
    server_tls, _ = tls_options(ca)
    settings = SmtpSettings("127.0.0.1", started(servers, inbox, tls=server_tls))

    with pytest.raises(ssl.SSLCertVerificationError):
        SmtpSender(settings).send(notification())

    assert inbox.mail == []


@pytest.mark.parametrize("address", ["", "not-an-address", "a@b.example\r\nBcc: x@y.example"])
def test_a_notification_without_a_usable_address_sends_nothing(
    servers: list[EphemeralController], address: str
) -> None:
    inbox = Inbox()
    smtp = SmtpSender(SmtpSettings("127.0.0.1", started(servers, inbox)))

    smtp.send(notification(contact={"first_name": "Ada", "email": address}))

    assert inbox.mail == []


def test_a_title_with_line_breaks_stays_in_the_subject(servers: list[EphemeralController]) -> None:
    inbox = Inbox()
    smtp = SmtpSender(SmtpSettings("127.0.0.1", started(servers, inbox)))

    smtp.send(notification(title="Yoga\r\nBcc: someone@example.com"))

    [mail] = inbox.mail
    assert parsed(mail)["Subject"] == "Booking confirmed: Yoga Bcc: someone@example.com"
    assert mail.rcpt_tos == ("ada@example.com",)
