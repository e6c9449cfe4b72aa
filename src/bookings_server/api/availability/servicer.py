"""bookings.v1.AvailabilityService: QueryAvailability for the caller's site (SPEC section 5)."""

from __future__ import annotations

import grpc
from bookings.v1 import availability_service_pb2 as pb
from bookings.v1 import availability_service_pb2_grpc
from typing_extensions import override

from bookings_server.api.availability.convert import page_to_proto, query_from_request
from bookings_server.api.context import current_principal
from bookings_server.app.availability import AvailabilityReader
from bookings_server.app.availability_cache import AvailabilityCache
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.page_tokens import PageTokenCodec


class AvailabilityServicer(availability_service_pb2_grpc.AvailabilityServiceServicer):
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock = utc_now,
        *,
        page_tokens: PageTokenCodec,
        cache: AvailabilityCache | None = None,
    ) -> None:
        self._reader = AvailabilityReader(uow, clock, page_tokens=page_tokens, cache=cache)

    @override
    def QueryAvailability(
        self, request: pb.QueryAvailabilityRequest, context: grpc.ServicerContext
    ) -> pb.QueryAvailabilityResponse:
        query = query_from_request(request)
        answer = self._reader.answer(current_principal().site_id, query)
        if answer.wire is None:
            # A reused answer is sent as the message built for it first: grpc only reads it.
            answer.wire = page_to_proto(answer.page, answer.next_page_token)
        assert isinstance(answer.wire, pb.QueryAvailabilityResponse)
        return answer.wire
