"""Indexes for the dashboards on a million cases: the high-risk queue and a mediator's
deadlines take the first rows of each state (and risk level) in the page's order by one index
seek each, and count capped by reading at most COUNT_CAP + 1 index entries, instead of sorting
or filtering every open case.

Revision ID: 2af6b93e701e
Revises: 363389042229
Create Date: 2026-11-26 18:01:24

"""

from alembic import op

revision = "2af6b93e701e"
down_revision = "363389042229"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_centre_state_risk", ["centre_id", "state", "risk_level", "id"], unique=False
        )
        batch_op.create_index(
            "ix_case_mediator_state_deadline",
            ["mediator_id", "state", "deadline_on", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_mediator_state_deadline")
        batch_op.drop_index("ix_case_centre_state_risk")
