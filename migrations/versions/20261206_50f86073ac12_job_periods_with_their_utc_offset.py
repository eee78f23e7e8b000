"""A scheduled run's period carries the UTC offset its slot starts at ("2026-10-25T02+01:00"):
the hour repeated when clocks go back, or the same local hour under another TIMEZONE, is a
period of its own instead of one that "has run already". Periods written before get the
offset of TIMEZONE at their run's start; one written under another TIMEZONE stays as it is
(no new period can take it).

Revision ID: 50f86073ac12
Revises: 0a1ef5e0806c
Create Date: 2026-12-06 21:20:29.378176

"""
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from flask import current_app


# revision identifiers, used by Alembic.
revision = '50f86073ac12'
down_revision = '0a1ef5e0806c'
branch_labels = None
depends_on = None

job_run = sa.table(
    'job_run',
    sa.column('id', sa.Integer),
    sa.column('job', sa.String),
    sa.column('period', sa.String),
    sa.column('started_at', sa.DateTime),
    sa.column('trigger', sa.String),
)
# A slot's local start as the schedule writes it: month, day, hour or minute.
FORMATS = {7: '%Y-%m', 10: '%Y-%m-%d', 13: '%Y-%m-%dT%H', 16: '%Y-%m-%dT%H:%M'}
LOCAL = re.compile(r'\d{4}-\d\d(-\d\d(T\d\d(:\d\d)?)?)?')
OFFSET = re.compile(r'[+-]\d\d:\d\d')


def upgrade():
    zone = ZoneInfo(current_app.config['TIMEZONE'])
    changes = []
    runs, taken = _scheduled_runs()
    for run_id, job, period, started_at in runs:
        if not LOCAL.fullmatch(period):
            continue
        local = started_at.replace(tzinfo=UTC).astimezone(zone)
        if f'{local:{FORMATS[len(period)]}}' != period:
            continue
        # An hour or a minute keeps the run's fold (the repeated hour); a day or a month
        # starts once.
        start = datetime.strptime(period, FORMATS[len(period)]).replace(
            tzinfo=zone, fold=local.fold if len(period) > 10 else 0
        )
        minutes = int(start.utcoffset().total_seconds()) // 60
        offset = f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        if (job, period + offset) not in taken:
            changes.append({'run_id': run_id, 'new_period': period + offset})
    _write(changes)


def downgrade():
    """Back to the local start alone; a period whose local start is taken already (the
    second of a repeated hour) stays as it is."""
    changes = []
    runs, taken = _scheduled_runs()
    for run_id, job, period, _started_at in runs:
        local = period[:-6]
        if LOCAL.fullmatch(local) and OFFSET.fullmatch(period[-6:]) and (job, local) not in taken:
            taken.add((job, local))
            changes.append({'run_id': run_id, 'new_period': local})
    _write(changes)


def _scheduled_runs():
    """The scheduled runs, oldest first, and every (job, period) taken."""
    connection = op.get_bind()
    runs = connection.execute(
        sa.select(job_run.c.id, job_run.c.job, job_run.c.period, job_run.c.started_at)
        .where(job_run.c.trigger == 'schedule')
        .order_by(job_run.c.started_at, job_run.c.id)
    ).all()
    taken = {tuple(row) for row in connection.execute(sa.select(job_run.c.job, job_run.c.period))}
    return runs, taken


def _write(changes):
    if changes:
        op.get_bind().execute(
            job_run.update()
            .where(job_run.c.id == sa.bindparam('run_id'))
            .values(period=sa.bindparam('new_period')),
            changes,
        )
