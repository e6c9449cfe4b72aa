import datetime

from bookings.v1 import catalog_pb2 as _catalog_pb2
from bookings.v1 import options_pb2 as _options_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateServiceRequest(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ...) -> None: ...

class CreateServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ...) -> None: ...

class GetServiceRequest(_message.Message):
    __slots__ = ("service_id",)
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    def __init__(self, service_id: _Optional[str] = ...) -> None: ...

class GetServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    type: _catalog_pb2.ServiceType
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., type: _Optional[_Union[_catalog_pb2.ServiceType, str]] = ...) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services", "next_page_token")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Service]
    next_page_token: str
    def __init__(self, services: _Optional[_Iterable[_Union[_catalog_pb2.Service, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateServiceRequest(_message.Message):
    __slots__ = ("service", "update_mask")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateServiceResponse(_message.Message):
    __slots__ = ("service",)
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    service: _catalog_pb2.Service
    def __init__(self, service: _Optional[_Union[_catalog_pb2.Service, _Mapping]] = ...) -> None: ...

class CreateStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _catalog_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_catalog_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class CreateStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _catalog_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_catalog_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class GetStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member_id",)
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    staff_member_id: str
    def __init__(self, staff_member_id: _Optional[str] = ...) -> None: ...

class GetStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _catalog_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_catalog_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class ListStaffMembersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStaffMembersResponse(_message.Message):
    __slots__ = ("staff_members", "next_page_token")
    STAFF_MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    staff_members: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.StaffMember]
    next_page_token: str
    def __init__(self, staff_members: _Optional[_Iterable[_Union[_catalog_pb2.StaffMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateStaffMemberRequest(_message.Message):
    __slots__ = ("staff_member", "update_mask")
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    staff_member: _catalog_pb2.StaffMember
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, staff_member: _Optional[_Union[_catalog_pb2.StaffMember, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateStaffMemberResponse(_message.Message):
    __slots__ = ("staff_member",)
    STAFF_MEMBER_FIELD_NUMBER: _ClassVar[int]
    staff_member: _catalog_pb2.StaffMember
    def __init__(self, staff_member: _Optional[_Union[_catalog_pb2.StaffMember, _Mapping]] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ("session", "recurrence")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_FIELD_NUMBER: _ClassVar[int]
    session: _catalog_pb2.Session
    recurrence: str
    def __init__(self, session: _Optional[_Union[_catalog_pb2.Session, _Mapping]] = ..., recurrence: _Optional[str] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("sessions",)
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Session]
    def __init__(self, sessions: _Optional[_Iterable[_Union[_catalog_pb2.Session, _Mapping]]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _catalog_pb2.Session
    def __init__(self, session: _Optional[_Union[_catalog_pb2.Session, _Mapping]] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("service_id", "start_from", "start_to", "page_size", "page_token")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FROM_FIELD_NUMBER: _ClassVar[int]
    START_TO_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    service_id: str
    start_from: _timestamp_pb2.Timestamp
    start_to: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, service_id: _Optional[str] = ..., start_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_page_token")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[_catalog_pb2.Session]
    next_page_token: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[_catalog_pb2.Session, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateSessionRequest(_message.Message):
    __slots__ = ("session", "update_mask")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    session: _catalog_pb2.Session
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, session: _Optional[_Union[_catalog_pb2.Session, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _catalog_pb2.Session
    def __init__(self, session: _Optional[_Union[_catalog_pb2.Session, _Mapping]] = ...) -> None: ...
