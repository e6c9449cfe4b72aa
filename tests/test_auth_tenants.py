"""Site isolation: a site never sees or changes another site's rows (SPEC section 7).

Another site's id answers exactly like an id that does not exist. Runs on both backends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import grpc
import pytest
from bookings.v1 import catalog_pb2, catalog_service_pb2, catalog_service_pb2_grpc
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

if TYPE_CHECKING:
    from conftest import AuthMetadata, RunningServer, StartServer


@pytest.fixture
def server(start_server: StartServer, database_url: str) -> RunningServer:
    return start_server(database_url=database_url)


@pytest.fixture
def catalog(server: RunningServer) -> Iterator[catalog_service_pb2_grpc.CatalogServiceStub]:
    with grpc.insecure_channel(server.address) as channel:
        yield catalog_service_pb2_grpc.CatalogServiceStub(channel)


def a_class() -> catalog_pb2.Service:
    return catalog_pb2.Service(
        name="Yoga",
        type=catalog_pb2.SERVICE_TYPE_CLASS,
        default_capacity=10,
        timezone="Europe/London",
    )


def create_service_on_site_a(
    server: RunningServer,
    catalog: catalog_service_pb2_grpc.CatalogServiceStub,
    auth_metadata: AuthMetadata,
) -> catalog_pb2.Service:
    try:
        response = catalog.CreateService(
            catalog_service_pb2.CreateServiceRequest(service=a_class()),
            metadata=auth_metadata(server, site_id="site-a"),
            timeout=10,
        )
    except grpc.RpcError as error:
        if error.code() is grpc.StatusCode.UNIMPLEMENTED:
            pytest.skip("CatalogService.CreateService is not implemented yet")
        raise
    service: catalog_pb2.Service = response.service
    return service


def refusal(
    call: grpc.UnaryUnaryMultiCallable, request: object, metadata: list[tuple[str, str]]
) -> tuple[grpc.StatusCode, str]:
    """(status code, ErrorInfo reason) of a call expected to fail."""
    with pytest.raises(grpc.RpcError) as raised:
        call(request, metadata=metadata, timeout=10)
    status = rpc_status.from_call(raised.value)
    info = error_details_pb2.ErrorInfo()
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            detail.Unpack(info)
    return raised.value.code(), info.reason


def test_another_sites_service_is_not_found_like_a_missing_one(
    server: RunningServer,
    catalog: catalog_service_pb2_grpc.CatalogServiceStub,
    auth_metadata: AuthMetadata,
) -> None:
    service = create_service_on_site_a(server, catalog, auth_metadata)
    site_b = auth_metadata(server, site_id="site-b")
    other_site = refusal(
        catalog.GetService, catalog_service_pb2.GetServiceRequest(service_id=service.id), site_b
    )
    missing = refusal(
        catalog.GetService, catalog_service_pb2.GetServiceRequest(service_id="no-such-id"), site_b
    )
    assert other_site == missing
    assert other_site[0] is grpc.StatusCode.NOT_FOUND
    found = catalog.GetService(
        catalog_service_pb2.GetServiceRequest(service_id=service.id),
        metadata=auth_metadata(server, site_id="site-a"),
        timeout=10,
    )
    assert found.service.name == "Yoga"


def test_another_site_cannot_change_a_service(
    server: RunningServer,
    catalog: catalog_service_pb2_grpc.CatalogServiceStub,
    auth_metadata: AuthMetadata,
) -> None:
    service = create_service_on_site_a(server, catalog, auth_metadata)
    renamed = catalog_pb2.Service(id=service.id, name="Hijacked")
    code, _ = refusal(
        catalog.UpdateService,
        catalog_service_pb2.UpdateServiceRequest(
            service=renamed, update_mask=field_mask_pb2.FieldMask(paths=["name"])
        ),
        auth_metadata(server, site_id="site-b"),
    )
    assert code is grpc.StatusCode.NOT_FOUND
    unchanged = catalog.GetService(
        catalog_service_pb2.GetServiceRequest(service_id=service.id),
        metadata=auth_metadata(server, site_id="site-a"),
        timeout=10,
    )
    assert unchanged.service.name == "Yoga"


def test_another_site_lists_none_of_the_services(
    server: RunningServer,
    catalog: catalog_service_pb2_grpc.CatalogServiceStub,
    auth_metadata: AuthMetadata,
) -> None:
    service = create_service_on_site_a(server, catalog, auth_metadata)
    listed_b = catalog.ListServices(
        catalog_service_pb2.ListServicesRequest(),
        metadata=auth_metadata(server, site_id="site-b"),
        timeout=10,
    )
    listed_a = catalog.ListServices(
        catalog_service_pb2.ListServicesRequest(),
        metadata=auth_metadata(server, site_id="site-a"),
        timeout=10,
    )
    assert list(listed_b.services) == []
    assert [s.id for s in listed_a.services] == [service.id]
