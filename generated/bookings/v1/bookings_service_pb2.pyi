import datetime

from bookings.v1 import booking_pb2 as _booking_pb2
from bookings.v1 import options_pb2 as _options_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BookingOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOOKING_ORDER_UNSPECIFIED: _ClassVar[BookingOrder]
    BOOKING_ORDER_START_DATE_ASC: _ClassVar[BookingOrder]
    BOOKING_ORDER_START_DATE_DESC: _ClassVar[BookingOrder]
    BOOKING_ORDER_CREATED_DATE_ASC: _ClassVar[BookingOrder]
    BOOKING_ORDER_CREATED_DATE_DESC: _ClassVar[BookingOrder]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_CREATED: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_CONFIRMED: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_DECLINED: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_CANCELED: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_PENDING: _ClassVar[EventType]
    EVENT_TYPE_BOOKING_RESCHEDULED: _ClassVar[EventType]
BOOKING_ORDER_UNSPECIFIED: BookingOrder
BOOKING_ORDER_START_DATE_ASC: BookingOrder
BOOKING_ORDER_START_DATE_DESC: BookingOrder
BOOKING_ORDER_CREATED_DATE_ASC: BookingOrder
BOOKING_ORDER_CREATED_DATE_DESC: BookingOrder
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_BOOKING_CREATED: EventType
EVENT_TYPE_BOOKING_CONFIRMED: EventType
EVENT_TYPE_BOOKING_DECLINED: EventType
EVENT_TYPE_BOOKING_CANCELED: EventType
EVENT_TYPE_BOOKING_PENDING: EventType
EVENT_TYPE_BOOKING_RESCHEDULED: EventType

class FlowControlSettings(_message.Message):
    __slots__ = ("skip_availability_validation", "skip_business_confirmation", "skip_selected_payment_option_validation", "ignore_booking_policy")
    SKIP_AVAILABILITY_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    SKIP_BUSINESS_CONFIRMATION_FIELD_NUMBER: _ClassVar[int]
    SKIP_SELECTED_PAYMENT_OPTION_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    IGNORE_BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    skip_availability_validation: bool
    skip_business_confirmation: bool
    skip_selected_payment_option_validation: bool
    ignore_booking_policy: bool
    def __init__(self, skip_availability_validation: _Optional[bool] = ..., skip_business_confirmation: _Optional[bool] = ..., skip_selected_payment_option_validation: _Optional[bool] = ..., ignore_booking_policy: _Optional[bool] = ...) -> None: ...

class CreateBookingRequest(_message.Message):
    __slots__ = ("booking", "participant_notification", "send_sms_reminder", "flow_control_settings", "request_id")
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    SEND_SMS_REMINDER_FIELD_NUMBER: _ClassVar[int]
    FLOW_CONTROL_SETTINGS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    participant_notification: _booking_pb2.ParticipantNotification
    send_sms_reminder: bool
    flow_control_settings: FlowControlSettings
    request_id: str
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ..., participant_notification: _Optional[_Union[_booking_pb2.ParticipantNotification, _Mapping]] = ..., send_sms_reminder: _Optional[bool] = ..., flow_control_settings: _Optional[_Union[FlowControlSettings, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class ConfirmOrDeclineBookingRequest(_message.Message):
    __slots__ = ("booking_id", "payment_status", "revision")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    payment_status: _booking_pb2.PaymentStatus
    revision: int
    def __init__(self, booking_id: _Optional[str] = ..., payment_status: _Optional[_Union[_booking_pb2.PaymentStatus, str]] = ..., revision: _Optional[int] = ...) -> None: ...

class ConfirmOrDeclineBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class GetBookingRequest(_message.Message):
    __slots__ = ("booking_id",)
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    def __init__(self, booking_id: _Optional[str] = ...) -> None: ...

class GetBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingFilter(_message.Message):
    __slots__ = ("statuses", "service_ids", "start_from", "start_to", "contact_email")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    SERVICE_IDS_FIELD_NUMBER: _ClassVar[int]
    START_FROM_FIELD_NUMBER: _ClassVar[int]
    START_TO_FIELD_NUMBER: _ClassVar[int]
    CONTACT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[_booking_pb2.BookingStatus]
    service_ids: _containers.RepeatedScalarFieldContainer[str]
    start_from: _timestamp_pb2.Timestamp
    start_to: _timestamp_pb2.Timestamp
    contact_email: str
    def __init__(self, statuses: _Optional[_Iterable[_Union[_booking_pb2.BookingStatus, str]]] = ..., service_ids: _Optional[_Iterable[str]] = ..., start_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., contact_email: _Optional[str] = ...) -> None: ...

class QueryBookingsRequest(_message.Message):
    __slots__ = ("filter", "order", "page_size", "page_token")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    filter: BookingFilter
    order: BookingOrder
    page_size: int
    page_token: str
    def __init__(self, filter: _Optional[_Union[BookingFilter, _Mapping]] = ..., order: _Optional[_Union[BookingOrder, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryBookingsResponse(_message.Message):
    __slots__ = ("bookings", "next_page_token")
    BOOKINGS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    bookings: _containers.RepeatedCompositeFieldContainer[_booking_pb2.Booking]
    next_page_token: str
    def __init__(self, bookings: _Optional[_Iterable[_Union[_booking_pb2.Booking, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ConfirmBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision", "payment_status", "participant_notification")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    payment_status: _booking_pb2.PaymentStatus
    participant_notification: _booking_pb2.ParticipantNotification
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ..., payment_status: _Optional[_Union[_booking_pb2.PaymentStatus, str]] = ..., participant_notification: _Optional[_Union[_booking_pb2.ParticipantNotification, _Mapping]] = ...) -> None: ...

class ConfirmBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class DeclineBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision", "payment_status", "participant_notification")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    payment_status: _booking_pb2.PaymentStatus
    participant_notification: _booking_pb2.ParticipantNotification
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ..., payment_status: _Optional[_Union[_booking_pb2.PaymentStatus, str]] = ..., participant_notification: _Optional[_Union[_booking_pb2.ParticipantNotification, _Mapping]] = ...) -> None: ...

class DeclineBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class CancelBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision", "participant_notification", "ignore_cancellation_policy")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    IGNORE_CANCELLATION_POLICY_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    participant_notification: _booking_pb2.ParticipantNotification
    ignore_cancellation_policy: bool
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ..., participant_notification: _Optional[_Union[_booking_pb2.ParticipantNotification, _Mapping]] = ..., ignore_cancellation_policy: _Optional[bool] = ...) -> None: ...

class CancelBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class RescheduleBookingRequest(_message.Message):
    __slots__ = ("booking_id", "revision", "slot", "participant_notification", "skip_availability_validation", "ignore_booking_policy")
    BOOKING_ID_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SLOT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    SKIP_AVAILABILITY_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    IGNORE_BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    booking_id: str
    revision: int
    slot: _booking_pb2.BookedSlot
    participant_notification: _booking_pb2.ParticipantNotification
    skip_availability_validation: bool
    ignore_booking_policy: bool
    def __init__(self, booking_id: _Optional[str] = ..., revision: _Optional[int] = ..., slot: _Optional[_Union[_booking_pb2.BookedSlot, _Mapping]] = ..., participant_notification: _Optional[_Union[_booking_pb2.ParticipantNotification, _Mapping]] = ..., skip_availability_validation: _Optional[bool] = ..., ignore_booking_policy: _Optional[bool] = ...) -> None: ...

class RescheduleBookingResponse(_message.Message):
    __slots__ = ("booking",)
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    booking: _booking_pb2.Booking
    def __init__(self, booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ...) -> None: ...

class BookingEvent(_message.Message):
    __slots__ = ("id", "cursor", "type", "booking", "occurred_date", "actor")
    ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BOOKING_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_DATE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    cursor: str
    type: EventType
    booking: _booking_pb2.Booking
    occurred_date: _timestamp_pb2.Timestamp
    actor: _booking_pb2.IdentificationData
    def __init__(self, id: _Optional[str] = ..., cursor: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., booking: _Optional[_Union[_booking_pb2.Booking, _Mapping]] = ..., occurred_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[_Union[_booking_pb2.IdentificationData, _Mapping]] = ...) -> None: ...

class WatchBookingEventsRequest(_message.Message):
    __slots__ = ("after_cursor",)
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    after_cursor: str
    def __init__(self, after_cursor: _Optional[str] = ...) -> None: ...

class WatchBookingEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: BookingEvent
    def __init__(self, event: _Optional[_Union[BookingEvent, _Mapping]] = ...) -> None: ...
