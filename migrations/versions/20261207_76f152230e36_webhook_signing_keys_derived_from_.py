"""A webhook's signing key is derived from the app's SECRET_KEY and a random salt kept on the
client (`webhook_salt`), no longer stored itself (issue 22): a copy of the database alone cannot
sign a delivery. A key stored before (`webhook_secret`) signs until the webhook is registered
again. On SQLite the column is added in place (no table copy). Going back, each derived key is
written out as a stored one, so that the webhooks keep their keys.

Revision ID: 76f152230e36
Revises: 840d54eab8dc
Create Date: 2026-12-07 15:39:33

"""

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "76f152230e36"
down_revision = "840d54eab8dc"
branch_labels = None
depends_on = None

API_CLIENT = sa.table(
    "api_client",
    sa.column("id", sa.Integer),
    sa.column("webhook_salt", sa.String),
    sa.column("webhook_secret", sa.String),
)


def upgrade():
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_salt", sa.String(length=32), nullable=True))


def downgrade():
    # The key as mediation.api.webhooks.signing_key derives it at this revision.
    secret_key = current_app.config["SECRET_KEY"].encode()
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(API_CLIENT.c.id, API_CLIENT.c.webhook_salt).where(
            API_CLIENT.c.webhook_salt.is_not(None)
        )
    ).all()
    for client_id, salt in rows:
        key = hmac.new(secret_key, f"webhook:{salt}".encode(), hashlib.sha256).hexdigest()
        connection.execute(
            sa.update(API_CLIENT).where(API_CLIENT.c.id == client_id).values(webhook_secret=key)
        )
    with op.batch_alter_table("api_client", schema=None) as batch_op:
        batch_op.drop_column("webhook_salt")
