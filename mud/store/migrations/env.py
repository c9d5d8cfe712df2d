"""Alembic environment: the Store passes its connection in; no alembic.ini is needed."""

from alembic import context
from sqlmodel import SQLModel

import mud.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=SQLModel.metadata)
with context.begin_transaction():
    context.run_migrations()
