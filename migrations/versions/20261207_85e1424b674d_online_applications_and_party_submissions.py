"""Online applications (issue 20, SPEC 8): the application with its parties and its hashed
code, the files parties submit (with an application or from the portal) until staff accept
them into the dossier or reject them, and the party a dossier file was submitted by. The queue
reads (centre_id, state, due_on, id), the statistics (centre_id, submitted_on) and (centre_id,
decided_on, state). On SQLite the attachment's new column is added in place (no copy).

Revision ID: 85e1424b674d
Revises: b7d41e2a9c60
Create Date: 2026-12-07 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "85e1424b674d"
down_revision = "b7d41e2a9c60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=True),
        sa.Column("submission_token", sa.String(length=32), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("category_code", sa.String(length=20), nullable=False),
        sa.Column("street", sa.String(length=50), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("claims", sa.Text(), nullable=False),
        sa.Column("code_hash", sa.String(length=128), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decline_reason", sa.String(length=30), nullable=True),
        sa.Column("decline_note", sa.Text(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(state = 'accepted') = (case_id is not null)",
            name=op.f("ck_application_case_when_accepted"),
        ),
        sa.CheckConstraint(
            "(state = 'declined') = (decline_reason is not null)",
            name=op.f("ck_application_reason_when_declined"),
        ),
        sa.CheckConstraint(
            "state in ('pending', 'accepted', 'declined')", name=op.f("ck_application_known_state")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["dispute_case.id"], name=op.f("fk_application_case_id_dispute_case")
        ),
        sa.ForeignKeyConstraint(
            ["category_code"], ["category.code"], name=op.f("fk_application_category_code_category")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_application_centre_id_centre")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_application_decided_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application")),
        sa.UniqueConstraint("number", name=op.f("uq_application_number")),
        sa.UniqueConstraint("submission_token", name=op.f("uq_application_submission_token")),
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_centre_decided", ["centre_id", "decided_on", "state"], unique=False
        )
        batch_op.create_index(
            "ix_application_centre_state_due", ["centre_id", "state", "due_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_application_centre_submitted", ["centre_id", "submitted_on"], unique=False
        )

    op.create_table(
        "submitted_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state in ('pending', 'accepted', 'rejected')",
            name=op.f("ck_submitted_file_known_state"),
        ),
        sa.CheckConstraint(
            "application_id is not null or case_id is not null",
            name=op.f("ck_submitted_file_of_application_or_case"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_submitted_file_application_id_application"),
        ),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_submitted_file_attachment_id_attachment"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["dispute_case.id"],
            name=op.f("fk_submitted_file_case_id_dispute_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_submitted_file_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"],
            ["party.id"],
            name=op.f("fk_submitted_file_party_id_party"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sha256"], ["stored_file.sha256"], name=op.f("fk_submitted_file_sha256_stored_file")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submitted_file")),
    )
    with op.batch_alter_table("submitted_file", schema=None) as batch_op:
        batch_op.create_index(
            "ix_submitted_file_application_id", ["application_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_submitted_file_case_state", ["case_id", "state", "id"], unique=False
        )
        batch_op.create_index(
            "ix_submitted_file_party_submitted", ["party_id", "submitted_at"], unique=False
        )

    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE attachment ADD COLUMN submitted_by_party_id INTEGER "
            "CONSTRAINT fk_attachment_submitted_by_party_id_party REFERENCES party (id)"
        )
    else:
        op.add_column("attachment", sa.Column("submitted_by_party_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_attachment_submitted_by_party_id_party"),
            "attachment",
            "party",
            ["submitted_by_party_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_column("submitted_by_party_id")

    with op.batch_alter_table("submitted_file", schema=None) as batch_op:
        batch_op.drop_index("ix_submitted_file_party_submitted")
        batch_op.drop_index("ix_submitted_file_case_state")
        batch_op.drop_index("ix_submitted_file_application_id")

    op.drop_table("submitted_file")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_index("ix_application_centre_submitted")
        batch_op.drop_index("ix_application_centre_state_due")
        batch_op.drop_index("ix_application_centre_decided")

    op.drop_table("application")
