"""Ledger imports run in the background from the upload page: their state, counts and
problems, so the page can show progress and the outcome.

Revision ID: 363389042229
Revises: e12ed3f9afd7
Create Date: 2026-11-26 17:41:57.874745

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '363389042229'
down_revision = 'e12ed3f9afd7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('create_missing', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Integer(), nullable=False),
    sa.Column('problem_count', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('created_organizations', sa.JSON(), nullable=False),
    sa.Column('created_mediators', sa.JSON(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state in ('running', 'done', 'refused', 'failed')", name=op.f('ck_ledger_import_known_state')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_ledger_import_centre_id_centre')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ledger_import_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_import'))
    )
    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_import_centre_started', ['centre_id', 'started_at'], unique=False)



def downgrade():
    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_import_centre_started')

    op.drop_table('ledger_import')
