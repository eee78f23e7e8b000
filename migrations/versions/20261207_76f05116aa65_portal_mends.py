"""Portal mends (issue 20): a party's case view that was left is listed on the server
(ended_portal_session, kept for the two hours a cookie could live), so that leaving ends every
copy of its cookie while a look-up still writes nothing; a centre has a telephone for parties
who need help; a certificate names its holder (holder_key: the ID number or credit code, else "org:" and an
organisation's name, else "party:" and the party's id) and says whether the honour list shows
it (is_listed) and whether it is its holder's latest listed one (is_latest), filled here from
its record and party, so that the honour list reads one row per holder in keyset pages on
(is_latest, valid_until, id) indexes and counts a holder's valid certificates on an index.

Revision ID: 76f05116aa65
Revises: 5e2b7d90c1a4
Create Date: 2026-12-07 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "76f05116aa65"
down_revision = "5e2b7d90c1a4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ended_portal_session",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_ended_portal_session")),
    )
    with op.batch_alter_table("ended_portal_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ended_portal_session_ended_at"), ["ended_at"])

    with op.batch_alter_table("centre", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone", sa.String(length=30), server_default="", nullable=False)
        )

    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_key", sa.String(length=120), nullable=True))
        batch_op.add_column(
            sa.Column("is_listed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("is_latest", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(
        "UPDATE certificate SET holder_key = ("
        "SELECT CASE WHEN integrity_record.identity_key IS NOT NULL "
        "THEN integrity_record.identity_key "
        "WHEN party.kind = 'organization' THEN 'org:' || certificate.holder_name "
        "ELSE 'party:' || CAST(party.id AS VARCHAR) END "
        "FROM integrity_record JOIN party ON party.id = integrity_record.party_id "
        "WHERE integrity_record.id = certificate.record_id)"
    )
    # As records.refresh_honour marks them.
    op.execute(
        "UPDATE certificate SET is_listed = (certificate.revoked_at IS NULL AND EXISTS ("
        "SELECT 1 FROM integrity_record JOIN party ON party.id = integrity_record.party_id "
        "WHERE integrity_record.id = certificate.record_id "
        "AND (party.kind = 'organization' OR party.honour_consent)))"
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certificate_holder", ["holder_key", "centre_id", "is_listed", "valid_until"]
        )
    # The holder's latest is one backward probe of the index (asking whether a later one
    # exists read all of an organisation's certificates for each of them).
    op.execute(
        "UPDATE certificate SET is_latest = (certificate.is_listed AND ("
        "certificate.holder_key IS NULL OR certificate.id = ("
        "SELECT later.id FROM certificate AS later WHERE later.holder_key = certificate.holder_key "
        "AND later.centre_id = certificate.centre_id AND later.is_listed "
        "ORDER BY later.valid_until DESC, later.id DESC LIMIT 1)))"
    )
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.create_index("ix_certificate_latest", ["is_latest", "valid_until", "id"])
        batch_op.create_index(
            "ix_certificate_centre_latest", ["centre_id", "is_latest", "valid_until", "id"]
        )


def downgrade():
    with op.batch_alter_table("certificate", schema=None) as batch_op:
        batch_op.drop_index("ix_certificate_centre_latest")
        batch_op.drop_index("ix_certificate_latest")
        batch_op.drop_index("ix_certificate_holder")
        batch_op.drop_column("is_latest")
        batch_op.drop_column("is_listed")
        batch_op.drop_column("holder_key")

    with op.batch_alter_table("centre", schema=None) as batch_op:
        batch_op.drop_column("phone")

    with op.batch_alter_table("ended_portal_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ended_portal_session_ended_at"))
    op.drop_table("ended_portal_session")
