"""Catalog tables: services, staff members with their hours and blocked times, sessions.

Every table is keyed by (site_id, id) and every reference carries the site, so a row can only
ever point at rows of its own site. `import_key` is the stable key `bookings catalog import`
matches on (NULL for entities created through the API).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bookings_server.store.models.base import Base
from bookings_server.store.types import UTCDateTime


class ServiceRow(Base):
    __tablename__ = "services"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    import_key: Mapped[str | None] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    type: Mapped[str] = mapped_column(String)
    timezone: Mapped[str] = mapped_column(String)
    schedule_id: Mapped[str] = mapped_column(String)
    default_capacity: Mapped[int]
    duration_seconds: Mapped[int | None]
    buffer_after_seconds: Mapped[int]
    online_booking_enabled: Mapped[bool]
    require_manual_approval: Mapped[bool]
    payment_options: Mapped[list[str]] = mapped_column(JSON)
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    min_notice_seconds: Mapped[int]
    max_advance_seconds: Mapped[int | None]
    max_participants_per_booking: Mapped[int]
    cancellation_window_seconds: Mapped[int]
    waiting_list_enabled: Mapped[bool]
    waiting_list_capacity: Mapped[int]
    waiting_list_reservation_seconds: Mapped[int]
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_date: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_date: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_date: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("site_id", "schedule_id"),
        UniqueConstraint("site_id", "import_key"),
        Index(None, "site_id", "name", "id"),
    )


class StaffMemberRow(Base):
    __tablename__ = "staff_members"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    import_key: Mapped[str | None] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    email: Mapped[str] = mapped_column(String)
    timezone: Mapped[str] = mapped_column(String)
    schedule_id: Mapped[str] = mapped_column(String)
    created_date: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_date: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_date: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("site_id", "schedule_id"),
        UniqueConstraint("site_id", "import_key"),
        Index(None, "site_id", "name", "id"),
    )


class ServiceStaffRow(Base):
    """Which staff members give a service, in the order the service lists them."""

    __tablename__ = "service_staff_members"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    service_id: Mapped[str] = mapped_column(String, primary_key=True)
    staff_member_id: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int]

    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "service_id"], ["services.site_id", "services.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            ondelete="CASCADE",
        ),
        Index(None, "site_id", "staff_member_id"),
    )


class WorkingHoursRow(Base):
    """One weekly interval; minutes since local midnight, `end_minute` 1440 is "24:00"."""

    __tablename__ = "staff_working_hours"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    staff_member_id: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            ondelete="CASCADE",
        ),
    )


class BlockedTimeRow(Base):
    __tablename__ = "staff_blocked_times"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    staff_member_id: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String)

    __table_args__ = (
        ForeignKeyConstraint(
            ["site_id", "staff_member_id"],
            ["staff_members.site_id", "staff_members.id"],
            ondelete="CASCADE",
        ),
    )


class SessionRow(Base):
    """A class or course session. NULL capacity / location follow the service's."""

    __tablename__ = "sessions"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    id: Mapped[str] = mapped_column(String, primary_key=True)
    import_key: Mapped[str | None] = mapped_column(String)
    service_id: Mapped[str] = mapped_column(String)
    start_date: Mapped[datetime] = mapped_column(UTCDateTime)
    end_date: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None]
    staff_member_id: Mapped[str | None] = mapped_column(String)
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recurrence_id: Mapped[str] = mapped_column(String)
    created_date: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_date: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_date: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        ForeignKeyConstraint(["site_id", "service_id"], ["services.site_id", "services.id"]),
        ForeignKeyConstraint(
            ["site_id", "staff_member_id"], ["staff_members.site_id", "staff_members.id"]
        ),
        UniqueConstraint("site_id", "import_key"),
        Index(None, "site_id", "service_id", "start_date"),
        Index(None, "site_id", "start_date", "id"),
    )


class CapacityLockRow(Base):
    """One row per capacity unit ("session:<id>", "staff:<id>", ...), locked by writers."""

    __tablename__ = "capacity_locks"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    unit_key: Mapped[str] = mapped_column(String, primary_key=True)
