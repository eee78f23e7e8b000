"""Regional administrators (SPEC 10): a user with the role regional_admin holds a division
code (2 digits a province, 4 a city) instead of a centre, and reads the centres whose codes
start with it. Centres need nothing new: their code is already the 6-digit division code, and
its leading digits place them in the tree. On SQLite the user table is copied once (batch
mode) to change its CHECK constraints.

Revision ID: 5e2b7d90c1a4
Revises: 85e1424b674d
Create Date: 2026-12-07 00:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5e2b7d90c1a4"
down_revision = "85e1424b674d"
branch_labels = None
depends_on = None

REGION = (
    "(role = 'regional_admin' and region_code is not null and centre_id is null"
    " and length(region_code) in (2, 4))"
    " or (role <> 'regional_admin' and region_code is null)"
)


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_code", sa.String(length=4), nullable=True))
        batch_op.drop_constraint(op.f("ck_user_account_known_role"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_centre_unless_admin"), type_="check")
        batch_op.create_check_constraint(
            "known_role", "role in ('admin', 'staff', 'mediator', 'regional_admin')"
        )
        batch_op.create_check_constraint(
            "centre_unless_admin", "centre_id is not null or role in ('admin', 'regional_admin')"
        )
        batch_op.create_check_constraint("region_of_regional_admin", REGION)


def downgrade():
    op.execute("delete from user_account where role = 'regional_admin'")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_user_account_region_of_regional_admin"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_centre_unless_admin"), type_="check")
        batch_op.drop_constraint(op.f("ck_user_account_known_role"), type_="check")
        batch_op.create_check_constraint("known_role", "role in ('admin', 'staff', 'mediator')")
        batch_op.create_check_constraint(
            "centre_unless_admin", "centre_id is not null or role = 'admin'"
        )
        batch_op.drop_column("region_code")
