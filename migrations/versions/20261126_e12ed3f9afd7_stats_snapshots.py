"""Monthly statistics snapshots (published figures that do not move) and an index for the
cases routed in a month.

Revision ID: e12ed3f9afd7
Revises: 9650fba2231d
Create Date: 2026-11-26 16:37:56.947775

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e12ed3f9afd7'
down_revision = '9650fba2231d'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('stats_snapshot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('scope_key', sa.String(length=10), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_stats_snapshot_centre_id_centre')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_stats_snapshot_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_snapshot'))
    )
    with op.batch_alter_table('stats_snapshot', schema=None) as batch_op:
        batch_op.create_index('ix_stats_snapshot_scope_month', ['scope_key', 'month'], unique=True)

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_centre_routed', ['centre_id', 'routed_at'], unique=False)




def downgrade():

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_centre_routed')

    with op.batch_alter_table('stats_snapshot', schema=None) as batch_op:
        batch_op.drop_index('ix_stats_snapshot_scope_month')

    op.drop_table('stats_snapshot')

