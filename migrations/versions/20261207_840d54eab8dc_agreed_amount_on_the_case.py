"""A case carries the amounts its agreement's obligations set, added up (`agreed_amount`,
issue 22), filled here from its obligations, and the index of conclusions carries it, so that
a month's amount agreed is summed with the month's other figures from that index instead of
visiting the obligations of each case agreed in the month (0.7–0.9 s for a region of 10
centres at 10,000,000 cases). An agreement is never changed once written. On SQLite the column
is added and the index made in place (no table copy).

Revision ID: 840d54eab8dc
Revises: 24e8ae898142
Create Date: 2026-12-07 09:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "840d54eab8dc"
down_revision = "24e8ae898142"
branch_labels = None
depends_on = None

CONCLUDED = [
    "centre_id",
    "concluded_at",
    "concluded_on",
    "outcome",
    "transfer_reason",
    "category_code",
    "channel_code",
    "concluded_organization_id",
    "concluded_mediator_id",
    "deadline_on",
    "registered_on",
    "received_on",
]


def upgrade():
    # The index goes before the update (one fewer to keep up for each agreed case) and is made
    # again after it, compact.
    op.drop_index("ix_case_centre_concluded", table_name="dispute_case")
    op.add_column("dispute_case", sa.Column("agreed_amount", sa.Numeric(14, 2), nullable=True))
    op.execute(
        "UPDATE dispute_case SET agreed_amount = (SELECT sum(obligation.amount) FROM obligation "
        "WHERE obligation.case_id = dispute_case.id) "
        "WHERE dispute_case.id IN (SELECT agreement.case_id FROM agreement)"
    )
    op.create_index(
        "ix_case_centre_concluded", "dispute_case", [*CONCLUDED, "agreed_amount"], unique=False
    )


def downgrade():
    op.drop_index("ix_case_centre_concluded", table_name="dispute_case")
    op.create_index("ix_case_centre_concluded", "dispute_case", CONCLUDED, unique=False)
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.drop_column("agreed_amount")
