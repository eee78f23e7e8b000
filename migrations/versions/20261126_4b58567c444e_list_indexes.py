"""Indexes for the case list: every centre's cases by registration (a global administrator's
list), and party-name prefix search on PostgreSQL under any collation (text_pattern_ops).

Revision ID: 4b58567c444e
Revises: e05f2bebba00
Create Date: 2026-11-26 15:35:00

"""

from alembic import op

revision = "4b58567c444e"
down_revision = "e05f2bebba00"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.create_index("ix_case_registered", ["registered_at", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_party_name", table_name="party")
        op.create_index(
            "ix_party_name", "party", ["name"], postgresql_ops={"name": "text_pattern_ops"}
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_party_name", table_name="party")
        op.create_index("ix_party_name", "party", ["name"])
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_registered")
