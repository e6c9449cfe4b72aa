"""A CreateBooking request as plain data, decoded from protobuf by the api layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bookings_server.domain.booking import (
    BookedSchedule,
    BookedSlot,
    BookingStatus,
    ChoiceGroup,
    ContactDetails,
    FlowControl,
    FormField,
)
from bookings_server.domain.catalog import PaymentOption


@dataclass(frozen=True)
class BookingDraft:
    """What the caller asked for, before any rule ran.

    `status` None means "not given" (CREATED); `selected_payment_option` None means not given.
    `request_hash` fingerprints the request body for idempotency (SPEC 3.10).
    """

    slot: BookedSlot | None = None
    schedule: BookedSchedule | None = None
    total_participants: int | None = None
    participants_choices: tuple[ChoiceGroup, ...] | None = None
    status: BookingStatus | None = None
    selected_payment_option: PaymentOption | None = None
    contact: ContactDetails = field(default_factory=ContactDetails)
    additional_fields: tuple[FormField, ...] = ()
    external_user_id: str = ""
    extended_fields: dict[str, dict[str, Any]] = field(default_factory=dict)
    notify_participants: bool = False
    notification_message: str = ""
    send_sms_reminder: bool = False
    flow_control: FlowControl = field(default_factory=FlowControl)
    request_id: str = ""
    request_hash: str = ""
    #: The hold whose spots the booking takes (SPEC section 11), "" if none.
    hold_id: str = ""

    @property
    def service_id(self) -> str:
        if self.slot is not None:
            return self.slot.service_id
        if self.schedule is not None:
            return self.schedule.service_id
        return ""
