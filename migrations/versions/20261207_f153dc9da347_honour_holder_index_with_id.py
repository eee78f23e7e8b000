"""The honour flags are refreshed for the certificates that changed, not for every
certificate of their holders: a holder's latest listed certificate is one probe of
ix_certificate_holder read backwards, which needs the id after the validity date (ties of a
day are common for an organisation), and its latest before is found on a partial index of
the latest ones (ix_certificate_holder_latest). Refreshing asked, for each of a holder's
certificates, whether a later one exists: quadratic in an organisation's certificates
(minutes for each batch of the demo generator at 1,000,000 cases). On SQLite the indexes are
made in place (no table copy).

Revision ID: f153dc9da347
Revises: 3b8d5e7f9a10
Create Date: 2026-12-07 03:31:15.848668

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f153dc9da347"
down_revision = "3b8d5e7f9a10"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index("ix_certificate_holder", table_name="certificate")
    op.create_index(
        "ix_certificate_holder",
        "certificate",
        ["holder_key", "centre_id", "is_listed", "valid_until", "id"],
    )
    op.create_index(
        "ix_certificate_holder_latest",
        "certificate",
        ["holder_key", "centre_id"],
        postgresql_where=sa.text("is_latest"),
        sqlite_where=sa.text("is_latest"),
    )


def downgrade():
    op.drop_index("ix_certificate_holder_latest", table_name="certificate")
    op.drop_index("ix_certificate_holder", table_name="certificate")
    op.create_index(
        "ix_certificate_holder", "certificate", ["holder_key", "centre_id", "is_listed", "valid_until"]
    )
