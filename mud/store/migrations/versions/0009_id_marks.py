"""id high-water marks: ids of destroyed things are never handed out again

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Each id space the World hands out, and the table whose rows use it. An existing database
# starts above its highest row: ids destroyed before this migration can't be known.
SPACES = ("zone", "room", "exit", "item", "account", "audit", "npc", "ban", "mail")


def upgrade() -> None:
    op.create_table(
        "id_mark",
        sa.Column("space", sa.String(16), primary_key=True),
        sa.Column("next_id", sa.Integer(), nullable=False, server_default="1"),
    )
    for space in SPACES:
        op.execute(
            # (the names are the fixed SPACES above, never input)
            f"INSERT INTO id_mark (space, next_id) "
            f"SELECT '{space}', COALESCE(MAX(id), 0) + 1 FROM {space}"
        )


def downgrade() -> None:
    op.drop_table("id_mark")
