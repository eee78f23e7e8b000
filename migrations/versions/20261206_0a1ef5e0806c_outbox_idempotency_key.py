"""Each outbox message has a key of its own, sent to the gateway as the message's id on every
attempt, so that a gateway can drop a repeat; messages queued before get one now.

Revision ID: 0a1ef5e0806c
Revises: 029dad4162ed
Create Date: 2026-12-06 21:18:34.412979

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0a1ef5e0806c'
down_revision = '029dad4162ed'
branch_labels = None
depends_on = None

# A random version-4 UUID per row, as 32 hex digits (how SQLAlchemy's Uuid is stored on SQLite).
SQLITE_UUID4 = (
    "lower(hex(randomblob(4)) || hex(randomblob(2)) || '4' || substr(hex(randomblob(2)), 2)"
    " || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2)"
    " || hex(randomblob(6)))"
)


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.Uuid(), nullable=True))

    random_uuid = "gen_random_uuid()" if op.get_bind().dialect.name == "postgresql" else SQLITE_UUID4
    op.execute(f"UPDATE outbox_message SET idempotency_key = {random_uuid}")

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('idempotency_key', existing_type=sa.Uuid(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_idempotency_key'), ['idempotency_key'])


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_idempotency_key'), type_='unique')
        batch_op.drop_column('idempotency_key')
