"""The availability versions table (migration 0008; store/availability_versions.py)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from bookings_server.store.models.base import Base


class AvailabilityVersionRow(Base):
    """How many committed writes have touched one thing of a site's availability.

    `key` names it: `catalog` (any catalog change of the site), `staff/<id>/<UTC date>` (an
    appointment of a staff member on that day), `session/<id>`, `schedule/<id>`. No row
    means version 0.
    """

    __tablename__ = "availability_versions"

    site_id: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
