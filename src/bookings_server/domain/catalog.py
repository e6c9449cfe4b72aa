"""The catalog availability is computed from: services, staff members, sessions (SPEC 6).

Plain data: the store builds these from rows, the api layer from and to protobuf. Instants are
timezone-aware UTC datetimes; wall-clock times are `datetime.time` in the entity's zone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta


class ServiceType(enum.Enum):
    APPOINTMENT = "APPOINTMENT"
    CLASS = "CLASS"
    COURSE = "COURSE"


class PaymentOption(enum.Enum):
    """The SelectedPaymentOption values."""

    UNDEFINED = "UNDEFINED"
    OFFLINE = "OFFLINE"
    ONLINE = "ONLINE"
    MEMBERSHIP = "MEMBERSHIP"
    MEMBERSHIP_OFFLINE = "MEMBERSHIP_OFFLINE"


class OptionType(enum.Enum):
    CUSTOM = "CUSTOM"
    DURATION = "DURATION"


class LocationType(enum.Enum):
    OWNER_BUSINESS = "OWNER_BUSINESS"
    OWNER_CUSTOM = "OWNER_CUSTOM"
    CUSTOM = "CUSTOM"


@dataclass(frozen=True)
class Location:
    id: str = ""
    name: str = ""
    formatted_address: str = ""
    location_type: LocationType | None = None


@dataclass(frozen=True)
class DurationChoice:
    minutes: int
    name: str = ""


@dataclass(frozen=True)
class ServiceOption:
    """An option customers choose a value for when booking with participants_choices."""

    id: str
    name: str
    type: OptionType
    custom_choices: tuple[str, ...] = ()
    duration_choices: tuple[DurationChoice, ...] = ()


@dataclass(frozen=True)
class BookingPolicy:
    min_notice: timedelta = timedelta(0)
    max_advance: timedelta | None = None
    #: 0 means "up to the capacity".
    max_participants_per_booking: int = 0
    cancellation_window: timedelta = timedelta(0)


#: How long a freed spot is kept for the next in line unless the service says otherwise.
DEFAULT_RESERVATION_TIME = timedelta(minutes=30)


@dataclass(frozen=True)
class WaitingListPolicy:
    enabled: bool = False
    #: Participants the list holds; 0 means no limit.
    capacity: int = 0
    #: How long a freed spot is kept for the next in line (SPEC section 10).
    reservation_time: timedelta = DEFAULT_RESERVATION_TIME


@dataclass(frozen=True)
class Service:
    id: str
    site_id: str
    name: str
    type: ServiceType
    timezone: str
    schedule_id: str
    default_capacity: int = 1
    duration: timedelta | None = None
    buffer_after: timedelta = timedelta(0)
    online_booking_enabled: bool = True
    require_manual_approval: bool = False
    #: Empty accepts any payment option.
    payment_options: frozenset[PaymentOption] = frozenset()
    choices: tuple[ServiceOption, ...] = ()
    policy: BookingPolicy = field(default_factory=BookingPolicy)
    waiting_list: WaitingListPolicy = field(default_factory=WaitingListPolicy)
    staff_member_ids: tuple[str, ...] = ()
    location: Location = field(default_factory=Location)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    #: When the service was deleted; None while it exists.
    deleted_date: datetime | None = None


@dataclass(frozen=True)
class WorkingInterval:
    """Weekly working hours: `weekday` 0 = Monday ... 6 = Sunday (datetime.weekday()).

    `end` of None means midnight at the end of the day ("24:00").
    """

    weekday: int
    start: time
    end: time | None


@dataclass(frozen=True)
class BlockedTime:
    start: datetime
    end: datetime
    reason: str = ""


@dataclass(frozen=True)
class StaffMember:
    id: str
    site_id: str
    name: str
    timezone: str
    schedule_id: str
    email: str = ""
    working_hours: tuple[WorkingInterval, ...] = ()
    blocked_times: tuple[BlockedTime, ...] = ()
    #: When the staff member was deleted; None while they exist.
    deleted_date: datetime | None = None


@dataclass(frozen=True)
class Session:
    """One class or course session. `capacity` is already resolved (never 0)."""

    id: str
    site_id: str
    service_id: str
    start: datetime
    end: datetime
    capacity: int
    timezone: str
    schedule_id: str
    staff_member_id: str = ""
    location: Location = field(default_factory=Location)
    recurrence_id: str = ""
    #: True when `capacity` is the service's default_capacity (the session sets none).
    capacity_from_service: bool = False
    #: True when `location` is the service's location (the session sets none).
    location_from_service: bool = False
    #: When the session was deleted; None while it exists.
    deleted_date: datetime | None = None


@dataclass(frozen=True)
class SessionSpec:
    """What a caller gives to create or update a session.

    `capacity` None takes the service's default_capacity, `location` None the service's
    location, both also when the service changes later.
    """

    service_id: str
    start: datetime
    end: datetime
    capacity: int | None = None
    staff_member_id: str = ""
    location: Location | None = None
