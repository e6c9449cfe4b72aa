"""The standard health service answers for the whole server and for each bookings service."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bookings_server.api.servicers import SERVICE_NAMES


@pytest.mark.parametrize("service", ["", *SERVICE_NAMES])
def test_health_answers_serving_without_a_token(grpc_channel: grpc.Channel, service: str) -> None:
    response = health_pb2_grpc.HealthStub(grpc_channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=5
    )

    assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_health_of_an_unknown_service_is_not_found(grpc_channel: grpc.Channel) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        health_pb2_grpc.HealthStub(grpc_channel).Check(
            health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=5
        )

    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
