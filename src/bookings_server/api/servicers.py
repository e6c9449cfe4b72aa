"""Registers every bookings.v1 servicer on a server.

Each RPC's issue replaces the generated base class (which answers UNIMPLEMENTED) with the
real servicer here.
"""

from __future__ import annotations

import grpc
from bookings.v1 import (
    availability_service_pb2_grpc,
    bookings_service_pb2_grpc,
    catalog_service_pb2_grpc,
)

#: Full names of the services this server implements, for health and reflection.
SERVICE_NAMES: tuple[str, ...] = (
    "bookings.v1.BookingsService",
    "bookings.v1.AvailabilityService",
    "bookings.v1.CatalogService",
)


def add_servicers(server: grpc.Server) -> None:
    bookings_service_pb2_grpc.add_BookingsServiceServicer_to_server(
        bookings_service_pb2_grpc.BookingsServiceServicer(), server
    )
    availability_service_pb2_grpc.add_AvailabilityServiceServicer_to_server(
        availability_service_pb2_grpc.AvailabilityServiceServicer(), server
    )
    catalog_service_pb2_grpc.add_CatalogServiceServicer_to_server(
        catalog_service_pb2_grpc.CatalogServiceServicer(), server
    )
