"""The Booking (SPEC section 2) as plain data, and its enums."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bookings_server.domain.catalog import Location, PaymentOption
from bookings_server.domain.identity import IdentityType


class BookingStatus(enum.Enum):
    CREATED = "CREATED"
    CONFIRMED = "CONFIRMED"
    CANCELED = "CANCELED"
    PENDING = "PENDING"
    DECLINED = "DECLINED"
    WAITING_LIST = "WAITING_LIST"

    @property
    def takes_capacity(self) -> bool:
        """CONFIRMED and PENDING bookings hold their spots; nothing else does."""
        return self in (BookingStatus.CONFIRMED, BookingStatus.PENDING)


class PaymentStatus(enum.Enum):
    UNDEFINED = "UNDEFINED"
    NOT_PAID = "NOT_PAID"
    PAID = "PAID"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    REFUNDED = "REFUNDED"
    EXEMPT = "EXEMPT"


class EventType(enum.Enum):
    BOOKING_CREATED = "BOOKING_CREATED"
    BOOKING_CONFIRMED = "BOOKING_CONFIRMED"
    BOOKING_DECLINED = "BOOKING_DECLINED"
    BOOKING_CANCELED = "BOOKING_CANCELED"
    BOOKING_PENDING = "BOOKING_PENDING"
    BOOKING_RESCHEDULED = "BOOKING_RESCHEDULED"
    BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED = "BOOKING_NUMBER_OF_PARTICIPANTS_UPDATED"
    BOOKING_WAITING_LIST_SPOT_OFFERED = "BOOKING_WAITING_LIST_SPOT_OFFERED"


@dataclass(frozen=True)
class SlotResource:
    id: str = ""
    name: str = ""
    email: str = ""
    schedule_id: str = ""


@dataclass(frozen=True)
class BookedSlot:
    service_id: str
    start: datetime | None = None
    end: datetime | None = None
    timezone: str = ""
    session_id: str = ""
    schedule_id: str = ""
    resource: SlotResource = field(default_factory=SlotResource)
    location: Location = field(default_factory=Location)


@dataclass(frozen=True)
class BookedSchedule:
    service_id: str
    schedule_id: str = ""
    timezone: str = ""
    first_session_start: datetime | None = None
    last_session_end: datetime | None = None


@dataclass(frozen=True)
class ContactDetails:
    contact_id: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    time_zone: str = ""
    country_code: str = ""


@dataclass(frozen=True)
class FormField:
    id: str
    value: str = ""
    label: str = ""
    #: SHORT_TEXT, LONG_TEXT or CHECK_BOX; "" when not given.
    value_type: str = ""


@dataclass(frozen=True)
class Choice:
    """One choice for one service option: a custom value or a duration in minutes."""

    option_id: str
    custom: str | None = None
    duration_minutes: int | None = None
    duration_name: str = ""


@dataclass(frozen=True)
class ChoiceGroup:
    number_of_participants: int
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class Actor:
    identity_type: IdentityType
    identity_id: str


@dataclass(frozen=True)
class FlowControl:
    """Overrides recorded at create time; they also govern ConfirmOrDeclineBooking."""

    skip_availability_validation: bool = False
    skip_business_confirmation: bool = False
    skip_selected_payment_option_validation: bool = False
    ignore_booking_policy: bool = False


@dataclass(frozen=True)
class Booking:
    """A booking of a slot (`slot` set) or a whole course schedule (`schedule` set).

    Exactly one of `total_participants` / `participants_choices` is set as given by the caller;
    `participants` is the resolved head count either way.
    """

    id: str
    site_id: str
    status: BookingStatus
    payment_status: PaymentStatus
    participants: int
    revision: int
    created_by: Actor
    slot: BookedSlot | None = None
    schedule: BookedSchedule | None = None
    title: str = ""
    tags: tuple[str, ...] = ()
    contact: ContactDetails = field(default_factory=ContactDetails)
    additional_fields: tuple[FormField, ...] = ()
    total_participants: int | None = None
    participants_choices: tuple[ChoiceGroup, ...] | None = None
    selected_payment_option: PaymentOption | None = None
    start: datetime | None = None
    end: datetime | None = None
    external_user_id: str = ""
    notify_participants: bool = False
    notification_message: str = ""
    send_sms_reminder: bool = False
    extended_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    double_booked: bool = False
    flow_control: FlowControl = field(default_factory=FlowControl)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    #: The hold the booking was made from (SPEC section 11), "" if none.
    hold_id: str = ""
    #: A WAITING_LIST booking's place in its unit's line (ascending; set when it joins and
    #: again, at the back, when an offer of it runs out); None off the list.
    line_position: int | None = None
    #: Until when a freed spot is kept for this WAITING_LIST booking (SPEC section 10).
    offer_expires: datetime | None = None

    @property
    def service_id(self) -> str:
        if self.slot is not None:
            return self.slot.service_id
        assert self.schedule is not None
        return self.schedule.service_id
