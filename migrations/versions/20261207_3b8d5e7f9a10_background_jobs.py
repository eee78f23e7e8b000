"""Long work as jobs in the database (issue 22): `background_job` holds a queued job's claim,
progress and outcome, for every worker on every host; a ledger import records its job, and
an export's file is kept in `job_file`.

Revision ID: 3b8d5e7f9a10
Revises: b4d1e7a0c953
Create Date: 2026-12-07 00:10:00

"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '3b8d5e7f9a10'
down_revision = 'b4d1e7a0c953'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('background_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('locale', sa.String(length=10), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('progress_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name=op.f('ck_background_job_known_state')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_background_job_centre_id_centre')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_background_job_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_job'))
    )
    op.create_table('job_file',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mimetype', sa.String(length=100), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['background_job.id'], name=op.f('fk_job_file_job_id_background_job')),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_file'))
    )
    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.create_index('ix_background_job_state_id', ['state', 'id'], unique=False)

    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ledger_import_job', ['job_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_import_job_id_background_job'), 'background_job', ['job_id'], ['id'])


def downgrade():
    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_import_job_id_background_job'), type_='foreignkey')
        batch_op.drop_index('ix_ledger_import_job')
        batch_op.drop_column('job_id')

    with op.batch_alter_table('background_job', schema=None) as batch_op:
        batch_op.drop_index('ix_background_job_state_id')

    op.drop_table('job_file')
    op.drop_table('background_job')
