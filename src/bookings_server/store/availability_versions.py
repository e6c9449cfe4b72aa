"""The availability versions of one site (migration 0008): read in one statement.

Nothing here writes them: the database's triggers bump them with every write that can change
availability, so no code path can forget to (domain/availability/versions.py names the keys).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import JSON, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import String

from bookings_server.store.models.availability_versions import AvailabilityVersionRow

_versions: Table = AvailabilityVersionRow.__table__  # type: ignore[assignment]
_BY_SITE = _versions.c.site_id == bindparam("site_id")
#: One bound parameter for all the keys, so the statement's text never changes with their
#: number (an expanding IN is rendered afresh on every execution): a JSON array on SQLite,
#: an array on PostgreSQL.
_SELECT_VERSIONS = {
    "sqlite": select(_versions.c.key, _versions.c.version).where(
        _BY_SITE,
        _versions.c.key.in_(
            select(func.json_each(bindparam("keys", type_=JSON)).table_valued("value").c.value)
        ),
    ),
    "postgresql": select(_versions.c.key, _versions.c.version).where(
        _BY_SITE, _versions.c.key == func.any(bindparam("keys", type_=ARRAY(String)))
    ),
}


class AvailabilityVersions:
    """The site's availability versions, in one transaction."""

    def __init__(self, session: Session, site_id: str) -> None:
        self._session = session
        self._site_id = site_id

    def read(self, keys: Collection[str]) -> dict[str, int]:
        """The version of each key (0 for a key never bumped)."""
        if not keys:
            return {}
        connection = self._session.connection()
        statement = _SELECT_VERSIONS[connection.dialect.name]
        rows = connection.execute(statement, {"site_id": self._site_id, "keys": list(keys)})
        found = dict.fromkeys(keys, 0)
        found.update((key, int(version)) for key, version in rows)
        return found
