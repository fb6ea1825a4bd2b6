"""campaign watch: daily digests, alerts, scheduled notices, periodic jobs and the sweep

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _workspace() -> list[sa.Column[str]]:
    return [
        sa.Column("enterprise_id", sa.String(length=32), server_default="", nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
    ]


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("lead_status", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("swept", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_events_received", "events", ["endpoint_id", "received_at"], unique=False)
    op.create_table(
        "digests",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        *_workspace(),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("at_time", sa.String(length=5), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("problem", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
        sa.UniqueConstraint(
            "enterprise_id", "team_id", "channel_id", "campaign_id", name="uq_digest"
        ),
    )
    op.create_index("ix_digests_due", "digests", ["next_due_at"], unique=False)
    op.create_table(
        "notices",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        *_workspace(),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("digest_id", Id, nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("marker", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("posting", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("key", name=op.f("uq_notices_key")),
    )
    op.create_index("ix_notices_ready", "notices", ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "alert_states",
        *_workspace(),
        sa.Column("campaign_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "enterprise_id", "team_id", "campaign_id", "kind", name=op.f("pk_alert_states")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("next_run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_jobs")),
    )
    op.create_table(
        "swept_leads",
        sa.Column("endpoint_id", Id, nullable=False),
        sa.Column("lead_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["webhook_endpoints.id"],
            name=op.f("fk_swept_leads_endpoint_id_webhook_endpoints"),
        ),
        sa.PrimaryKeyConstraint("endpoint_id", "lead_id", name=op.f("pk_swept_leads")),
    )


def downgrade() -> None:
    op.drop_table("swept_leads")
    op.drop_table("jobs")
    op.drop_table("alert_states")
    op.drop_index("ix_notices_ready", table_name="notices")
    op.drop_table("notices")
    op.drop_index("ix_digests_due", table_name="digests")
    op.drop_table("digests")
    op.drop_index("ix_events_received", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("swept")
        batch.drop_column("lead_status")
