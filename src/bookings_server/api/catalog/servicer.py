"""bookings.v1.CatalogService: services, staff members and sessions of the caller's site.

Each method decodes its request, takes the site from the authenticated principal, runs the
use case of app/catalog.py and encodes the answer. Updates merge the request into the stored
entity (api/catalog/field_mask.py) inside the use case's transaction.
"""

from __future__ import annotations

import grpc
from bookings.v1 import catalog_pb2, catalog_service_pb2_grpc
from bookings.v1 import catalog_service_pb2 as pb
from typing_extensions import override

from bookings_server.api.catalog.convert import (
    enum_field,
    instant_field,
    service_from_proto,
    service_to_proto,
    session_spec_from_proto,
    session_to_proto,
    staff_from_proto,
    staff_to_proto,
)
from bookings_server.api.catalog.field_mask import merge_update
from bookings_server.api.context import current_principal
from bookings_server.app.catalog import Catalog
from bookings_server.app.catalog_removal import CatalogRemoval
from bookings_server.app.clock import Clock, utc_now
from bookings_server.app.unit_of_work import UnitOfWork
from bookings_server.domain.booking_shape import MAX_TEXT_LENGTH
from bookings_server.domain.catalog import Service, ServiceType, Session, SessionSpec, StaffMember
from bookings_server.domain.catalog_removal import DeleteOptions
from bookings_server.domain.catalog_validation import Violations
from bookings_server.domain.errors import InvalidArgument
from bookings_server.domain.page_tokens import PageTokenCodec

_SERVICE_OUTPUT_ONLY = ("id", "schedule_id", "created_date", "updated_date", "deleted_date")
_STAFF_OUTPUT_ONLY = ("id", "schedule_id", "deleted_date")
_SESSION_OUTPUT_ONLY = ("id", "timezone", "schedule_id", "recurrence_id", "deleted_date")


def _site() -> str:
    return current_principal().site_id


def _delete_options(options: pb.DeleteOptions) -> DeleteOptions:
    if len(options.message) > MAX_TEXT_LENGTH:
        raise InvalidArgument.field("options.message", f"at most {MAX_TEXT_LENGTH} characters")
    return DeleteOptions(cancel_bookings=options.cancel_bookings, message=options.message)


def _required_id(value: str, path: str) -> str:
    if not value:
        raise InvalidArgument.field(path, "required")
    return value


class CatalogServicer(catalog_service_pb2_grpc.CatalogServiceServicer):
    def __init__(
        self, uow: UnitOfWork, clock: Clock = utc_now, *, page_tokens: PageTokenCodec
    ) -> None:
        self._catalog = Catalog(uow, clock, page_tokens=page_tokens)
        self._removal = CatalogRemoval(uow, clock)

    # --- deletes ---

    @override
    def DeleteService(
        self, request: pb.DeleteServiceRequest, context: grpc.ServicerContext
    ) -> pb.DeleteServiceResponse:
        service, canceled = self._removal.delete_service(
            current_principal(),
            _required_id(request.service_id, "service_id"),
            _delete_options(request.options),
        )
        return pb.DeleteServiceResponse(
            service=service_to_proto(service), canceled_bookings=canceled
        )

    @override
    def DeleteStaffMember(
        self, request: pb.DeleteStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.DeleteStaffMemberResponse:
        staff, canceled = self._removal.delete_staff_member(
            current_principal(),
            _required_id(request.staff_member_id, "staff_member_id"),
            _delete_options(request.options),
        )
        return pb.DeleteStaffMemberResponse(
            staff_member=staff_to_proto(staff), canceled_bookings=canceled
        )

    @override
    def DeleteSession(
        self, request: pb.DeleteSessionRequest, context: grpc.ServicerContext
    ) -> pb.DeleteSessionResponse:
        session, canceled = self._removal.delete_session(
            current_principal(),
            _required_id(request.session_id, "session_id"),
            _delete_options(request.options),
        )
        return pb.DeleteSessionResponse(
            session=session_to_proto(session), canceled_bookings=canceled
        )

    # --- services ---

    @override
    def CreateService(
        self, request: pb.CreateServiceRequest, context: grpc.ServicerContext
    ) -> pb.CreateServiceResponse:
        site = _site()
        created = self._catalog.create_service(site, service_from_proto(request.service, site))
        return pb.CreateServiceResponse(service=service_to_proto(created))

    @override
    def GetService(
        self, request: pb.GetServiceRequest, context: grpc.ServicerContext
    ) -> pb.GetServiceResponse:
        service_id = _required_id(request.service_id, "service_id")
        service = self._catalog.get_service(_site(), service_id)
        return pb.GetServiceResponse(service=service_to_proto(service))

    @override
    def ListServices(
        self, request: pb.ListServicesRequest, context: grpc.ServicerContext
    ) -> pb.ListServicesResponse:
        service_type = None
        if request.type:
            found = Violations()
            service_type = enum_field(
                found, "type", catalog_pb2.ServiceType, ServiceType, "SERVICE_TYPE_", request.type
            )
            found.raise_if_any()
        page = self._catalog.list_services(
            _site(), size=request.page_size, token=request.page_token, service_type=service_type
        )
        return pb.ListServicesResponse(
            services=[service_to_proto(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    @override
    def UpdateService(
        self, request: pb.UpdateServiceRequest, context: grpc.ServicerContext
    ) -> pb.UpdateServiceResponse:
        site = _site()
        service_id = _required_id(request.service.id, "service.id")

        def change(stored: Service) -> Service:
            merged = merge_update(
                service_to_proto(stored),
                request.service,
                request.update_mask,
                output_only=_SERVICE_OUTPUT_ONLY,
                keep_when_unset=("type",),
            )
            return service_from_proto(merged, site)

        updated = self._catalog.modify_service(site, service_id, change)
        return pb.UpdateServiceResponse(service=service_to_proto(updated))

    # --- staff members ---

    @override
    def CreateStaffMember(
        self, request: pb.CreateStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.CreateStaffMemberResponse:
        site = _site()
        staff = staff_from_proto(request.staff_member, site)
        created = self._catalog.create_staff_member(site, staff)
        return pb.CreateStaffMemberResponse(staff_member=staff_to_proto(created))

    @override
    def GetStaffMember(
        self, request: pb.GetStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.GetStaffMemberResponse:
        staff_id = _required_id(request.staff_member_id, "staff_member_id")
        staff = self._catalog.get_staff_member(_site(), staff_id)
        return pb.GetStaffMemberResponse(staff_member=staff_to_proto(staff))

    @override
    def ListStaffMembers(
        self, request: pb.ListStaffMembersRequest, context: grpc.ServicerContext
    ) -> pb.ListStaffMembersResponse:
        page = self._catalog.list_staff_members(
            _site(), size=request.page_size, token=request.page_token
        )
        return pb.ListStaffMembersResponse(
            staff_members=[staff_to_proto(s) for s in page.items],
            next_page_token=page.next_page_token,
        )

    @override
    def UpdateStaffMember(
        self, request: pb.UpdateStaffMemberRequest, context: grpc.ServicerContext
    ) -> pb.UpdateStaffMemberResponse:
        site = _site()
        staff_id = _required_id(request.staff_member.id, "staff_member.id")

        def change(stored: StaffMember) -> StaffMember:
            merged = merge_update(
                staff_to_proto(stored),
                request.staff_member,
                request.update_mask,
                output_only=_STAFF_OUTPUT_ONLY,
            )
            return staff_from_proto(merged, site)

        updated = self._catalog.modify_staff_member(site, staff_id, change)
        return pb.UpdateStaffMemberResponse(staff_member=staff_to_proto(updated))

    # --- sessions ---

    @override
    def CreateSession(
        self, request: pb.CreateSessionRequest, context: grpc.ServicerContext
    ) -> pb.CreateSessionResponse:
        site = _site()
        spec = session_spec_from_proto(request.session)
        created = self._catalog.create_sessions(site, spec, request.recurrence)
        return pb.CreateSessionResponse(sessions=[session_to_proto(s) for s in created])

    @override
    def GetSession(
        self, request: pb.GetSessionRequest, context: grpc.ServicerContext
    ) -> pb.GetSessionResponse:
        session_id = _required_id(request.session_id, "session_id")
        found = self._catalog.get_session(_site(), session_id)
        return pb.GetSessionResponse(session=session_to_proto(found))

    @override
    def ListSessions(
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> pb.ListSessionsResponse:
        found = Violations()
        start_from = instant_field(found, "start_from", request, "start_from", required=False)
        start_to = instant_field(found, "start_to", request, "start_to", required=False)
        found.raise_if_any()
        page = self._catalog.list_sessions(
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

    @override
    def UpdateSession(
        self, request: pb.UpdateSessionRequest, context: grpc.ServicerContext
    ) -> pb.UpdateSessionResponse:
        session_id = _required_id(request.session.id, "session.id")

        def change(stored: Session) -> SessionSpec:
            merged = merge_update(
                session_to_proto(stored, as_stored=True),
                request.session,
                request.update_mask,
                output_only=_SESSION_OUTPUT_ONLY,
                keep_when_unset=("service_id",),
            )
            return session_spec_from_proto(merged)

        updated = self._catalog.modify_session(_site(), session_id, change)
        return pb.UpdateSessionResponse(session=session_to_proto(updated))
