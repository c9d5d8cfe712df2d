"""audit log of building changes; descriptions for dreamers and exits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(40), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(), nullable=False),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.add_column(
        "account", sa.Column("description", sa.String(), nullable=False, server_default="")
    )
    op.add_column("exit", sa.Column("description", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("exit") as batch:
        batch.drop_column("description")
    with op.batch_alter_table("account") as batch:
        batch.drop_column("description")
    op.drop_index("ix_audit_at", "audit")
    op.drop_table("audit")
