"""Directory (channels, categories, organisations, mediators, routing, calendar, settings)
and cases (parties, events, sessions, extensions, agreements, obligations, transfers).

The 8 channels and 15 categories of SPEC 3.1 are inserted here, so they exist after
`flask db upgrade` on every engine.

Revision ID: e05f2bebba00
Revises: de916e7f9bfa
Create Date: 2026-11-26 15:14:06.081491

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e05f2bebba00'
down_revision = 'de916e7f9bfa'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('category',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('mediation_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('mediation_days > 0', name=op.f('ck_category_positive_period')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_category'))
    )
    op.create_table('channel',
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_channel'))
    )
    op.create_table('calendar_day',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_calendar_day_centre_id_centre')),
    sa.PrimaryKeyConstraint('centre_id', 'day', name=op.f('pk_calendar_day'))
    )
    op.create_table('case_counter',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_case_counter_centre_id_centre')),
    sa.PrimaryKeyConstraint('centre_id', 'year', name=op.f('pk_case_counter'))
    )
    op.create_table('centre_category',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=20), nullable=False),
    sa.Column('mediation_days', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_centre_category_category_code_category')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_centre_category_centre_id_centre')),
    sa.PrimaryKeyConstraint('centre_id', 'category_code', name=op.f('pk_centre_category'))
    )
    op.create_table('centre_settings',
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('triage_days', sa.Integer(), nullable=False),
    sa.Column('triage_days_high_risk', sa.Integer(), nullable=False),
    sa.Column('warning_days', sa.Integer(), nullable=False),
    sa.Column('extensions_allowed', sa.Boolean(), nullable=False),
    sa.Column('extension_max_days', sa.Integer(), nullable=False),
    sa.CheckConstraint('extension_max_days >= 0', name=op.f('ck_centre_settings_extension_max_days')),
    sa.CheckConstraint('triage_days >= 1 and triage_days_high_risk >= 1', name=op.f('ck_centre_settings_triage_days')),
    sa.CheckConstraint('warning_days >= 0', name=op.f('ck_centre_settings_warning_days')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_centre_settings_centre_id_centre')),
    sa.PrimaryKeyConstraint('centre_id', name=op.f('pk_centre_settings'))
    )
    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("kind in ('people', 'professional', 'court_invited', 'administrative', 'lawyer')", name=op.f('ck_organization_known_kind')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_organization_centre_id_centre')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization')),
    sa.UniqueConstraint('centre_id', 'name', name=op.f('uq_organization_centre_id_name'))
    )
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_centre_id'), ['centre_id'], unique=False)

    op.create_table('mediator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('max_caseload', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('max_caseload >= 0', name=op.f('ck_mediator_caseload')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_mediator_centre_id_centre')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_mediator_organization_id_organization')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_mediator_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediator')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mediator_user_id'))
    )
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediator_centre_id'), ['centre_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediator_organization_id'), ['organization_id'], unique=False)

    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=20), nullable=False),
    sa.Column('street', sa.String(length=50), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_routing_rule_category_code_category')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_routing_rule_centre_id_centre')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_routing_rule_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule')),
    sa.UniqueConstraint('centre_id', 'category_code', 'street', 'organization_id', name=op.f('uq_routing_rule_centre_id_category_code_street_organization_id'))
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index('ix_routing_rule_lookup', ['centre_id', 'category_code', 'street', 'rank'], unique=False)

    op.create_table('dispute_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ledger_ref', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('channel_code', sa.String(length=20), nullable=False),
    sa.Column('category_code', sa.String(length=20), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('claims', sa.Text(), nullable=False),
    sa.Column('street', sa.String(length=50), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('people_involved', sa.Integer(), nullable=False),
    sa.Column('risk_level', sa.String(length=10), nullable=False),
    sa.Column('is_extreme', sa.Boolean(), nullable=False),
    sa.Column('registered_at', sa.DateTime(), nullable=False),
    sa.Column('registered_on', sa.Date(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('triage_due_on', sa.Date(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('mediator_id', sa.Integer(), nullable=True),
    sa.Column('routed_at', sa.DateTime(), nullable=True),
    sa.Column('routed_on', sa.Date(), nullable=True),
    sa.Column('deadline_on', sa.Date(), nullable=True),
    sa.Column('extension_days', sa.Integer(), nullable=False),
    sa.Column('warned_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_at', sa.DateTime(), nullable=True),
    sa.Column('concluded_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('transfer_reason', sa.String(length=30), nullable=True),
    sa.Column('concluded_organization_id', sa.Integer(), nullable=True),
    sa.Column('concluded_mediator_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("(outcome = 'transferred') = (transfer_reason is not null)", name=op.f('ck_dispute_case_transfer_reason')),
    sa.CheckConstraint("risk_level in ('low', 'medium', 'high', 'critical')", name=op.f('ck_dispute_case_risk')),
    sa.CheckConstraint("state in ('registered', 'assigned', 'mediating', 'agreed', 'fulfilled', 'defaulted', 'transferred', 'withdrawn')", name=op.f('ck_dispute_case_known_state')),
    sa.CheckConstraint("state in ('registered', 'withdrawn', 'transferred') or mediator_id is not null", name=op.f('ck_dispute_case_mediator_when_assigned')),
    sa.CheckConstraint('(concluded_at is null) = (outcome is null) and (concluded_at is null) = (concluded_on is null)', name=op.f('ck_dispute_case_conclusion_complete')),
    sa.CheckConstraint('amount is null or amount >= 0', name=op.f('ck_dispute_case_amount_not_negative')),
    sa.CheckConstraint('people_involved >= 1', name=op.f('ck_dispute_case_people_involved')),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_dispute_case_category_code_category')),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_dispute_case_centre_id_centre')),
    sa.ForeignKeyConstraint(['channel_code'], ['channel.code'], name=op.f('fk_dispute_case_channel_code_channel')),
    sa.ForeignKeyConstraint(['concluded_mediator_id'], ['mediator.id'], name=op.f('fk_dispute_case_concluded_mediator_id_mediator')),
    sa.ForeignKeyConstraint(['concluded_organization_id'], ['organization.id'], name=op.f('fk_dispute_case_concluded_organization_id_organization')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_dispute_case_mediator_id_mediator')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_dispute_case_organization_id_organization')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['user_account.id'], name=op.f('fk_dispute_case_registered_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_case')),
    sa.UniqueConstraint('centre_id', 'ledger_ref', name=op.f('uq_dispute_case_centre_id_ledger_ref')),
    sa.UniqueConstraint('centre_id', 'number', name=op.f('uq_dispute_case_centre_id_number')),
    sa.UniqueConstraint('centre_id', 'year', 'seq', name=op.f('uq_dispute_case_centre_id_year_seq'))
    )
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.create_index('ix_case_centre_category', ['centre_id', 'category_code', 'id'], unique=False)
        batch_op.create_index('ix_case_centre_concluded', ['centre_id', 'concluded_at'], unique=False)
        batch_op.create_index('ix_case_centre_deadline', ['centre_id', 'state', 'deadline_on'], unique=False)
        batch_op.create_index('ix_case_centre_organization', ['organization_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_case_centre_registered', ['centre_id', 'registered_at', 'id'], unique=False)
        batch_op.create_index('ix_case_centre_state_id', ['centre_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_case_centre_triage_due', ['centre_id', 'state', 'triage_due_on'], unique=False)
        batch_op.create_index('ix_case_mediator_state', ['mediator_id', 'state', 'id'], unique=False)

    op.create_table('mediator_specialty',
    sa.Column('mediator_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['category_code'], ['category.code'], name=op.f('fk_mediator_specialty_category_code_category')),
    sa.ForeignKeyConstraint(['mediator_id'], ['mediator.id'], name=op.f('fk_mediator_specialty_mediator_id_mediator'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mediator_id', 'category_code', name=op.f('pk_mediator_specialty'))
    )
    op.create_table('agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('confirmation_court', sa.String(length=100), nullable=True),
    sa.Column('confirmation_ruling', sa.String(length=100), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_agreement_case_id_dispute_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement')),
    sa.UniqueConstraint('case_id', name=op.f('uq_agreement_case_id'))
    )
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_confirmed_on'), ['confirmed_on'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=20), nullable=True),
    sa.Column('to_state', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_kind', sa.String(length=12), nullable=False),
    sa.Column('actor_name', sa.String(length=100), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_case_event_case_id_dispute_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index('ix_case_event_case_id_id', ['case_id', 'id'], unique=False)

    op.create_table('extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('previous_deadline_on', sa.Date(), nullable=False),
    sa.Column('deadline_on', sa.Date(), nullable=False),
    sa.Column('consents', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('days > 0', name=op.f('ck_extension_positive')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_extension_case_id_dispute_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension'))
    )
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_case_id'), ['case_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('is_satisfied', sa.Boolean(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_follow_up_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_follow_up_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_up_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_visited_on'), ['visited_on'], unique=False)

    op.create_table('mediation_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('held_at', sa.DateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('is_online', sa.Boolean(), nullable=False),
    sa.Column('attendance', sa.Text(), nullable=False),
    sa.Column('minutes', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_mediation_session_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_mediation_session_recorded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mediation_session'))
    )
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.create_index('ix_mediation_session_case_held', ['case_id', 'held_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_session_held_at'), ['held_at'], unique=False)

    op.create_table('party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('credit_code', sa.String(length=18), nullable=True),
    sa.Column('phone', sa.String(length=11), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('access_code_hash', sa.String(length=128), nullable=False),
    sa.Column('access_code_issued_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind in ('person', 'organization')", name=op.f('ck_party_kind')),
    sa.CheckConstraint("role in ('applicant', 'respondent')", name=op.f('ck_party_role')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_party_case_id_dispute_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party'))
    )
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_party_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_party_credit_code', ['credit_code'], unique=False)
        batch_op.create_index('ix_party_id_number', ['id_number'], unique=False)
        batch_op.create_index('ix_party_name', ['name'], unique=False)

    op.create_table('transfer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('court', sa.String(length=100), nullable=False),
    sa.Column('undisputed_facts', sa.Text(), nullable=False),
    sa.Column('documents', sa.Text(), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('filing_number', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_transfer_case_id_dispute_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer')),
    sa.UniqueConstraint('case_id', name=op.f('uq_transfer_case_id'))
    )
    op.create_table('obligation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('obligor_id', sa.Integer(), nullable=False),
    sa.Column('obligee_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('fulfilled_on', sa.Date(), nullable=True),
    sa.Column('defaulted_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('amount is null or amount >= 0', name=op.f('ck_obligation_amount_not_negative')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_obligation_agreement_id_agreement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_obligation_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['obligee_id'], ['party.id'], name=op.f('fk_obligation_obligee_id_party')),
    sa.ForeignKeyConstraint(['obligor_id'], ['party.id'], name=op.f('fk_obligation_obligor_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_obligation'))
    )
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_obligation_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_obligation_due_on', ['due_on'], unique=False)
        batch_op.create_index('ix_obligation_open_due', ['fulfilled_on', 'due_on'], unique=False)


    channels = ["walk_in", "hotline", "online", "grid", "court", "petition", "police", "other"]
    op.bulk_insert(
        sa.table("channel", sa.column("code", sa.String), sa.column("sort_order", sa.Integer)),
        [{"code": code, "sort_order": index} for index, code in enumerate(channels)],
    )
    categories = [
        "family", "neighbour", "labour", "traffic", "medical", "property", "consumer",
        "finance", "lending", "construction", "contract", "ip", "administrative", "land", "other",
    ]
    op.bulk_insert(
        sa.table(
            "category",
            sa.column("code", sa.String),
            sa.column("sort_order", sa.Integer),
            sa.column("mediation_days", sa.Integer),
        ),
        [
            {"code": code, "sort_order": index, "mediation_days": 30}
            for index, code in enumerate(categories)
        ],
    )



def downgrade():
    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_index('ix_obligation_open_due')
        batch_op.drop_index('ix_obligation_due_on')
        batch_op.drop_index(batch_op.f('ix_obligation_case_id'))

    op.drop_table('obligation')
    op.drop_table('transfer')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index('ix_party_name')
        batch_op.drop_index('ix_party_id_number')
        batch_op.drop_index('ix_party_credit_code')
        batch_op.drop_index(batch_op.f('ix_party_case_id'))

    op.drop_table('party')
    with op.batch_alter_table('mediation_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_session_held_at'))
        batch_op.drop_index('ix_mediation_session_case_held')

    op.drop_table('mediation_session')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_visited_on'))
        batch_op.drop_index(batch_op.f('ix_follow_up_case_id'))

    op.drop_table('follow_up')
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_case_id'))

    op.drop_table('extension')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index('ix_case_event_case_id_id')

    op.drop_table('case_event')
    with op.batch_alter_table('agreement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_confirmed_on'))

    op.drop_table('agreement')
    op.drop_table('mediator_specialty')
    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_index('ix_case_mediator_state')
        batch_op.drop_index('ix_case_centre_triage_due')
        batch_op.drop_index('ix_case_centre_state_id')
        batch_op.drop_index('ix_case_centre_registered')
        batch_op.drop_index('ix_case_centre_organization')
        batch_op.drop_index('ix_case_centre_deadline')
        batch_op.drop_index('ix_case_centre_concluded')
        batch_op.drop_index('ix_case_centre_category')

    op.drop_table('dispute_case')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_routing_rule_lookup')

    op.drop_table('routing_rule')
    with op.batch_alter_table('mediator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediator_organization_id'))
        batch_op.drop_index(batch_op.f('ix_mediator_centre_id'))

    op.drop_table('mediator')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organization_centre_id'))

    op.drop_table('organization')
    op.drop_table('centre_settings')
    op.drop_table('centre_category')
    op.drop_table('case_counter')
    op.drop_table('calendar_day')
    op.drop_table('channel')
    op.drop_table('category')
