"""The dashboard's deadline and triage queues read their indexes in (date, id) order: with
the warning time before the id, PostgreSQL sorted every case due so far to show the first ten
(10 ms at a million cases).

Revision ID: 029dad4162ed
Revises: bcae151f20ff
Create Date: 2026-11-26 21:12:44.748799

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '029dad4162ed'
down_revision = 'bcae151f20ff'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_centre_deadline'))
        batch_op.create_index('ix_case_centre_deadline', ['centre_id', 'state', 'deadline_on', 'id', 'warned_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_case_centre_triage_due'))
        batch_op.create_index('ix_case_centre_triage_due', ['centre_id', 'state', 'triage_due_on', 'id', 'triage_warned_at'], unique=False)



def downgrade():
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_centre_triage_due')
        batch_op.create_index(batch_op.f('ix_case_centre_triage_due'), ['centre_id', 'state', 'triage_due_on', 'triage_warned_at'], unique=False)
        batch_op.drop_index('ix_case_centre_deadline')
        batch_op.create_index(batch_op.f('ix_case_centre_deadline'), ['centre_id', 'state', 'deadline_on', 'warned_at'], unique=False)

