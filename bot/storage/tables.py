"""Table definitions; every row belongs to a workspace (team and, where present, enterprise)."""

from __future__ import annotations

from datetime import UTC, datetime

from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A delivery still to be posted (pending, or claimed by a worker that may have died).
OPEN_STATES = ("pending", "claimed")
# The partial indexes' condition, spelled with constants; queries that use those indexes spell
# it the same way (outbox._open), since SQLite matches the text.
OPEN_DELIVERY = text(f"state IN ({', '.join(repr(state) for state in OPEN_STATES)})")

# SQLite numbers BIGINT keys only when they are INTEGER PRIMARY KEY.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Moment(TypeDecorator[datetime]):
    """A moment in time, always stored and returned as UTC (SQLite drops time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _workspace() -> list[Column[str]]:
    # "" rather than NULL when there is no enterprise, so unique constraints hold.
    return [
        Column("enterprise_id", String(32), nullable=False, server_default=""),
        Column("team_id", String(32), nullable=False),
    ]


# One webhook URL per workspace and campaign, found by its token's hash.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("campaign_id", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    # Kept so that subscribing again shows the same URL instead of breaking it; NULL on rows
    # made before it was kept (revision 0003), whose URL cannot be shown again.
    Column("token", String(64)),
    Column("created_at", Moment(), nullable=False),
    Column("last_received_at", Moment()),
    # 1 when some of its lead events carry an old `#n` dedupe key (set once, by revision 0006):
    # only those endpoints pay for the extra look that spots their redeliveries.
    Column("legacy_dedupe", Integer, nullable=False, server_default="0"),
    UniqueConstraint("enterprise_id", "team_id", "campaign_id", name="uq_endpoint_campaign"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("channel_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    # Lead status codes to post; NULL means every change.
    Column("statuses", JSON),
    Column("created_by", String(32)),
    Column("created_at", Moment(), nullable=False),
    # Set when Slack refused the channel for good (e.g. channel_not_found); delivery stops.
    Column("problem", String(200)),
    Column("problem_at", Moment()),
    UniqueConstraint(
        "enterprise_id", "team_id", "channel_id", "campaign_id", name="uq_subscription_channel"
    ),
)

# Every webhook received, committed before it is answered; dedupe_key spots redeliveries.
events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("dedupe_key", String(250), nullable=False),
    Column("lead_key", String(120), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("received_at", Moment(), nullable=False),
    # The lead's new status, for a Lead webhook; lets a digest count outcomes without the JSON.
    Column("lead_status", Integer),
    # 1 for a change the sweep found: NLPearl never sent it, so the feed's own counts skip it.
    Column("swept", Integer, nullable=False, server_default="0"),
    UniqueConstraint("endpoint_id", "dedupe_key", name="uq_event_dedupe"),
    Index("ix_events_lead", "endpoint_id", "lead_key", "id"),
    Index("ix_events_received", "endpoint_id", "received_at"),
)

# The outbox: one row per event and subscribed channel.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("subscription_id", Id, ForeignKey("subscriptions.id"), nullable=False),
    *_workspace(),
    Column("channel_id", String(32), nullable=False),
    Column("lead_key", String(120), nullable=False),
    # pending → claimed → done | skipped | failed
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Moment(), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", Moment()),
    # Set on the rows of one coalesced post; stays across a crash so the post can be found.
    Column("batch", String(40)),
    Column("reply_ts", String(32)),
    Column("last_error", Text),
    Column("created_at", Moment(), nullable=False),
    Column("finished_at", Moment()),
    Index("ix_deliveries_ready", "state", "next_attempt_at"),
    Index("ix_deliveries_lane", "subscription_id", "lead_key", "id"),
    # A channel's open rows in order, however long the finished history: a claim walks these.
    Index(
        "ix_deliveries_open",
        "enterprise_id",
        "team_id",
        "channel_id",
        "id",
        sqlite_where=OPEN_DELIVERY,
        postgresql_where=OPEN_DELIVERY,
    ),
    # A lane's open rows: whether a row is its lane's head is one look here, whatever the
    # planner knows of the table (without statistics PostgreSQL walked the channel index).
    Index(
        "ix_deliveries_open_lane",
        "subscription_id",
        "lead_key",
        "id",
        sqlite_where=OPEN_DELIVERY,
        postgresql_where=OPEN_DELIVERY,
    ),
    Index("ix_deliveries_batch", "batch"),
)

# The parent message of each lead in each channel, and what it shows.
lead_threads = Table(
    "lead_threads",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("channel_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    Column("lead_key", String(120), nullable=False),
    Column("parent_ts", String(32)),
    # Marks a parent post in flight, so a crash right after Slack accepted it can be reconciled.
    Column("parent_batch", String(40)),
    Column("snapshot", JSON, nullable=False),
    Column("updated_at", Moment(), nullable=False),
    UniqueConstraint(
        "enterprise_id", "team_id", "channel_id", "campaign_id", "lead_key", name="uq_thread_lead"
    ),
)

# When each channel may be posted to next, shared by every worker (Slack allows ~1 post/s).
channel_pacing = Table(
    "channel_pacing",
    metadata,
    Column("enterprise_id", String(32), primary_key=True, server_default=""),
    Column("team_id", String(32), primary_key=True),
    Column("channel_id", String(32), primary_key=True),
    Column("next_post_at", Moment(), nullable=False),
)

# Per-user memory for the lookup modal and the Home tab.
user_preferences = Table(
    "user_preferences",
    metadata,
    Column("enterprise_id", String(32), primary_key=True, server_default=""),
    Column("team_id", String(32), primary_key=True),
    Column("user_id", String(32), primary_key=True),
    Column("last_campaign_id", String(100)),
    Column("last_campaign_name", String(200)),
    Column("updated_at", Moment(), nullable=False),
)

recent_lookups = Table(
    "recent_lookups",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("user_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    Column("lead_id", String(100), nullable=False),
    Column("label", String(200), nullable=False),
    Column("looked_up_at", Moment(), nullable=False),
    UniqueConstraint(
        "enterprise_id", "team_id", "user_id", "campaign_id", "lead_id", name="uq_recent_lookup"
    ),
    Index("ix_recent_lookups_user", "team_id", "user_id", "looked_up_at"),
)

# The audit log of what people did to leads from Slack, refusals included. A keyed row is
# claimed ("pending") before the action is applied, so a double click or a retry applies once.
lead_actions = Table(
    "lead_actions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    # Unique, and NULL (any number of times) on refusals, which nothing needs to find again.
    Column("idempotency_key", String(120), unique=True),
    Column("user_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    Column("lead_id", String(100), nullable=False),
    Column("action", String(16), nullable=False),
    Column("before_status", Integer),
    Column("after_status", Integer),
    Column("changes", JSON, nullable=False),
    # pending → applied | denied | stale | failed
    Column("result", String(16), nullable=False),
    Column("detail", Text),
    Column("created_at", Moment(), nullable=False),
    Column("finished_at", Moment()),
    Index("ix_lead_actions_latest", "team_id", "created_at", "id"),
)

# Who besides workspace admins and owners may act on leads: named people and user groups.
action_grants = Table(
    "action_grants",
    metadata,
    Column("enterprise_id", String(32), primary_key=True, server_default=""),
    Column("team_id", String(32), primary_key=True),
    # "user" or "usergroup"
    Column("subject_kind", String(10), primary_key=True),
    Column("subject_id", String(32), primary_key=True),
    Column("granted_by", String(32), nullable=False),
    Column("granted_at", Moment(), nullable=False),
)

# A channel's daily digest of a campaign, at a time of day in the subscriber's time zone.
digests = Table(
    "digests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("channel_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    # "HH:MM", local to time_zone (an IANA name).
    Column("at_time", String(5), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("created_by", String(32)),
    Column("created_at", Moment(), nullable=False),
    # The next moment a digest is owed; the scheduler moves it on as it queues each one.
    Column("next_due_at", Moment(), nullable=False),
    # Set when Slack refused the channel for good; no more digests are queued.
    Column("problem", String(200)),
    UniqueConstraint("enterprise_id", "team_id", "channel_id", "campaign_id", name="uq_digest"),
    Index("ix_digests_due", "next_due_at"),
)

# Scheduled posts (digests and alerts), each keyed so it is queued once and posted once.
notices = Table(
    "notices",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    *_workspace(),
    Column("channel_id", String(32), nullable=False),
    Column("campaign_id", String(100), nullable=False),
    # "digest" or "alert"
    Column("kind", String(10), nullable=False),
    # What makes it one notice: a digest's id and day, an alert's campaign, kind and start.
    Column("key", String(200), nullable=False, unique=True),
    Column("digest_id", Id),
    # When it was owed (a digest's scheduled moment); a digest sent well after says so.
    Column("due_at", Moment(), nullable=False),
    # The message to post; for a digest, written when it is built and kept across attempts.
    Column("body", JSON),
    # The uploaded chart, kept so that a retry after a crash does not upload it again.
    Column("file_id", String(32)),
    # Carried in the post's metadata, so a retry after a crash finds the post instead.
    Column("marker", String(40), nullable=False),
    # pending → claimed → done | failed
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", Moment(), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", Moment()),
    # Set when an attempt is about to post: the next attempt looks for the post first.
    Column("posting", Integer, nullable=False, server_default="0"),
    Column("ts", String(32)),
    Column("last_error", Text),
    Column("created_at", Moment(), nullable=False),
    Column("finished_at", Moment()),
    Index("ix_notices_ready", "state", "next_attempt_at"),
)

# Each alert condition of each watched campaign: whether it holds, and since when.
alert_states = Table(
    "alert_states",
    metadata,
    Column("enterprise_id", String(32), primary_key=True, server_default=""),
    Column("team_id", String(32), primary_key=True),
    Column("campaign_id", String(100), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("active", Integer, nullable=False),
    Column("since", Moment(), nullable=False),
    Column("detail", JSON),
    Column("checked_at", Moment(), nullable=False),
)

# Periodic work shared by every process: whoever claims a due job runs it, once.
jobs = Table(
    "jobs",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("next_run_at", Moment(), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", Moment()),
    # Where a job left off (a sweep's page), so a long pass spans several runs.
    Column("progress", JSON),
)

# The status the sweep last saw for each lead, so it posts only changes, never history.
swept_leads = Table(
    "swept_leads",
    metadata,
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), primary_key=True),
    Column("lead_id", String(100), primary_key=True),
    Column("status", Integer),
    Column("seen_at", Moment(), nullable=False),
)

# Each workspace's NLPearl account. The secret is sealed (see sealing.py), never kept plain.
nlpearl_accounts = Table(
    "nlpearl_accounts",
    metadata,
    Column("enterprise_id", String(32), primary_key=True, server_default=""),
    Column("team_id", String(32), primary_key=True),
    Column("account_id", String(200), nullable=False),
    Column("secret", Text, nullable=False),
    Column("account_name", String(200)),
    Column("connected_by", String(32)),
    Column("connected_at", Moment(), nullable=False),
)

# slack_sdk's OAuth tables, as its stores define them (naive UTC times; NULL, not "", for no
# enterprise or team). Built by slack_sdk itself, so that the migrated schema is compared with
# the version installed: one that changes them fails the schema test until a migration follows.
slack_installations = AsyncSQLAlchemyInstallationStore.build_installations_table(
    metadata, AsyncSQLAlchemyInstallationStore.default_installations_table_name
)
slack_bots = AsyncSQLAlchemyInstallationStore.build_bots_table(
    metadata, AsyncSQLAlchemyInstallationStore.default_bots_table_name
)
slack_oauth_states = AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(
    metadata, AsyncSQLAlchemyOAuthStateStore.default_table_name
)

# An event's deliveries, which pruning old events deletes first (PostgreSQL indexes no foreign
# key by itself; without this each batch would read every delivery).
Index("ix_deliveries_event", deliveries.c.event_id)
