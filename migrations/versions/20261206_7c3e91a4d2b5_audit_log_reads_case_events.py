"""The audit log reads the case events as well (issue 18): one feed of audit entries and case
events, newest first, keyset-paged on (at, kind, id) through an (at, id) index of each table,
and (actor_id, at, id), (action, at, id) and (target, at, id) indexes for its filters by user,
action and case; a centre's entries read on (centre_id, at, id), which replaces (centre_id, id).
A case event
carries its case's centre (a case never changes centre), filled here from the case, so that a
centre's events read on (centre_id, at, id) too instead of every centre's, joined to their cases.
On SQLite making the column NOT NULL copies case_event once (batch mode).

Revision ID: 7c3e91a4d2b5
Revises: 06821d7ef23e
Create Date: 2026-12-06 23:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c3e91a4d2b5"
down_revision = "06821d7ef23e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_centre_id_id")
        batch_op.create_index("ix_audit_entry_centre_id_at_id", ["centre_id", "at", "id"])
        batch_op.create_index("ix_audit_entry_at_id", ["at", "id"])
        batch_op.create_index("ix_audit_entry_actor_id_at_id", ["actor_id", "at", "id"])
        batch_op.create_index("ix_audit_entry_action_at_id", ["action", "at", "id"])
        batch_op.create_index("ix_audit_entry_target_at_id", ["target", "at", "id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE case_event ADD COLUMN centre_id INTEGER "
            "CONSTRAINT fk_case_event_centre_id_centre REFERENCES centre (id)"
        )
    else:
        op.add_column("case_event", sa.Column("centre_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_case_event_centre_id_centre"), "case_event", "centre", ["centre_id"], ["id"]
        )
    op.execute(
        "UPDATE case_event SET centre_id = "
        "(SELECT dispute_case.centre_id FROM dispute_case WHERE dispute_case.id = case_event.case_id)"
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.alter_column("centre_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_index("ix_case_event_centre_id_at_id", ["centre_id", "at", "id"])
        batch_op.create_index("ix_case_event_at_id", ["at", "id"])
        batch_op.create_index("ix_case_event_actor_id_at_id", ["actor_id", "at", "id"])
        batch_op.create_index("ix_case_event_action_at_id", ["action", "at", "id"])


def downgrade():
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_action_at_id")
        batch_op.drop_index("ix_case_event_actor_id_at_id")
        batch_op.drop_index("ix_case_event_at_id")
        batch_op.drop_index("ix_case_event_centre_id_at_id")
        batch_op.drop_column("centre_id")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_target_at_id")
        batch_op.drop_index("ix_audit_entry_action_at_id")
        batch_op.drop_index("ix_audit_entry_actor_id_at_id")
        batch_op.drop_index("ix_audit_entry_at_id")
        batch_op.drop_index("ix_audit_entry_centre_id_at_id")
        batch_op.create_index("ix_audit_entry_centre_id_id", ["centre_id", "id"])
