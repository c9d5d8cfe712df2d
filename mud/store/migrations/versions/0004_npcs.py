"""non-player characters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "npc",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("short", sa.String(), nullable=False),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("flags", sa.String(), nullable=False),
    )
    op.create_index("ix_npc_key", "npc", ["key"], unique=True)


def downgrade() -> None:
    op.drop_table("npc")
