"""The registration form's one-time token (no case registered twice by a resubmitted form),
and list indexes ending in (registered_at, id) for each filter, plus past outcomes per mediator.

Revision ID: 701930336c5f
Revises: 4b58567c444e
Create Date: 2026-11-26 15:37:47.544593

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '701930336c5f'
down_revision = '4b58567c444e'
branch_labels = None
depends_on = None


def upgrade():

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake_token', sa.String(length=32), nullable=True))
        batch_op.drop_index(batch_op.f('ix_case_centre_organization'))
        batch_op.drop_index(batch_op.f('ix_case_centre_state_id'))
        batch_op.drop_index(batch_op.f('ix_case_centre_category'))
        batch_op.create_index('ix_case_centre_category', ['centre_id', 'category_code', 'registered_at', 'id'], unique=False)
        batch_op.create_index('ix_case_centre_state_registered', ['centre_id', 'state', 'registered_at', 'id'], unique=False)
        batch_op.create_index('ix_case_concluded_mediator', ['concluded_mediator_id', 'outcome'], unique=False)
        batch_op.create_index('ix_case_mediator_registered', ['mediator_id', 'registered_at', 'id'], unique=False)
        batch_op.create_index('ix_case_organization_registered', ['organization_id', 'registered_at', 'id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_dispute_case_intake_token'), ['intake_token'])




def downgrade():

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_dispute_case_intake_token'), type_='unique')
        batch_op.drop_index('ix_case_organization_registered')
        batch_op.drop_index('ix_case_mediator_registered')
        batch_op.drop_index('ix_case_concluded_mediator')
        batch_op.drop_index('ix_case_centre_state_registered')
        batch_op.drop_index('ix_case_centre_category')
        batch_op.create_index(batch_op.f('ix_case_centre_category'), ['centre_id', 'category_code', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_centre_state_id'), ['centre_id', 'state', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_centre_organization'), ['organization_id', 'state', 'id'], unique=False)
        batch_op.drop_column('intake_token')


