"""Ledger imports from the upload page: each records the SHA-256 of its file, and a dry run
keeps its file (`ledger_file`) so that "import now" imports the very file checked; an import
started so records the dry run it imports (`checked_import_id`). A case created by an import
from the upload page records that import (`ledger_import_id`), so the import's page links to
its cases.

On SQLite the case table gains its column by a plain ALTER TABLE (with the foreign key written
in the column) instead of batch mode's copy of the largest table.

Revision ID: 01c06f18b42d
Revises: 50f86073ac12
Create Date: 2026-12-06 21:51:46.854193

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '01c06f18b42d'
down_revision = '50f86073ac12'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_file',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['ledger_import.id'], name=op.f('fk_ledger_file_import_id_ledger_import')),
    sa.PrimaryKeyConstraint('import_id', name=op.f('pk_ledger_file'))
    )
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(
            'ALTER TABLE dispute_case ADD COLUMN ledger_import_id INTEGER '
            'CONSTRAINT fk_dispute_case_ledger_import_id_ledger_import REFERENCES ledger_import (id)'
        )
    else:
        op.add_column('dispute_case', sa.Column('ledger_import_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_dispute_case_ledger_import_id_ledger_import'), 'dispute_case', 'ledger_import', ['ledger_import_id'], ['id'])
    op.create_index('ix_case_ledger_import_registered', 'dispute_case', ['ledger_import_id', 'registered_at', 'id'], unique=False, sqlite_where=sa.text('ledger_import_id IS NOT NULL'), postgresql_where=sa.text('ledger_import_id IS NOT NULL'))

    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_sha256', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('checked_import_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ledger_import_checked_import', ['checked_import_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_ledger_import_checked_import_id_ledger_import'), 'ledger_import', ['checked_import_id'], ['id'])



def downgrade():
    with op.batch_alter_table('ledger_import', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_ledger_import_checked_import_id_ledger_import'), type_='foreignkey')
        batch_op.drop_index('ix_ledger_import_checked_import')
        batch_op.drop_column('checked_import_id')
        batch_op.drop_column('file_sha256')

    op.drop_index('ix_case_ledger_import_registered', table_name='dispute_case')
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        if op.get_bind().dialect.name != 'sqlite':
            batch_op.drop_constraint(batch_op.f('fk_dispute_case_ledger_import_id_ledger_import'), type_='foreignkey')
        batch_op.drop_column('ledger_import_id')

    op.drop_table('ledger_file')
