"""mail: letters between dreamers

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("to_id", sa.Integer(), nullable=False),
        sa.Column("from_id", sa.Integer(), nullable=True),
        sa.Column("from_name", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(80), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_mail_to_id", "mail", ["to_id"])


def downgrade() -> None:
    op.drop_index("ix_mail_to_id", "mail")
    op.drop_table("mail")
