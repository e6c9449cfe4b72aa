"""The webhook sender against a real HTTP server: every item POSTed to its site's endpoints,
signed per Standard Webhooks (checked with standardwebhooks' `Webhook.verify`), the same
`webhook-id` on every attempt, failures for anything but 2xx, timeouts, TLS verified, and no
request to loopback, private or link-local addresses unless allowed."""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trustme
from delivery_receivers import WebhookReceiver, new_secret, webhooks_file

from bookings_server.delivery.http_post import Timeouts
from bookings_server.delivery.targets import is_public
from bookings_server.delivery.webhook_endpoints import WebhookFileError, load_webhook_endpoints
from bookings_server.delivery.webhooks import WebhookDeliveryError, WebhookSender
from bookings_server.domain.outbox import OutboxItem, OutboxKind


def outbox_item(site_id: str = "site-a", kind: OutboxKind = OutboxKind.BOOKING_EVENT) -> OutboxItem:
    return OutboxItem(
        id=str(uuid.uuid4()),
        site_id=site_id,
        kind=kind,
        booking_id="booking-1",
        due_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        payload={"type": "BOOKING_CREATED", "booking": {"id": "booking-1", "title": "Yoga"}},
        attempts=0,
        claim_token="token",
    )


@pytest.fixture
def receivers() -> Iterator[list[WebhookReceiver]]:
    started: list[WebhookReceiver] = []
    yield started
    for receiver in started:
        receiver.close()


def receiver(receivers: list[WebhookReceiver], **options: object) -> WebhookReceiver:
    started = WebhookReceiver(**options)  # type: ignore[arg-type]
    receivers.append(started)
    return started


def sender(
    tmp_path: Path, sites: dict[str, list[dict[str, str]]], **options: object
) -> WebhookSender:
    endpoints = load_webhook_endpoints(webhooks_file(tmp_path / "webhooks.yaml", sites))
    options.setdefault("allow_private", True)
    return WebhookSender(endpoints, **options)  # type: ignore[arg-type]


def test_an_item_is_posted_signed_to_every_endpoint_of_its_site_only(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    first, second, other_site = (receiver(receivers) for _ in range(3))
    webhooks = sender(
        tmp_path,
        {"site-a": [first.endpoint(), second.endpoint()], "site-b": [other_site.endpoint()]},
    )
    item = outbox_item()

    webhooks.send(item)

    bodies = [first.posts[0].verified(first.secret), second.posts[0].verified(second.secret)]
    assert (
        bodies[0]
        == bodies[1]
        == {
            "type": "bookings.booking_event",
            "timestamp": "2026-12-01T09:30:00+00:00",
            "site_id": "site-a",
            "booking_id": "booking-1",
            "data": item.payload,
        }
    )
    assert [post.headers["webhook-id"] for post in first.posts + second.posts] == [item.id] * 2
    assert first.posts[0].headers["content-type"] == "application/json"
    assert first.posts[0].path == "/hooks/bookings"
    assert other_site.posts == []


def test_a_signature_made_with_another_endpoints_secret_does_not_verify(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    target = receiver(receivers)
    sender(tmp_path, {"site-a": [target.endpoint()]}).send(outbox_item())

    with pytest.raises(Exception, match="No matching signature"):
        target.posts[0].verified(new_secret())


def test_a_retry_carries_the_same_webhook_id_with_a_fresh_timestamp_and_signature(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    target = receiver(receivers, status=503)
    webhooks = sender(tmp_path, {"site-a": [target.endpoint()]})
    item = outbox_item()

    with pytest.raises(WebhookDeliveryError, match="HTTP 503"):
        webhooks.send(item)
    time.sleep(1.1)
    target.status = 204
    webhooks.send(item)

    first, retry = target.posts
    assert first.headers["webhook-id"] == retry.headers["webhook-id"] == item.id
    assert first.headers["webhook-timestamp"] < retry.headers["webhook-timestamp"]
    assert first.verified(target.secret) == retry.verified(target.secret)


@pytest.mark.parametrize("status", [302, 400, 410, 500])
def test_any_answer_but_2xx_fails_the_delivery_and_redirects_are_not_followed(
    tmp_path: Path, receivers: list[WebhookReceiver], status: int
) -> None:
    target = receiver(receivers, status=status)

    with pytest.raises(WebhookDeliveryError, match=f"HTTP {status}"):
        sender(tmp_path, {"site-a": [target.endpoint()]}).send(outbox_item())

    assert len(target.posts) == 1


def test_one_failing_endpoint_fails_the_item_but_the_others_still_get_it(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    down, up = receiver(receivers, status=500), receiver(receivers)

    with pytest.raises(WebhookDeliveryError) as failure:
        sender(tmp_path, {"site-a": [down.endpoint(), up.endpoint()]}).send(outbox_item())

    assert f"127.0.0.1:{down.port}/hooks/bookings: HTTP 500" in str(failure.value)
    assert len(up.posts) == 1


def test_a_site_without_endpoints_has_nothing_to_deliver(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    target = receiver(receivers)

    sender(tmp_path, {"site-a": [target.endpoint()]}).send(outbox_item(site_id="site-z"))

    assert target.posts == []


def test_an_endpoint_that_does_not_answer_in_time_fails_the_delivery(
    tmp_path: Path, receivers: list[WebhookReceiver]
) -> None:
    slow = receiver(receivers)
    slow.hold = True
    webhooks = sender(
        tmp_path, {"site-a": [slow.endpoint()]}, timeouts=Timeouts(connect=1, read=0.5)
    )
    started = time.monotonic()

    with pytest.raises(WebhookDeliveryError, match="TimeoutError"):
        webhooks.send(outbox_item())

    assert time.monotonic() - started < 5


def test_a_refused_connection_fails_the_delivery(tmp_path: Path) -> None:
    closed = WebhookReceiver()
    url = closed.endpoint()
    closed.close()

    with pytest.raises(WebhookDeliveryError, match="ConnectionRefusedError"):
        sender(tmp_path, {"site-a": [url]}).send(outbox_item())


# ---- private targets ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_targets_are_refused_unless_allowed(
    tmp_path: Path, receivers: list[WebhookReceiver], host: str
) -> None:
    target = receiver(receivers)

    with pytest.raises(WebhookDeliveryError, match="not a public address"):
        sender(tmp_path, {"site-a": [target.endpoint(host=host)]}, allow_private=False).send(
            outbox_item()
        )

    assert target.posts == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.10", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_only_public_unicast_addresses_are_targets(address: str, public: bool) -> None:
    assert is_public(address) is public


# ---- TLS -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_receiver(receivers: list[WebhookReceiver], ca: trustme.CA) -> WebhookReceiver:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(context)
    return receiver(receivers, tls=context)


def test_an_https_endpoint_is_verified_for_its_host_name(
    tmp_path: Path, receivers: list[WebhookReceiver], ca: trustme.CA
) -> None:
    target = tls_receiver(receivers, ca)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)

    sender(
        tmp_path, {"site-a": [target.endpoint(host="localhost", scheme="https")]}, tls=trusting
    ).send(outbox_item())

    assert target.posts[0].verified(target.secret)["type"] == "bookings.booking_event"


def test_an_https_endpoint_with_an_untrusted_certificate_fails(
    tmp_path: Path, receivers: list[WebhookReceiver], ca: trustme.CA
) -> None:
    target = tls_receiver(receivers, ca)

    with pytest.raises(WebhookDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        sender(tmp_path, {"site-a": [target.endpoint(host="localhost", scheme="https")]}).send(
            outbox_item()
        )

    assert target.posts == []


# ---- the webhooks file -------------------------------------------------------------------------


def test_the_webhooks_file_maps_sites_to_endpoints_in_yaml_or_json(tmp_path: Path) -> None:
    secret = new_secret()
    yaml_file = tmp_path / "hooks.yaml"
    yaml_file.write_text(
        f"site-a:\n  - url: https://hooks.example.com/a?key=1\n    secret: {secret}\nsite-b: []\n"
    )
    json_file = tmp_path / "hooks.json"
    json_file.write_text(
        f'{{"site-a": [{{"url": "http://h.example:8080/", "secret": "{secret}"}}]}}'
    )

    from_yaml, from_json = load_webhook_endpoints(yaml_file), load_webhook_endpoints(json_file)

    assert [e.display for e in from_yaml["site-a"]] == ["https://hooks.example.com/a"]
    assert from_yaml["site-b"] == ()
    assert [e.display for e in from_json["site-a"]] == ["http://h.example:8080/"]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"url": "ftp://h.example/", "secret": new_secret()}, "http:// or https://"),
        ({"url": "https://h.example:99999/", "secret": new_secret()}, "valid port"),
        ({"url": "https://h.example/"}, "exactly the keys url and secret"),
        ({"url": "https://h.example/", "secret": "plain-text"}, "whsec_"),
        ({"url": "https://h.example/", "secret": "whsec_!!!!"}, "not valid base64"),
        ({"url": "https://h.example/", "secret": "whsec_c2hvcnQ="}, "24 to 64 bytes"),
    ],
)
def test_a_bad_webhooks_file_names_the_site_and_endpoint_but_never_the_secret(
    tmp_path: Path, entry: dict[str, str], problem: str
) -> None:
    path = webhooks_file(tmp_path / "hooks.yaml", {"site-a": [entry]})

    with pytest.raises(WebhookFileError, match=problem) as failure:
        load_webhook_endpoints(path)

    assert "site 'site-a', endpoint 1" in str(failure.value)
    assert "secret" not in entry or entry["secret"] not in str(failure.value)
