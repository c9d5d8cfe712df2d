"""private dreams, shared loops and their narratives

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dream",
        sa.Column("owner_id", sa.Integer(), primary_key=True),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("rooms", sa.String(), nullable=False),
        sa.Column("wake_room_id", sa.Integer(), nullable=True),
        sa.Column("guests", sa.String(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("admin_visits", sa.String(), nullable=False),
    )
    op.create_table(
        "loop",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("room_id", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("participants", sa.String(), nullable=False),
        sa.Column("former", sa.String(), nullable=False),
        sa.Column("stability", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
    )
    op.create_table(
        "narrative",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("loop_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
    )
    op.create_index("ix_narrative_loop_id", "narrative", ["loop_id"])


def downgrade() -> None:
    for name in ("narrative", "loop", "dream"):
        op.drop_table(name)
