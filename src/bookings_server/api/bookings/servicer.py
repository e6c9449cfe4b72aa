"""bookings.v1.BookingsService: one servicer composed of per-topic handler mixins.

CreateBookingHandlers (api/create_handlers.py) serves CreateBooking, GetBooking and
QueryBookings; the lifecycle RPCs live in their own mixin. Methods not provided by a mixin
fall through to the generated base class, which answers UNIMPLEMENTED.
"""

from __future__ import annotations

import threading

from bookings.v1 import bookings_service_pb2_grpc

from bookings_server.api.bookings.create_handlers import CreateBookingHandlers
from bookings_server.api.bookings.lifecycle_servicer import LifecycleRpcs
from bookings_server.api.bookings.watch import WatchRpcs
from bookings_server.app.bookings.create import BookingCreator, Clock, utc_now
from bookings_server.store.database import Database


class BookingsServicer(
    CreateBookingHandlers,
    LifecycleRpcs,
    WatchRpcs,
    bookings_service_pb2_grpc.BookingsServiceServicer,
):
    def __init__(
        self, database: Database, draining: threading.Event, clock: Clock = utc_now
    ) -> None:
        self._database = database
        self._clock = clock
        self._creator = BookingCreator(database, clock)
        LifecycleRpcs.__init__(self, database, clock)
        WatchRpcs.__init__(self, database, draining)
