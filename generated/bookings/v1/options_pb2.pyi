from google.protobuf import descriptor_pb2 as _descriptor_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class IdentityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_TYPE_UNSPECIFIED: _ClassVar[IdentityType]
    IDENTITY_TYPE_OWNER: _ClassVar[IdentityType]
    IDENTITY_TYPE_APP: _ClassVar[IdentityType]
    IDENTITY_TYPE_MEMBER: _ClassVar[IdentityType]
    IDENTITY_TYPE_VISITOR: _ClassVar[IdentityType]
IDENTITY_TYPE_UNSPECIFIED: IdentityType
IDENTITY_TYPE_OWNER: IdentityType
IDENTITY_TYPE_APP: IdentityType
IDENTITY_TYPE_MEMBER: IdentityType
IDENTITY_TYPE_VISITOR: IdentityType
REQUIRED_SCOPES_FIELD_NUMBER: _ClassVar[int]
required_scopes: _descriptor.FieldDescriptor
GRANTED_IDENTITIES_FIELD_NUMBER: _ClassVar[int]
granted_identities: _descriptor.FieldDescriptor
