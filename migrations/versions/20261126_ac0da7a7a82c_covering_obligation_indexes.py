"""The month's statistics read obligations from indexes alone: the due-date index carries
the case and the performance date, the case index the amount.

Revision ID: ac0da7a7a82c
Revises: 82203c7da3da
Create Date: 2026-11-26 18:21:46.889137

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'ac0da7a7a82c'
down_revision = '82203c7da3da'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_obligation_case_id'))
        batch_op.create_index('ix_obligation_case_id', ['case_id', 'amount'], unique=False)
        batch_op.drop_index(batch_op.f('ix_obligation_due_on'))
        batch_op.create_index('ix_obligation_due_on', ['due_on', 'case_id', 'fulfilled_on'], unique=False)



def downgrade():
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_due_on')
        batch_op.create_index(batch_op.f('ix_obligation_due_on'), ['due_on'], unique=False)
        batch_op.drop_index('ix_obligation_case_id')
        batch_op.create_index(batch_op.f('ix_obligation_case_id'), ['case_id'], unique=False)

