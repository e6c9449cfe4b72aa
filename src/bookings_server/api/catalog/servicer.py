"""bookings.v1.CatalogService: services, staff members and sessions of the caller's site."""

from __future__ import annotations

import grpc
from bookings.v1 import catalog_pb2, catalog_service_pb2_grpc
from bookings.v1 import catalog_service_pb2 as pb

from bookings_server.api.catalog.convert import (
    enum_from_proto,
    instant_from_proto,
    service_from_proto,
    service_to_proto,
    session_spec_from_proto,
    session_to_proto,
    staff_from_proto,
    staff_to_proto,
)
from bookings_server.api.catalog.field_mask import merge_update
from bookings_server.api.context import current_principal
from bookings_server.domain.catalog import ServiceType
from bookings_server.domain.catalog_validation import Violations
from bookings_server.domain.errors import InvalidArgument
from bookings_server.store import catalog_repository as repo
from bookings_server.store.database import Database

_SERVICE_OUTPUT_ONLY = ("id", "schedule_id", "created_date", "updated_date")
_STAFF_OUTPUT_ONLY = ("id", "schedule_id")
_SESSION_OUTPUT_ONLY = ("id", "timezone", "schedule_id", "recurrence_id")


def _site() -> str:
    return current_principal().site_id


def _required_id(value: str, path: str) -> str:
    if not value:
        raise InvalidArgument.field(path, "required")
    return value


class CatalogServicer(catalog_service_pb2_grpc.CatalogServiceServicer):
    def __init__(self, database: Database) -> None:
        self._db = database

    # --- services ---

    def CreateService(
        self, request: pb.CreateServiceRequest, context: grpc.ServicerContext
    ) -> pb.CreateServiceResponse:
        site = _site()
        service = service_from_proto(request.service, site)
        with self._db.write() as session:
            created = repo.create_service(session, site, service)
        return pb.CreateServiceResponse(service=service_to_proto(created))

    def GetService(
        self, request: pb.GetServiceRequest, context: grpc.ServicerContext
    ) -> pb.GetServiceResponse:
        service_id = _required_id(request.service_id, "service_id")
        with self._db.read() as session:
            service = repo.get_service(session, _site(), service_id)
        return pb.GetServiceResponse(service=service_to_proto(service))

    def ListServices(
        self, request: pb.ListServicesRequest, context: grpc.ServicerContext
    ) -> pb.ListServicesResponse:
        service_type = None
        if request.type:
            found = Violations()
            service_type = enum_from_proto(
                found, "type", catalog_pb2.ServiceType, ServiceType, "SERVICE_TYPE_", request.type
            )
            found.raise_if_any()
        with self._db.read() as session:
            page = repo.list_services(
                session,
                _site(),
                size=request.page_size,
                token=request.page_token,
                service_type=service_type,
            )
        return pb.ListServicesResponse(
            services=[service_to_proto(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    def UpdateService(
        self, request: pb.UpdateServiceRequest, context: grpc.ServicerContext
    ) -> pb.UpdateServiceResponse:
        site = _site()
        service_id = _required_id(request.service.id, "service.id")
        with self._db.write() as session:
            stored = service_to_proto(repo.get_service(session, site, service_id))
            merged = merge_update(
                stored,
                request.service,
                request.update_mask,
                output_only=_SERVICE_OUTPUT_ONLY,
                keep_when_unset=("type",),
            )
            updated = repo.update_service(session, site, service_from_proto(merged, site))
        return pb.UpdateServiceResponse(service=service_to_proto(updated))

    # --- staff members ---

    def CreateStaffMember(
        self, request: pb.CreateStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.CreateStaffMemberResponse:
        site = _site()
        staff = staff_from_proto(request.staff_member, site)
        with self._db.write() as session:
            created = repo.create_staff_member(session, site, staff)
        return pb.CreateStaffMemberResponse(staff_member=staff_to_proto(created))

    def GetStaffMember(
        self, request: pb.GetStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.GetStaffMemberResponse:
        staff_id = _required_id(request.staff_member_id, "staff_member_id")
        with self._db.read() as session:
            staff = repo.get_staff_member(session, _site(), staff_id)
        return pb.GetStaffMemberResponse(staff_member=staff_to_proto(staff))

    def ListStaffMembers(
        self, request: pb.ListStaffMembersRequest, context: grpc.ServicerContext
    ) -> pb.ListStaffMembersResponse:
        with self._db.read() as session:
            page = repo.list_staff_members(
                session, _site(), size=request.page_size, token=request.page_token
            )
        return pb.ListStaffMembersResponse(
            staff_members=[staff_to_proto(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    def UpdateStaffMember(
        self, request: pb.UpdateStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStaffMemberResponse:
        site = _site()
        staff_id = _required_id(request.staff_member.id, "staff_member.id")
        with self._db.write() as session:
            stored = staff_to_proto(repo.get_staff_member(session, site, staff_id))
            merged = merge_update(
                stored, request.staff_member, request.update_mask, output_only=_STAFF_OUTPUT_ONLY
            )
            updated = repo.update_staff_member(session, site, staff_from_proto(merged, site))
        return pb.UpdateStaffMemberResponse(staff_member=staff_to_proto(updated))

    # --- sessions ---

    def CreateSession(
        self, request: pb.CreateSessionRequest, context: grpc.ServicerContext
    ) -> pb.CreateSessionResponse:
        site = _site()
        spec = session_spec_from_proto(request.session)
        with self._db.write() as session:
            created = repo.create_sessions(session, site, spec, request.recurrence)
        return pb.CreateSessionResponse(sessions=[session_to_proto(s) for s in created])

    def GetSession(
        self, request: pb.GetSessionRequest, context: grpc.ServicerContext
    ) -> pb.GetSessionResponse:
        session_id = _required_id(request.session_id, "session_id")
        with self._db.read() as session:
            found = repo.get_session(session, _site(), session_id)
        return pb.GetSessionResponse(session=session_to_proto(found))

    def ListSessions(
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        found = Violations()
        start_from = instant_from_proto(found, "start_from", request, "start_from", required=False)
        start_to = instant_from_proto(found, "start_to", request, "start_to", required=False)
        found.raise_if_any()
        with self._db.read() as session:
            page = repo.list_sessions(
                session,
                _site(),
                service_id=request.service_id,
                start_from=start_from,
                start_to=start_to,
                size=request.page_size,
                token=request.page_token,
            )
        return pb.ListSessionsResponse(
            sessions=[session_to_proto(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    def UpdateSession(
        self, request: pb.UpdateSessionRequest, context: grpc.ServicerContext
    ) -> pb.UpdateSessionResponse:
        site = _site()
        session_id = _required_id(request.session.id, "session.id")
        with self._db.write() as session:
            stored = session_to_proto(repo.get_session(session, site, session_id), as_stored=True)
            merged = merge_update(
                stored,
                request.session,
                request.update_mask,
                output_only=_SESSION_OUTPUT_ONLY,
                keep_when_unset=("service_id",),
            )
            spec = session_spec_from_proto(merged)
            updated = repo.update_session(session, site, session_id, spec)
        return pb.UpdateSessionResponse(session=session_to_proto(updated))
