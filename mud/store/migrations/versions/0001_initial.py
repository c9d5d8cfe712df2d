"""initial schema: accounts, zones, rooms, exits, items, meta

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(), nullable=False),
    )
    op.create_table(
        "zone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_index("ix_zone_key", "zone", ["key"], unique=True)
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("name_key", sa.String(40), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("settings", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_login", sa.Float(), nullable=False),
    )
    op.create_index("ix_account_name_key", "account", ["name_key"], unique=True)
    op.create_table(
        "room",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(64), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("zone", sa.String(64), nullable=False),
        sa.Column("attrs", sa.String(), nullable=False),
    )
    op.create_index("ix_room_key", "room", ["key"])
    op.create_table(
        "exit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("aliases", sa.String(), nullable=False),
        sa.Column("dest_id", sa.Integer(), nullable=True),
        sa.Column("attrs", sa.String(), nullable=False),
    )
    op.create_index("ix_exit_room_id", "exit", ["room_id"])
    op.create_table(
        "item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("keywords", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("attrs", sa.String(), nullable=False),
    )
    op.create_index("ix_item_room_id", "item", ["room_id"])
    op.create_index("ix_item_holder_id", "item", ["holder_id"])


def downgrade() -> None:
    for name in ("item", "exit", "room", "account", "zone", "meta"):
        op.drop_table(name)
