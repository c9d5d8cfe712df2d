"""channels and their history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("description", sa.String(), nullable=False),
        sa.Column("read_rule", sa.String(300), nullable=False),
        sa.Column("speak_rule", sa.String(300), nullable=False),
        sa.Column("auto_join", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "channel_line",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("talker", sa.String(40), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
    )
    op.create_index("ix_channel_line_channel", "channel_line", ["channel"])


def downgrade() -> None:
    op.drop_index("ix_channel_line_channel", table_name="channel_line")
    op.drop_table("channel_line")
    op.drop_table("channel")
