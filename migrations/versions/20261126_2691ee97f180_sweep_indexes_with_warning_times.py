"""The deadline sweep's indexes carry the warning times: with nothing due, the hourly
sweep sees from the index alone that the cases near their deadlines were warned already.

Revision ID: 2691ee97f180
Revises: ac0da7a7a82c
Create Date: 2026-11-26 18:45:24.581263

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2691ee97f180'
down_revision = 'ac0da7a7a82c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_centre_deadline'))
        batch_op.create_index('ix_case_centre_deadline', ['centre_id', 'state', 'deadline_on', 'warned_at'], unique=False)
        batch_op.drop_index(batch_op.f('ix_case_centre_triage_due'))
        batch_op.create_index('ix_case_centre_triage_due', ['centre_id', 'state', 'triage_due_on', 'triage_warned_at'], unique=False)



def downgrade():
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_centre_triage_due')
        batch_op.create_index(batch_op.f('ix_case_centre_triage_due'), ['centre_id', 'state', 'triage_due_on'], unique=False)
        batch_op.drop_index('ix_case_centre_deadline')
        batch_op.create_index(batch_op.f('ix_case_centre_deadline'), ['centre_id', 'state', 'deadline_on'], unique=False)

