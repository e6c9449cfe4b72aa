"""Holds (SPEC section 11): spots reserved for a short checkout.

Like a booking row, a hold keeps in columns what capacity counts filter on (the unit, the
interval, the participants) and the resolved slot or schedule in `data` as JSON. A hold counts
while `released` is false and `expires_date` is after the time of the count.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bookings_server.store.models.base import Base
from bookings_server.store.types import UTCDateTime


class HoldRow(Base):
    __tablename__ = "holds"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    #: "SLOT" or "SCHEDULE", as for bookings.
    entity: Mapped[str] = mapped_column(String)
    service_id: Mapped[str] = mapped_column(String)
    session_id: Mapped[str | None] = mapped_column(String)
    schedule_id: Mapped[str | None] = mapped_column(String)
    staff_member_id: Mapped[str | None] = mapped_column(String)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    participants: Mapped[int] = mapped_column(Integer)
    expires_date: Mapped[datetime] = mapped_column(UTCDateTime)
    released: Mapped[bool] = mapped_column(Boolean)
    #: The booking made from the hold, if any.
    booking_id: Mapped[str | None] = mapped_column(String)
    request_id: Mapped[str | None] = mapped_column(String)
    request_hash: Mapped[str | None] = mapped_column(String)
    created_date: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("site_id", "request_id"),
        Index(None, "site_id", "session_id", "expires_date"),
        Index(None, "site_id", "schedule_id", "expires_date"),
        Index(None, "site_id", "staff_member_id", "start_date"),
    )
