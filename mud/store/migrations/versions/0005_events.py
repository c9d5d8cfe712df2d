"""event scripts: running instances and flags; hosted loops remember host and invitations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_state",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("flags", sa.String(), nullable=False),
        sa.Column("data", sa.String(), nullable=False),
        sa.Column("wake_at", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    with op.batch_alter_table("loop") as batch:
        batch.add_column(sa.Column("host_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invited", sa.String(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("anchor_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loop") as batch:
        batch.drop_column("anchor_id")
        batch.drop_column("invited")
        batch.drop_column("host_id")
    op.drop_table("event_state")
