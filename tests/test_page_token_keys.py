"""Which servers accept each other's page tokens: those with the same page token secret.

By default the key is derived from the JWT HS256 secret, which every server process on one
database already shares; `page_token_secret` sets it explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import grpc
import pytest
from bookings.v1 import catalog_pb2, catalog_service_pb2_grpc
from bookings.v1 import catalog_service_pb2 as pb

JWT_ONE = "the first deployment's JWT secret, 32+ bytes"
JWT_TWO = "the second deployment's JWT secret, 32+ bytes"

Connect = Callable[[Any], Callable[[str, Any], Any]]


@pytest.fixture
def connect(auth_metadata: Any) -> Iterator[Connect]:
    """connect(server)(method, request): a CatalogService call as the server's site owner."""
    with ExitStack() as channels:

        def to(server: Any) -> Callable[[str, Any], Any]:
            channel = channels.enter_context(grpc.insecure_channel(server.address))
            catalog = catalog_service_pb2_grpc.CatalogServiceStub(channel)
            metadata = auth_metadata(server)
            return lambda method, request: getattr(catalog, method)(
                request, metadata=metadata, timeout=10
            )

        yield to


def first_page_token(call: Callable[[str, Any], Any]) -> str:
    """Two services A and B; the token of the page after A."""
    for name in "AB":
        service = catalog_pb2.Service(
            name=name, type=catalog_pb2.SERVICE_TYPE_CLASS, timezone="UTC", default_capacity=3
        )
        call("CreateService", pb.CreateServiceRequest(service=service))
    return str(call("ListServices", pb.ListServicesRequest(page_size=1)).next_page_token)


def accepts(call: Callable[[str, Any], Any], token: str) -> bool:
    try:
        page = call("ListServices", pb.ListServicesRequest(page_token=token))
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        return False
    assert [service.name for service in page.services] == ["B"]
    return True


def test_servers_sharing_the_jwt_secret_accept_each_others_tokens(
    start_server: Any, connect: Connect
) -> None:
    token = first_page_token(connect(start_server(jwt_secret=JWT_ONE)))

    assert accepts(connect(start_server(jwt_secret=JWT_ONE)), token)
    assert not accepts(connect(start_server(jwt_secret=JWT_TWO)), token)


@pytest.mark.parametrize(("secret", "accepted"), [("shared", True), ("another", False)])
def test_the_page_token_secret_decides_whatever_the_jwt_secret(
    start_server: Any, connect: Connect, secret: str, accepted: bool
) -> None:
    token = first_page_token(connect(start_server(jwt_secret=JWT_ONE, page_token_secret="shared")))

    second = start_server(jwt_secret=JWT_TWO, page_token_secret=secret)
    assert accepts(connect(second), token) is accepted
