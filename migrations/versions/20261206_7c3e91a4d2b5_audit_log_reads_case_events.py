"""The audit log reads the case events as well (issue 18): one feed of audit entries and case
events, newest first, keyset-paged on (at, kind, id) through an (at, id) index of each table,
and (actor_id, at, id) and (action, at, id) indexes for its filters by user and by action; a
centre's entries read on (centre_id, at, id), which replaces (centre_id, id).

Revision ID: 7c3e91a4d2b5
Revises: 06821d7ef23e
Create Date: 2026-12-06 23:00:00

"""

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
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_at_id", ["at", "id"])
        batch_op.create_index("ix_case_event_actor_id_at_id", ["actor_id", "at", "id"])
        batch_op.create_index("ix_case_event_action_at_id", ["action", "at", "id"])


def downgrade():
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_action_at_id")
        batch_op.drop_index("ix_case_event_actor_id_at_id")
        batch_op.drop_index("ix_case_event_at_id")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_action_at_id")
        batch_op.drop_index("ix_audit_entry_actor_id_at_id")
        batch_op.drop_index("ix_audit_entry_at_id")
        batch_op.drop_index("ix_audit_entry_centre_id_at_id")
        batch_op.create_index("ix_audit_entry_centre_id_id", ["centre_id", "id"])
