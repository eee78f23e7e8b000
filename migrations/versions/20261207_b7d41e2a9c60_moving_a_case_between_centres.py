"""Moving a case to another centre (移送, issue 22): the numbers a case had at the centres it
left (case_former_number, unique per centre, year and sequence number, found on (seq, year) as
a case's own number is), and when a case came to its centre (received_at, received_on: its
registration, filled here from it, or its last move). The statistics count a month's received
cases on (centre_id, received_at) with the columns they group and sum, as they did on the
registration index, which keeps only what the lists read; the conclusion index carries
received_on for the cases pending at a month's end.
On SQLite making the columns NOT NULL copies dispute_case once (batch mode).

Revision ID: b7d41e2a9c60
Revises: 7c3e91a4d2b5
Create Date: 2026-12-07 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b7d41e2a9c60"
down_revision = "7c3e91a4d2b5"
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
]
STATS_REGISTERED = ["registered_on", "category_code", "channel_code", "risk_level", "amount"]
STATS_RECEIVED = ["received_on", "category_code", "channel_code", "risk_level", "amount"]


def upgrade():
    op.create_table(
        "case_former_number",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("moved_at", sa.DateTime(), nullable=False),
        sa.Column("to_centre_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["dispute_case.id"],
            name=op.f("fk_case_former_number_case_id_dispute_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_case_former_number_centre_id_centre")
        ),
        sa.ForeignKeyConstraint(
            ["to_centre_id"], ["centre.id"], name=op.f("fk_case_former_number_to_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_former_number")),
        sa.UniqueConstraint("seq", "year", "centre_id", name="uq_case_former_number_seq"),
    )
    with op.batch_alter_table("case_former_number", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_former_number_case_id"), ["case_id"], unique=False
        )

    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("received_on", sa.Date(), nullable=True))
    op.execute("UPDATE dispute_case SET received_at = registered_at, received_on = registered_on")
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.alter_column("received_at", existing_type=sa.DateTime(), nullable=False)
        batch_op.alter_column("received_on", existing_type=sa.Date(), nullable=False)
        batch_op.drop_index("ix_case_centre_registered")
        batch_op.create_index(
            "ix_case_centre_registered", ["centre_id", "registered_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_case_centre_received",
            ["centre_id", "received_at", "id", *STATS_RECEIVED],
            unique=False,
        )
        batch_op.drop_index("ix_case_centre_concluded")
        batch_op.create_index(
            "ix_case_centre_concluded", [*CONCLUDED, "received_on"], unique=False
        )


def downgrade():
    with op.batch_alter_table("dispute_case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_centre_concluded")
        batch_op.create_index("ix_case_centre_concluded", CONCLUDED, unique=False)
        batch_op.drop_index("ix_case_centre_received")
        batch_op.drop_index("ix_case_centre_registered")
        batch_op.create_index(
            "ix_case_centre_registered",
            ["centre_id", "registered_at", "id", *STATS_REGISTERED],
            unique=False,
        )
        batch_op.drop_column("received_on")
        batch_op.drop_column("received_at")
    with op.batch_alter_table("case_former_number", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_former_number_case_id"))
    op.drop_table("case_former_number")
