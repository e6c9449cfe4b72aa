import datetime

from bookings.v1 import options_pb2 as _options_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LocationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCATION_TYPE_UNSPECIFIED: _ClassVar[LocationType]
    LOCATION_TYPE_OWNER_BUSINESS: _ClassVar[LocationType]
    LOCATION_TYPE_OWNER_CUSTOM: _ClassVar[LocationType]
    LOCATION_TYPE_CUSTOM: _ClassVar[LocationType]

class ValueType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_TYPE_UNSPECIFIED: _ClassVar[ValueType]
    VALUE_TYPE_SHORT_TEXT: _ClassVar[ValueType]
    VALUE_TYPE_LONG_TEXT: _ClassVar[ValueType]
    VALUE_TYPE_CHECK_BOX: _ClassVar[ValueType]

class BookingStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_STATUS_UNSPECIFIED: _ClassVar[BookingStatus]
    BOOKING_STATUS_CREATED: _ClassVar[BookingStatus]
    BOOKING_STATUS_CONFIRMED: _ClassVar[BookingStatus]
    BOOKING_STATUS_CANCELED: _ClassVar[BookingStatus]
    BOOKING_STATUS_PENDING: _ClassVar[BookingStatus]
    BOOKING_STATUS_DECLINED: _ClassVar[BookingStatus]
    BOOKING_STATUS_WAITING_LIST: _ClassVar[BookingStatus]

class PaymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_STATUS_UNSPECIFIED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_UNDEFINED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_NOT_PAID: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_PAID: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_PARTIALLY_PAID: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_REFUNDED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_EXEMPT: _ClassVar[PaymentStatus]

class SelectedPaymentOption(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SELECTED_PAYMENT_OPTION_UNSPECIFIED: _ClassVar[SelectedPaymentOption]
    SELECTED_PAYMENT_OPTION_UNDEFINED: _ClassVar[SelectedPaymentOption]
    SELECTED_PAYMENT_OPTION_OFFLINE: _ClassVar[SelectedPaymentOption]
    SELECTED_PAYMENT_OPTION_ONLINE: _ClassVar[SelectedPaymentOption]
    SELECTED_PAYMENT_OPTION_MEMBERSHIP: _ClassVar[SelectedPaymentOption]
    SELECTED_PAYMENT_OPTION_MEMBERSHIP_OFFLINE: _ClassVar[SelectedPaymentOption]
LOCATION_TYPE_UNSPECIFIED: LocationType
LOCATION_TYPE_OWNER_BUSINESS: LocationType
LOCATION_TYPE_OWNER_CUSTOM: LocationType
LOCATION_TYPE_CUSTOM: LocationType
VALUE_TYPE_UNSPECIFIED: ValueType
VALUE_TYPE_SHORT_TEXT: ValueType
VALUE_TYPE_LONG_TEXT: ValueType
VALUE_TYPE_CHECK_BOX: ValueType
BOOKING_STATUS_UNSPECIFIED: BookingStatus
BOOKING_STATUS_CREATED: BookingStatus
BOOKING_STATUS_CONFIRMED: BookingStatus
BOOKING_STATUS_CANCELED: BookingStatus
BOOKING_STATUS_PENDING: BookingStatus
BOOKING_STATUS_DECLINED: BookingStatus
BOOKING_STATUS_WAITING_LIST: BookingStatus
PAYMENT_STATUS_UNSPECIFIED: PaymentStatus
PAYMENT_STATUS_UNDEFINED: PaymentStatus
PAYMENT_STATUS_NOT_PAID: PaymentStatus
PAYMENT_STATUS_PAID: PaymentStatus
PAYMENT_STATUS_PARTIALLY_PAID: PaymentStatus
PAYMENT_STATUS_REFUNDED: PaymentStatus
PAYMENT_STATUS_EXEMPT: PaymentStatus
SELECTED_PAYMENT_OPTION_UNSPECIFIED: SelectedPaymentOption
SELECTED_PAYMENT_OPTION_UNDEFINED: SelectedPaymentOption
SELECTED_PAYMENT_OPTION_OFFLINE: SelectedPaymentOption
SELECTED_PAYMENT_OPTION_ONLINE: SelectedPaymentOption
SELECTED_PAYMENT_OPTION_MEMBERSHIP: SelectedPaymentOption
SELECTED_PAYMENT_OPTION_MEMBERSHIP_OFFLINE: SelectedPaymentOption

class Booking(_message.Message):
    __slots__ = ("id", "booked_entity", "contact_details", "additional_fields", "total_participants", "participants_choices", "status", "payment_status", "selected_payment_option", "created_date", "updated_date", "start_date", "end_date", "external_user_id", "revision", "created_by", "participant_notification", "send_sms_reminder", "extended_fields", "double_booked")
    class ExtendedFieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Struct
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    BOOKED_ENTITY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_DETAILS_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_FIELDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_CHOICES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    SELECTED_PAYMENT_OPTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_USER_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    SEND_SMS_REMINDER_FIELD_NUMBER: _ClassVar[int]
    EXTENDED_FIELDS_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_BOOKED_FIELD_NUMBER: _ClassVar[int]
    id: str
    booked_entity: BookedEntity
    contact_details: ContactDetails
    additional_fields: _containers.RepeatedCompositeFieldContainer[CustomFormField]
    total_participants: int
    participants_choices: ParticipantChoices
    status: BookingStatus
    payment_status: PaymentStatus
    selected_payment_option: SelectedPaymentOption
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    external_user_id: str
    revision: int
    created_by: IdentificationData
    participant_notification: ParticipantNotification
    send_sms_reminder: bool
    extended_fields: _containers.MessageMap[str, _struct_pb2.Struct]
    double_booked: bool
    def __init__(self, id: _Optional[str] = ..., booked_entity: _Optional[_Union[BookedEntity, _Mapping]] = ..., contact_details: _Optional[_Union[ContactDetails, _Mapping]] = ..., additional_fields: _Optional[_Iterable[_Union[CustomFormField, _Mapping]]] = ..., total_participants: _Optional[int] = ..., participants_choices: _Optional[_Union[ParticipantChoices, _Mapping]] = ..., status: _Optional[_Union[BookingStatus, str]] = ..., payment_status: _Optional[_Union[PaymentStatus, str]] = ..., selected_payment_option: _Optional[_Union[SelectedPaymentOption, str]] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., external_user_id: _Optional[str] = ..., revision: _Optional[int] = ..., created_by: _Optional[_Union[IdentificationData, _Mapping]] = ..., participant_notification: _Optional[_Union[ParticipantNotification, _Mapping]] = ..., send_sms_reminder: _Optional[bool] = ..., extended_fields: _Optional[_Mapping[str, _struct_pb2.Struct]] = ..., double_booked: _Optional[bool] = ...) -> None: ...

class BookedEntity(_message.Message):
    __slots__ = ("slot", "schedule", "title", "tags")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    slot: BookedSlot
    schedule: BookedSchedule
    title: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, slot: _Optional[_Union[BookedSlot, _Mapping]] = ..., schedule: _Optional[_Union[BookedSchedule, _Mapping]] = ..., title: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class BookedSlot(_message.Message):
    __slots__ = ("session_id", "service_id", "schedule_id", "start_date", "end_date", "timezone", "resource", "location")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    service_id: str
    schedule_id: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    timezone: str
    resource: SlotResource
    location: Location
    def __init__(self, session_id: _Optional[str] = ..., service_id: _Optional[str] = ..., schedule_id: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timezone: _Optional[str] = ..., resource: _Optional[_Union[SlotResource, _Mapping]] = ..., location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class SlotResource(_message.Message):
    __slots__ = ("id", "name", "email", "schedule_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    email: str
    schedule_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class Location(_message.Message):
    __slots__ = ("id", "name", "formatted_address", "location_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORMATTED_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    formatted_address: str
    location_type: LocationType
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., formatted_address: _Optional[str] = ..., location_type: _Optional[_Union[LocationType, str]] = ...) -> None: ...

class BookedSchedule(_message.Message):
    __slots__ = ("schedule_id", "service_id", "timezone", "first_session_start", "last_session_end")
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    FIRST_SESSION_START_FIELD_NUMBER: _ClassVar[int]
    LAST_SESSION_END_FIELD_NUMBER: _ClassVar[int]
    schedule_id: str
    service_id: str
    timezone: str
    first_session_start: _timestamp_pb2.Timestamp
    last_session_end: _timestamp_pb2.Timestamp
    def __init__(self, schedule_id: _Optional[str] = ..., service_id: _Optional[str] = ..., timezone: _Optional[str] = ..., first_session_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_session_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ContactDetails(_message.Message):
    __slots__ = ("contact_id", "first_name", "last_name", "email", "phone", "time_zone", "country_code")
    CONTACT_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    contact_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    time_zone: str
    country_code: str
    def __init__(self, contact_id: _Optional[str] = ..., first_name: _Optional[str] = ..., last_name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., time_zone: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...

class CustomFormField(_message.Message):
    __slots__ = ("id", "value", "label", "value_type")
    ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    VALUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    value: str
    label: str
    value_type: ValueType
    def __init__(self, id: _Optional[str] = ..., value: _Optional[str] = ..., label: _Optional[str] = ..., value_type: _Optional[_Union[ValueType, str]] = ...) -> None: ...

class ParticipantChoices(_message.Message):
    __slots__ = ("service_choices",)
    SERVICE_CHOICES_FIELD_NUMBER: _ClassVar[int]
    service_choices: _containers.RepeatedCompositeFieldContainer[ServiceChoices]
    def __init__(self, service_choices: _Optional[_Iterable[_Union[ServiceChoices, _Mapping]]] = ...) -> None: ...

class ServiceChoices(_message.Message):
    __slots__ = ("number_of_participants", "choices")
    NUMBER_OF_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    number_of_participants: int
    choices: _containers.RepeatedCompositeFieldContainer[ServiceChoice]
    def __init__(self, number_of_participants: _Optional[int] = ..., choices: _Optional[_Iterable[_Union[ServiceChoice, _Mapping]]] = ...) -> None: ...

class ServiceChoice(_message.Message):
    __slots__ = ("option_id", "custom", "duration")
    OPTION_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    option_id: str
    custom: str
    duration: ChoiceDuration
    def __init__(self, option_id: _Optional[str] = ..., custom: _Optional[str] = ..., duration: _Optional[_Union[ChoiceDuration, _Mapping]] = ...) -> None: ...

class ChoiceDuration(_message.Message):
    __slots__ = ("minutes", "name")
    MINUTES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    minutes: int
    name: str
    def __init__(self, minutes: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class IdentificationData(_message.Message):
    __slots__ = ("identity_type", "identity_id")
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_type: _options_pb2.IdentityType
    identity_id: str
    def __init__(self, identity_type: _Optional[_Union[_options_pb2.IdentityType, str]] = ..., identity_id: _Optional[str] = ...) -> None: ...

class ParticipantNotification(_message.Message):
    __slots__ = ("notify_participants", "message")
    NOTIFY_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    notify_participants: bool
    message: str
    def __init__(self, notify_participants: _Optional[bool] = ..., message: _Optional[str] = ...) -> None: ...
