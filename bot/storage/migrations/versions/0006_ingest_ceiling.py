"""ingest at the ceiling: endpoints marked for old dedupe keys; open deliveries indexed

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPEN_DELIVERY = sa.text("state IN ('pending', 'claimed')")


# Keys with a `#n` suffix were written by early versions (their place in the lead's history); no
# version since writes them, so which endpoints have any is settled once, here.
MARK_LEGACY = (
    "UPDATE webhook_endpoints SET legacy_dedupe = 1 WHERE id IN "
    "(SELECT DISTINCT endpoint_id FROM events WHERE kind = 'lead' AND dedupe_key LIKE '%#%')"
)


def upgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(
            sa.Column("legacy_dedupe", sa.Integer(), server_default="0", nullable=False)
        )
    if op.get_bind().dialect.name != "postgresql":
        op.execute(MARK_LEGACY)
        _create_indexes()
        return
    # On a release, the old processes keep taking webhooks meanwhile: the new column is
    # committed at once, and the scan of every event and the index builds then run without a
    # lock that would stop them.
    with op.get_context().autocommit_block():
        op.execute(MARK_LEGACY)
        _create_indexes(concurrently=True)


def _create_indexes(*, concurrently: bool = False) -> None:
    op.create_index(
        "ix_deliveries_open",
        "deliveries",
        ["enterprise_id", "team_id", "channel_id", "id"],
        unique=False,
        sqlite_where=OPEN_DELIVERY,
        postgresql_where=OPEN_DELIVERY,
        postgresql_concurrently=concurrently,
    )
    op.create_index(
        "ix_deliveries_open_lane",
        "deliveries",
        ["subscription_id", "lead_key", "id"],
        unique=False,
        sqlite_where=OPEN_DELIVERY,
        postgresql_where=OPEN_DELIVERY,
        postgresql_concurrently=concurrently,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_open_lane", table_name="deliveries")
    op.drop_index("ix_deliveries_open", table_name="deliveries")
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("legacy_dedupe")
