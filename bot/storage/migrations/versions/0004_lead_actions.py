"""lead actions: the audit log of actions on leads, and who may take them

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "lead_actions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("idempotency_key", sa.String(length=120), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("lead_id", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("before_status", sa.Integer(), nullable=True),
        sa.Column("after_status", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_actions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_lead_actions_idempotency_key")),
    )
    op.create_index(
        "ix_lead_actions_latest", "lead_actions", ["team_id", "created_at", "id"], unique=False
    )
    op.create_table(
        "action_grants",
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("subject_kind", sa.String(length=10), nullable=False),
        sa.Column("subject_id", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=32), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "team_id", "subject_kind", "subject_id", name=op.f("pk_action_grants")
        ),
    )


def downgrade() -> None:
    op.drop_table("action_grants")
    op.drop_index("ix_lead_actions_latest", table_name="lead_actions")
    op.drop_table("lead_actions")
