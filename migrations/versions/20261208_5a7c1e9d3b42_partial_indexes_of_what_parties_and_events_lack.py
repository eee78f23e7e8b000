"""The indexes of a party's ID number, credit code and mobile, and of an event's user, hold
only the rows that have one (partial indexes, `WHERE … IS NOT NULL`, issue 22). A ledger names
its parties without any of the three, and an import's or a system's events have no user: each
imported case added about ten entries to these indexes that no look-up reads (every look-up
asks for a value). A look-up reads the partial index as it read the whole one, on both engines.
On SQLite the indexes are made again in place (no table copy).

Revision ID: 5a7c1e9d3b42
Revises: 76f152230e36
Create Date: 2026-12-08 03:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5a7c1e9d3b42"
down_revision = "76f152230e36"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_party_id_number": ("party", ["id_number"], "id_number"),
    "ix_party_credit_code": ("party", ["credit_code"], "credit_code"),
    "ix_party_phone": ("party", ["phone"], "phone"),
    "ix_case_event_actor_id_at_id": ("case_event", ["actor_id", "at", "id"], "actor_id"),
}


def upgrade():
    for name, (table, columns, column) in INDEXES.items():
        condition = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_where=condition, sqlite_where=condition)


def downgrade():
    for name, (table, columns, _column) in INDEXES.items():
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
