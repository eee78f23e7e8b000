"""The integration API (issue 21): its clients, the Idempotency-Keys of referrals, webhook
messages in the outbox, and each case event's writing transaction on PostgreSQL, for the feed
of changed cases (an event is in the feed once every transaction begun before its own ended).
Events written before this revision share the migration's transaction id, which keeps their
order by id.

Revision ID: b4d1e7a0c953
Revises: 76f05116aa65
Create Date: 2026-12-07 00:10:00

"""

import sqlalchemy as sa
from alembic import op

import mediation.database

revision = "b4d1e7a0c953"
down_revision = "76f05116aa65"
branch_labels = None
depends_on = None

CHANNELS = "channel in ('in_app', 'sms', 'email')"
CHANNELS_WITH_WEBHOOK = "channel in ('in_app', 'sms', 'email', 'webhook')"


def upgrade():
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", mediation.database.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", mediation.database.UTCDateTime(), nullable=True),
        sa.Column("window_started_at", mediation.database.UTCDateTime(), nullable=True),
        sa.Column("window_calls", sa.Integer(), nullable=False),
        sa.Column("revoked_at", mediation.database.UTCDateTime(), nullable=True),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_api_client_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("name", name=op.f("uq_api_client_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_client_token_hash")),
    )
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_client_centre_id"), ["centre_id"], unique=False)

    op.create_table(
        "api_idempotency_key",
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", mediation.database.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["dispute_case.id"],
            name=op.f("fk_api_idempotency_key_case_id_dispute_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_api_idempotency_key_client_id_api_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "key", name=op.f("pk_api_idempotency_key")),
    )
    with op.batch_alter_table("api_idempotency_key", schema=None) as batch_op:
        batch_op.create_index("ix_api_idempotency_key_case_id", ["case_id"], unique=False)

    postgresql = op.get_bind().dialect.name == "postgresql"
    # xid8 as a number: 64 bits with the epoch, so it never wraps around.
    txid_default = sa.text("(pg_current_xact_id()::text::bigint)") if postgresql else None
    op.add_column(
        "case_event",
        sa.Column("txid", sa.BigInteger(), nullable=True, server_default=txid_default),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_event_centre_id_txid_id", ["centre_id", "txid", "id"], unique=False
        )

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_known_channel"), type_="check")
        batch_op.create_check_constraint("known_channel", CHANNELS_WITH_WEBHOOK)


def downgrade():
    op.execute("DELETE FROM outbox_message WHERE channel = 'webhook'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_known_channel"), type_="check")
        batch_op.create_check_constraint("known_channel", CHANNELS)
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_centre_id_txid_id")
        batch_op.drop_column("txid")
    with op.batch_alter_table("api_idempotency_key", schema=None) as batch_op:
        batch_op.drop_index("ix_api_idempotency_key_case_id")
    op.drop_table("api_idempotency_key")
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_centre_id"))
    op.drop_table("api_client")
