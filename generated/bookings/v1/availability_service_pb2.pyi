import datetime

from bookings.v1 import booking_pb2 as _booking_pb2
from bookings.v1 import options_pb2 as _options_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryAvailabilityRequest(_message.Message):
    __slots__ = ("service_id", "start_date", "end_date", "timezone", "resource_id", "bookable", "open_spots", "slots_per_day", "page_size", "page_token")
    SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    SLOTS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    service_id: _containers.RepeatedScalarFieldContainer[str]
    start_date: _timestamp_pb2.Timestamp
    end_date: _timestamp_pb2.Timestamp
    timezone: str
    resource_id: _containers.RepeatedScalarFieldContainer[str]
    bookable: bool
    open_spots: int
    slots_per_day: int
    page_size: int
    page_token: str
    def __init__(self, service_id: _Optional[_Iterable[str]] = ..., start_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., timezone: _Optional[str] = ..., resource_id: _Optional[_Iterable[str]] = ..., bookable: _Optional[bool] = ..., open_spots: _Optional[int] = ..., slots_per_day: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QueryAvailabilityResponse(_message.Message):
    __slots__ = ("availability_entries", "next_page_token", "timezone")
    AVAILABILITY_ENTRIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    availability_entries: _containers.RepeatedCompositeFieldContainer[SlotAvailability]
    next_page_token: str
    timezone: str
    def __init__(self, availability_entries: _Optional[_Iterable[_Union[SlotAvailability, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., timezone: _Optional[str] = ...) -> None: ...

class SlotAvailability(_message.Message):
    __slots__ = ("slot", "bookable", "total_spots", "open_spots", "waiting_list", "booking_policy_violations", "locked", "local_start_date", "local_end_date", "schedule_id")
    SLOT_FIELD_NUMBER: _ClassVar[int]
    BOOKABLE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SPOTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    WAITING_LIST_FIELD_NUMBER: _ClassVar[int]
    BOOKING_POLICY_VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FIELD_NUMBER: _ClassVar[int]
    LOCAL_START_DATE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_END_DATE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    slot: _booking_pb2.BookedSlot
    bookable: bool
    total_spots: int
    open_spots: int
    waiting_list: WaitingList
    booking_policy_violations: BookingPolicyViolations
    locked: bool
    local_start_date: str
    local_end_date: str
    schedule_id: str
    def __init__(self, slot: _Optional[_Union[_booking_pb2.BookedSlot, _Mapping]] = ..., bookable: _Optional[bool] = ..., total_spots: _Optional[int] = ..., open_spots: _Optional[int] = ..., waiting_list: _Optional[_Union[WaitingList, _Mapping]] = ..., booking_policy_violations: _Optional[_Union[BookingPolicyViolations, _Mapping]] = ..., locked: _Optional[bool] = ..., local_start_date: _Optional[str] = ..., local_end_date: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class WaitingList(_message.Message):
    __slots__ = ("total_spots", "open_spots")
    TOTAL_SPOTS_FIELD_NUMBER: _ClassVar[int]
    OPEN_SPOTS_FIELD_NUMBER: _ClassVar[int]
    total_spots: int
    open_spots: int
    def __init__(self, total_spots: _Optional[int] = ..., open_spots: _Optional[int] = ...) -> None: ...

class BookingPolicyViolations(_message.Message):
    __slots__ = ("too_early_to_book", "too_late_to_book", "book_online_disabled")
    TOO_EARLY_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    TOO_LATE_TO_BOOK_FIELD_NUMBER: _ClassVar[int]
    BOOK_ONLINE_DISABLED_FIELD_NUMBER: _ClassVar[int]
    too_early_to_book: bool
    too_late_to_book: bool
    book_online_disabled: bool
    def __init__(self, too_early_to_book: _Optional[bool] = ..., too_late_to_book: _Optional[bool] = ..., book_online_disabled: _Optional[bool] = ...) -> None: ...
