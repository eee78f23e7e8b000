"""Dossier files, integrity records and certificates, service ratings, job runs and the
outbox; party flags (honour-list consent, SMS opt-out), obligation reminders, settings for
the incentive measures.

Revision ID: 9650fba2231d
Revises: 701930336c5f
Create Date: 2026-11-26 15:46:38.677268

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9650fba2231d'
down_revision = '701930336c5f'
branch_labels = None
depends_on = None

MEASURES = "诉讼费用减免\n优先调解服务\n诚信红名单"


def upgrade():

    op.create_table('job_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.CheckConstraint("status in ('running', 'ok', 'error')", name=op.f('ck_job_run_known_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_run')),
    sa.UniqueConstraint('job', 'period', name=op.f('uq_job_run_job_period'))
    )
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.create_index('ix_job_run_job_started', ['job', 'started_at'], unique=False)

    op.create_table('stored_file',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_file'))
    )
    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.Column('superseded_at', sa.DateTime(), nullable=True),
    sa.Column('superseded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind in ('application', 'evidence', 'agreement', 'minutes', 'transfer', 'other')", name=op.f('ck_attachment_known_kind')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_attachment_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sha256'], ['stored_file.sha256'], name=op.f('fk_attachment_sha256_stored_file')),
    sa.ForeignKeyConstraint(['superseded_by_id'], ['attachment.id'], name=op.f('fk_attachment_superseded_by_id_attachment')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_attachment_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_case_id_id', ['case_id', 'id'], unique=False)

    op.create_table('outbox_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('party_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=120), nullable=False),
    sa.CheckConstraint("channel in ('in_app', 'sms', 'email')", name=op.f('ck_outbox_message_known_channel')),
    sa.CheckConstraint("state in ('pending', 'sent', 'failed', 'held')", name=op.f('ck_outbox_message_known_state')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_outbox_message_case_id_dispute_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_outbox_message_centre_id_centre')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_outbox_message_party_id_party')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_outbox_message_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_message')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_message_dedupe_key'))
    )
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_message_centre_state', ['centre_id', 'state', 'id'], unique=False)
        batch_op.create_index('ix_outbox_message_due', ['state', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_message_user_unread', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('service_rating',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('rated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('stars between 1 and 5', name=op.f('ck_service_rating_stars')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_service_rating_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_service_rating_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_rating')),
    sa.UniqueConstraint('case_id', 'party_id', name=op.f('uq_service_rating_case_id_party_id'))
    )
    op.create_table('transfer_document',
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_transfer_document_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['transfer_id'], ['transfer.id'], name=op.f('fk_transfer_document_transfer_id_transfer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('transfer_id', 'attachment_id', name=op.f('pk_transfer_document'))
    )
    op.create_table('integrity_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('party_id', sa.Integer(), nullable=False),
    sa.Column('obligation_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('identity_key', sa.String(length=18), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.CheckConstraint("kind in ('positive', 'negative')", name=op.f('ck_integrity_record_known_kind')),
    sa.ForeignKeyConstraint(['case_id'], ['dispute_case.id'], name=op.f('fk_integrity_record_case_id_dispute_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_integrity_record_centre_id_centre')),
    sa.ForeignKeyConstraint(['obligation_id'], ['obligation.id'], name=op.f('fk_integrity_record_obligation_id_obligation')),
    sa.ForeignKeyConstraint(['party_id'], ['party.id'], name=op.f('fk_integrity_record_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integrity_record')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_integrity_record_dedupe_key'))
    )
    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        batch_op.create_index('ix_integrity_record_centre_created', ['centre_id', 'created_on'], unique=False)
        batch_op.create_index('ix_integrity_record_identity', ['identity_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_integrity_record_party_id'), ['party_id'], unique=False)

    op.create_table('certificate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('verification_code', sa.String(length=16), nullable=False),
    sa.Column('holder_name', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('measures', sa.JSON(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_reason', sa.String(length=500), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_certificate_centre_id_centre')),
    sa.ForeignKeyConstraint(['record_id'], ['integrity_record.id'], name=op.f('fk_certificate_record_id_integrity_record')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_certificate_revoked_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
    sa.UniqueConstraint('number', name=op.f('uq_certificate_number')),
    sa.UniqueConstraint('record_id', name=op.f('uq_certificate_record_id'))
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index('ix_certificate_centre_valid', ['centre_id', 'valid_until'], unique=False)

    with op.batch_alter_table('centre_settings', schema=None) as batch_op:
        # Existing rows get the SPEC's example measures and "no" for the new flags.
        batch_op.add_column(sa.Column('incentive_measures', sa.Text(), nullable=False, server_default=MEASURES))

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('triage_warned_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_voluntary', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('reminded_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('honour_consent', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('sms_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))




def downgrade():

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('sms_opt_out')
        batch_op.drop_column('honour_consent')

    with op.batch_alter_table('obligation', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')
        batch_op.drop_column('is_voluntary')

    with op.batch_alter_table('dispute_case', schema=None) as batch_op:
        batch_op.drop_column('triage_warned_at')

    with op.batch_alter_table('centre_settings', schema=None) as batch_op:
        batch_op.drop_column('incentive_measures')

    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index('ix_certificate_centre_valid')

    op.drop_table('certificate')
    with op.batch_alter_table('integrity_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integrity_record_party_id'))
        batch_op.drop_index('ix_integrity_record_identity')
        batch_op.drop_index('ix_integrity_record_centre_created')

    op.drop_table('integrity_record')
    op.drop_table('transfer_document')
    op.drop_table('service_rating')
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_message_user_unread')
        batch_op.drop_index('ix_outbox_message_due')
        batch_op.drop_index('ix_outbox_message_centre_state')

    op.drop_table('outbox_message')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_attachment_case_id_id')

    op.drop_table('attachment')
    op.drop_table('stored_file')
    with op.batch_alter_table('job_run', schema=None) as batch_op:
        batch_op.drop_index('ix_job_run_job_started')

    op.drop_table('job_run')

