"""lookup memory: each user's last campaign and recent lookups

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_preferences",
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("last_campaign_id", sa.String(length=100), nullable=True),
        sa.Column("last_campaign_name", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "team_id", "user_id", name=op.f("pk_user_preferences")
        ),
    )
    op.create_table(
        "recent_lookups",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("lead_id", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("looked_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recent_lookups")),
        sa.UniqueConstraint(
            "enterprise_id", "team_id", "user_id", "campaign_id", "lead_id", name="uq_recent_lookup"
        ),
    )
    op.create_index(
        "ix_recent_lookups_user", "recent_lookups", ["team_id", "user_id", "looked_up_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_recent_lookups_user", table_name="recent_lookups")
    op.drop_table("recent_lookups")
    op.drop_table("user_preferences")
