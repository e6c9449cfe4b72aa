"""Senders for the outbox tests, importable by a worker subprocess (`--sender`).

Both append "<item id> <kind>" to the file named by $OUTBOX_RECORD and fsync it, so the test
sees a delivery even when the worker is killed right after.
"""

from __future__ import annotations

import os
import time

from bookings_server.domain.outbox import OutboxItem


def record(item: OutboxItem) -> None:
    with open(os.environ["OUTBOX_RECORD"], "a", encoding="utf-8") as file:
        file.write(f"{item.id} {item.kind.value}\n")
        file.flush()
        os.fsync(file.fileno())


class RecordingSender:
    def send(self, item: OutboxItem) -> None:
        record(item)


class RecordThenHangSender:
    """Delivers, then never returns: the worker is killed before it can mark the item sent."""

    def send(self, item: OutboxItem) -> None:
        record(item)
        time.sleep(3600)
