"""Registers every bookings.v1 servicer on a server.

Each RPC's issue replaces the generated base class (which answers UNIMPLEMENTED) with the
real servicer here.
"""

from __future__ import annotations

import threading

import grpc
from bookings.v1 import (
    availability_service_pb2_grpc,
    bookings_service_pb2_grpc,
    catalog_service_pb2_grpc,
)

from bookings_server.api.availability.servicer import AvailabilityServicer
from bookings_server.api.bookings.servicer import BookingsServicer
from bookings_server.api.catalog.servicer import CatalogServicer
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.page_tokens import PageTokenCodec

#: Full names of the services this server implements, for health and reflection.
SERVICE_NAMES: tuple[str, ...] = (
    "bookings.v1.BookingsService",
    "bookings.v1.AvailabilityService",
    "bookings.v1.CatalogService",
)


def add_servicers(
    server: grpc.Server,
    uow: UnitOfWork,
    draining: threading.Event,
    page_tokens: PageTokenCodec,
    availability_cache: AvailabilityCache | None = None,
) -> None:
    """Register every servicer; each one gets the shared unit of work and page token codec.
    Setting `draining` ends the open event streams; QueryAvailability reuses its answers
    through `availability_cache` (none: computed afresh on every call)."""
    bookings_service_pb2_grpc.add_BookingsServiceServicer_to_server(
        BookingsServicer(uow, draining, page_tokens=page_tokens), server
    )
    availability_service_pb2_grpc.add_AvailabilityServiceServicer_to_server(
        AvailabilityServicer(uow, page_tokens=page_tokens, cache=availability_cache), server
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(
        CatalogServicer(uow, page_tokens=page_tokens), server
    )
