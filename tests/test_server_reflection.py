"""Server reflection lists every service and method of the contract (grpcurl, buf curl)."""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import ServiceDescriptor
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from bookings_server.api.auth.scopes import services_named
from bookings_server.api.servicers import SERVICE_NAMES


def test_reflection_lists_the_three_services_health_and_reflection(
    grpc_channel: grpc.Channel,
) -> None:
    listed = set(ProtoReflectionDescriptorDatabase(grpc_channel).get_services())

    assert listed == {
        "bookings.v1.BookingsService",
        "bookings.v1.AvailabilityService",
        "bookings.v1.CatalogService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    }


def test_reflection_describes_every_method_as_the_descriptors_declare_it(
    grpc_channel: grpc.Channel,
) -> None:
    reflected = descriptor_pool.DescriptorPool(ProtoReflectionDescriptorDatabase(grpc_channel))

    for expected in services_named(SERVICE_NAMES):
        service = reflected.FindServiceByName(expected.full_name)
        assert _signatures(service) == _signatures(expected)
        assert len(service.methods) > 0


def _signatures(service: ServiceDescriptor) -> dict[str, tuple[str, str, bool, bool]]:
    return {
        method.name: (
            method.input_type.full_name,
            method.output_type.full_name,
            method.client_streaming,
            method.server_streaming,
        )
        for method in service.methods
    }


def test_reflection_serves_the_proto_comments_and_resolves_method_names(
    grpc_channel: grpc.Channel,
) -> None:
    database = ProtoReflectionDescriptorDatabase(grpc_channel)

    file = database.FindFileContainingSymbol("bookings.v1.BookingsService.CreateBooking")

    assert file.name == "bookings/v1/bookings_service.proto"
    comments = [location.leading_comments for location in file.source_code_info.location]
    assert any("Creates a booking" in comment for comment in comments)
