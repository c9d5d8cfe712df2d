"""Persistence: sqlmodel tables, Alembic migrations and the one group-commit writer."""

from mud.store.lock import DatabaseInUse
from mud.store.writer import DatabaseUnavailable, Store

__all__ = ["DatabaseInUse", "DatabaseUnavailable", "Store"]
