"""The `bulk_confirm_300` workload's two ends: the bookings it decides, and its verdict.

One BulkConfirmOrDeclineBooking of 300 items is compared with 300 single
ConfirmOrDeclineBooking calls. Both sides decide the same kind of bookings (CREATED, one
participant, class sessions in rotation), prepared beforehand over the API with
BulkCreateBooking and not measured, and both run a fixed amount of work on the same server
(bench/load.py's fixed-work mode), so the ratio of their wall times at saturation is what a
bulk call saves.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench_harness import Catalog, Metadata, create_booking_request, stubs
from bookings.v1 import bookings_service_pb2

#: Items per bulk call: Wix's (and the server's) limit.
BATCH = 300
#: BulkCreateBooking's limit, the batch the bookings are prepared in.
CREATE_BATCH = 8
PREPARE_THREADS = 8


def created_bookings(
    address: str, metadata: Metadata, catalog: Catalog, count: int, *, prefix: str
) -> list[str]:
    """Ids of `count` new CREATED bookings in the catalog's class sessions (in rotation)."""
    chunks = [
        range(first, min(first + CREATE_BATCH, count)) for first in range(0, count, CREATE_BATCH)
    ]
    with stubs(address, metadata) as api, ThreadPoolExecutor(PREPARE_THREADS) as pool:

        def create(chunk: range) -> list[str]:
            request = bookings_service_pb2.BulkCreateBookingRequest(
                create_booking_requests=[
                    create_booking_request(
                        catalog.session_ids[n % len(catalog.session_ids)],
                        catalog.class_service_id,
                        f"{prefix}-{n}",
                    )
                    for n in chunk
                ]
            )
            reply = api.bookings.BulkCreateBooking(
                request, metadata=tuple(api.metadata), timeout=120
            )
            if reply.bulk_action_metadata.total_failures:
                failed = next(r for r in reply.results if not r.item_metadata.success)
                raise RuntimeError(f"could not prepare bookings: {failed.item_metadata.error}")
            return [result.item_metadata.id for result in reply.results]

        return [booking_id for ids in pool.map(create, chunks) for booking_id in ids]


def compare(single: dict[str, Any], bulk: dict[str, Any]) -> dict[str, float]:
    """What one bulk call of BATCH costs as a fraction of BATCH single calls.

    `time_ratio` compares wall time at saturation (the inverse of throughput), `cpu_ratio`
    the server's CPU per decision; below 1 the bulk call is cheaper.
    """
    bulk_items_per_s = BATCH * bulk["calls_per_s"]
    return {
        "batch": BATCH,
        "single_calls_per_s": single["calls_per_s"],
        "bulk_items_per_s": bulk_items_per_s,
        "time_ratio": single["calls_per_s"] / max(bulk_items_per_s, 1e-9),
        "cpu_ratio": bulk["server_cpu_us_per_call"]
        / max(BATCH * single["server_cpu_us_per_call"], 1e-9),
    }
