"""An agreement's obligations are found by their agreement: the case page reads them, and
without an index each read scanned every obligation (27 ms at a million cases).

Revision ID: bcae151f20ff
Revises: 2691ee97f180
Create Date: 2026-11-26 20:28:25.853581

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bcae151f20ff'
down_revision = '2691ee97f180'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index('ix_obligation_agreement_id', ['agreement_id'], unique=False)



def downgrade():
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_agreement_id')

