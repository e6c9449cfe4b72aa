import datetime

from bookings.v1 import booking_pb2 as _booking_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_TYPE_UNSPECIFIED: _ClassVar[ServiceType]
    SERVICE_TYPE_APPOINTMENT: _ClassVar[ServiceType]
    SERVICE_TYPE_CLASS: _ClassVar[ServiceType]
    SERVICE_TYPE_COURSE: _ClassVar[ServiceType]

class ServiceOptionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_OPTION_TYPE_UNSPECIFIED: _ClassVar[ServiceOptionType]
    SERVICE_OPTION_TYPE_CUSTOM: _ClassVar[ServiceOptionType]
    SERVICE_OPTION_TYPE_DURATION: _ClassVar[ServiceOptionType]

class Weekday(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEEKDAY_UNSPECIFIED: _ClassVar[Weekday]
    WEEKDAY_MONDAY: _ClassVar[Weekday]
    WEEKDAY_TUESDAY: _ClassVar[Weekday]
    WEEKDAY_WEDNESDAY: _ClassVar[Weekday]
    WEEKDAY_THURSDAY: _ClassVar[Weekday]
    WEEKDAY_FRIDAY: _ClassVar[Weekday]
    WEEKDAY_SATURDAY: _ClassVar[Weekday]
    WEEKDAY_SUNDAY: _ClassVar[Weekday]
SERVICE_TYPE_UNSPECIFIED: ServiceType
SERVICE_TYPE_APPOINTMENT: ServiceType
SERVICE_TYPE_CLASS: ServiceType
SERVICE_TYPE_COURSE: ServiceType
SERVICE_OPTION_TYPE_UNSPECIFIED: ServiceOptionType
SERVICE_OPTION_TYPE_CUSTOM: ServiceOptionType
SERVICE_OPTION_TYPE_DURATION: ServiceOptionType
WEEKDAY_UNSPECIFIED: Weekday
WEEKDAY_MONDAY: Weekday
WEEKDAY_TUESDAY: Weekday
WEEKDAY_WEDNESDAY: Weekday
WEEKDAY_THURSDAY: Weekday
WEEKDAY_FRIDAY: Weekday
WEEKDAY_SATURDAY: Weekday
WEEKDAY_SUNDAY: Weekday

class Service(_message.Message):
    __slots__ = ("id", "name", "type", "default_capacity", "duration", "buffer_after", "timezone", "online_booking", "payment_options", "choices", "booking_policy", "staff_member_ids", "waiting_list", "schedule_id", "location", "created_date", "updated_date")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    BUFFER_AFTER_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    ONLINE_BOOKING_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    WAITING_LIST_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_DATE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: ServiceType
    default_capacity: int
    duration: _duration_pb2.Duration
    buffer_after: _duration_pb2.Duration
    timezone: str
    online_booking: OnlineBooking
    payment_options: _containers.RepeatedScalarFieldContainer[_booking_pb2.SelectedPaymentOption]
    choices: _containers.RepeatedCompositeFieldContainer[ServiceOption]
    booking_policy: BookingPolicy
    staff_member_ids: _containers.RepeatedScalarFieldContainer[str]
    waiting_list: WaitingListPolicy
    schedule_id: str
    location: _booking_pb2.Location
    created_date: _timestamp_pb2.Timestamp
    updated_date: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[ServiceType, str]] = ..., default_capacity: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., buffer_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., timezone: _Optional[str] = ..., online_booking: _Optional[_Union[OnlineBooking, _Mapping]] = ..., payment_options: _Optional[_Iterable[_Union[_booking_pb2.SelectedPaymentOption, str]]] = ..., choices: _Optional[_Iterable[_Union[ServiceOption, _Mapping]]] = ..., booking_policy: _Optional[_Union[BookingPolicy, _Mapping]] = ..., staff_member_ids: _Optional[_Iterable[str]] = ..., waiting_list: _Optional[_Union[WaitingListPolicy, _Mapping]] = ..., schedule_id: _Optional[str] = ..., location: _Optional[_Union[_booking_pb2.Location, _Mapping]] = ..., created_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OnlineBooking(_message.Message):
    __slots__ = ("enabled", "require_manual_approval")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_MANUAL_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    require_manual_approval: bool
    def __init__(self, enabled: _Optional[bool] = ..., require_manual_approval: _Optional[bool] = ...) -> None: ...

class BookingPolicy(_message.Message):
    __slots__ = ("min_notice", "max_advance", "max_participants_per_booking", "cancellation_window")
    MIN_NOTICE_FIELD_NUMBER: _ClassVar[int]
    MAX_ADVANCE_FIELD_NUMBER: _ClassVar[int]
    MAX_PARTICIPANTS_PER_BOOKING_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_WINDOW_FIELD_NUMBER: _ClassVar[int]
    min_notice: _duration_pb2.Duration
    max_advance: _duration_pb2.Duration
    max_participants_per_booking: int
    cancellation_window: _duration_pb2.Duration
    def __init__(self, min_notice: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_advance: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_participants_per_booking: _Optional[int] = ..., cancellation_window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WaitingListPolicy(_message.Message):
    __slots__ = ("enabled", "capacity")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    capacity: int
    def __init__(self, enabled: _Optional[bool] = ..., capacity: _Optional[int] = ...) -> None: ...

class ServiceOption(_message.Message):
    __slots__ = ("id", "name", "type", "custom_choices", "duration_choices")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_CHOICES_FIELD_NUMBER: _ClassVar[int]
    DURATION_CHOICES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    type: ServiceOptionType
    custom_choices: _containers.RepeatedScalarFieldContainer[str]
    duration_choices: _containers.RepeatedCompositeFieldContainer[_booking_pb2.ChoiceDuration]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., type: _Optional[_Union[ServiceOptionType, str]] = ..., custom_choices: _Optional[_Iterable[str]] = ..., duration_choices: _Optional[_Iterable[_Union[_booking_pb2.ChoiceDuration, _Mapping]]] = ...) -> None: ...

class StaffMember(_message.Message):
    __slots__ = ("id", "name", "email", "timezone", "working_hours", "blocked_times", "schedule_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    WORKING_HOURS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_TIMES_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    email: str
    timezone: str
    working_hours: _containers.RepeatedCompositeFieldContainer[WorkingInterval]
    blocked_times: _containers.RepeatedCompositeFieldContainer[BlockedTime]
    schedule_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., timezone: _Optional[str] = ..., working_hours: _Optional[_Iterable[_Union[WorkingInterval, _Mapping]]] = ..., blocked_times: _Optional[_Iterable[_Union[BlockedTime, _Mapping]]] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class WorkingInterval(_message.Message):
    __slots__ = ("day_of_week", "start_time", "end_time")
    DAY_OF_WEEK_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    day_of_week: Weekday
    start_time: str
    end_time: str
    def __init__(self, day_of_week: _Optional[_Union[Weekday, str]] = ..., start_time: _Optional[str] = ..., end_time: _Optional[str] = ...) -> None: ...

class BlockedTime(_message.Message):
    __slots__ = ("start_date", "end_date", "reason")
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class Session(_message.Message):
    __slots__ = ("id", "service_id", "start_date", "end_date", "capacity", "staff_member_id", "location", "timezone", "schedule_id", "recurrence_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    STAFF_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    RECURRENCE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    service_id: str
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    capacity: int
    staff_member_id: str
    location: _booking_pb2.Location
    timezone: str
    schedule_id: str
    recurrence_id: str
    def __init__(self, id: _Optional[str] = ..., service_id: _Optional[str] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., capacity: _Optional[int] = ..., staff_member_id: _Optional[str] = ..., location: _Optional[_Union[_booking_pb2.Location, _Mapping]] = ..., timezone: _Optional[str] = ..., schedule_id: _Optional[str] = ..., recurrence_id: _Optional[str] = ...) -> None: ...
