"""SQLAlchemy models. Importing this package registers every model module's tables on
`Base.metadata` (each module in this package is imported, so a new one needs no wiring)."""

from __future__ import annotations

import importlib
import pkgutil

from bookings_server.store.models.base import Base

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["Base"]
