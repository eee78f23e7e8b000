"""The jobs, their schedules, and running one once per period (SPEC 3.8).

`run_job` is the only way a job body runs, from the scheduler, the shell or the admin page.
A scheduled run first inserts its JobRun (job, period): the unique constraint lets exactly one
process have a period, on every engine, so two scheduler processes started by mistake still
run each job once. On PostgreSQL a session advisory lock also keeps two runs of one job (a
scheduled one and one started by hand) from overlapping.
"""

import logging
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from mediation import clock
from mediation.extensions import db
from mediation.jobs import sweeps
from mediation.jobs.models import JobRun
from mediation.stats.snapshots import snapshot_previous_month

log = logging.getLogger(__name__)

SCHEDULE, MANUAL, SHELL = "schedule", "manual", "cli"
# A run still "running" after this long died with its process (e.g. a request that ran it
# was killed): it is marked failed with the error INTERRUPTED.
RUN_TIMEOUT = timedelta(hours=1)
INTERRUPTED = "interrupted"
ERROR_LENGTH = 500
TRIGGERS = {SCHEDULE: _l("Schedule"), MANUAL: _l("Admin page"), SHELL: _l("Command line")}


@dataclass(frozen=True)
class Job:
    name: str
    body: Callable[[datetime], int]
    label: object
    schedule: object  # the schedule in words
    cron: dict  # CronTrigger fields, in the scheduler's time zone
    period_format: str  # one period per scheduled slot: the slot's start, formatted

    def trigger(self, timezone: str) -> CronTrigger:
        return CronTrigger(timezone=ZoneInfo(timezone), **self.cron)

    def period(self, at: datetime, timezone: str) -> str:
        return at.astimezone(ZoneInfo(timezone)).strftime(self.period_format)

    def next_run(self, now: datetime, timezone: str) -> datetime | None:
        return self.trigger(timezone).get_next_fire_time(None, now)


HOURLY, DAILY, EVERY_MINUTE = "%Y-%m-%dT%H", "%Y-%m-%d", "%Y-%m-%dT%H:%M"

MONTHLY = "%Y-%m"

JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "deadline_sweep",
            sweeps.deadline_sweep,
            _l("Deadline sweep: triage and deadline warnings, automatic transfers"),
            _l("Every hour at :05"),
            {"minute": 5},
            HOURLY,
        ),
        Job(
            "obligation_sweep",
            sweeps.obligation_sweep,
            _l("Obligation sweep: defaults, negative records, reminders"),
            _l("Every hour at :15"),
            {"minute": 15},
            HOURLY,
        ),
        Job(
            "certificate_expiry",
            sweeps.certificate_expiry,
            _l("Certificate expiry: holders told once"),
            _l("Every day at 01:30"),
            {"hour": 1, "minute": 30},
            DAILY,
        ),
        Job(
            "outbox_dispatch",
            sweeps.outbox_dispatch,
            _l("Outbox: send SMS and e-mail, retry failures"),
            _l("Every minute"),
            {"minute": "*"},
            EVERY_MINUTE,
        ),
        Job(
            "stats_snapshot",
            snapshot_previous_month,
            _l("Monthly statistics: publish last month's figures"),
            _l("On the 1st of each month at 02:00"),
            {"day": 1, "hour": 2, "minute": 0},
            MONTHLY,
        ),
    )
}


def run_job(name: str, trigger: str = SCHEDULE, now: datetime | None = None) -> JobRun | None:
    """Run job `name` now and record it; None when this period's run was taken already.

    A scheduled run covers its period (the hour, day or minute it is for); a run started by
    hand or from the shell is a period of its own. The body's own errors are recorded on the
    run (status error, a short message; the traceback goes to the log), not raised. Rows a
    sweep could not handle make the run an error too, the rest applied. A run skipped because
    another run of the job holds its lock is recorded as done with 0 rows and no error; the
    returned run's `skipped` is True then.
    """
    job = JOBS[name]
    started_at = now or clock.now()
    close_interrupted()
    timezone = current_app.config["TIMEZONE"]
    period = (
        job.period(started_at, timezone) if trigger == SCHEDULE else f"{trigger}:{uuid.uuid4().hex}"
    )
    run = JobRun(
        job=name, period=period, status="running", started_at=started_at, trigger=trigger, rows=0
    )
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("job %s: period %s has run already", name, period)
        return None
    run_id, ticks, skipped = run.id, time.monotonic(), False
    with _exclusive(name) as acquired:
        if not acquired:
            log.info("job %s: skipped, another run of it holds its lock", name)
            skipped = True
            _finish(run_id, ticks, "ok", 0, None)
        else:
            try:
                with sweeps.counting_failures() as failed:
                    rows = job.body(started_at)
            except Exception as error:
                db.session.rollback()
                current_app.logger.exception("job %s failed", name)
                _finish(run_id, ticks, "error", 0, short_error(error))
            else:
                if failed[0]:
                    message = f"{failed[0]} rows failed, see log"
                    _finish(run_id, ticks, "error", rows, message)
                else:
                    _finish(run_id, ticks, "ok", rows, None)
    result = db.session.get(JobRun, run_id)
    result.skipped = skipped  # not a column: for the caller's message
    return result


def short_error(error: BaseException) -> str:
    """What a run records of an error: its class and the first line of its message, never a
    traceback (that goes to the log); of a database error, the driver's, without the SQL
    statement and its values."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text[:ERROR_LENGTH]


def close_interrupted() -> int:
    """Mark runs still "running" after RUN_TIMEOUT failed (per job, on
    ix_job_run_job_started); the number marked."""
    now = clock.now()
    marked = db.session.execute(
        update(JobRun)
        .where(
            JobRun.job.in_(list(JOBS)),
            JobRun.started_at < now - RUN_TIMEOUT,
            JobRun.status == "running",
        )
        .values(status="error", error=INTERRUPTED, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return marked


def _finish(run_id: int, ticks: float, status: str, rows: int, error: str | None) -> None:
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(
            status=status,
            rows=rows,
            error=error,
            finished_at=clock.now(),
            duration_ms=int((time.monotonic() - ticks) * 1000),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    db.session.expire_all()


@contextmanager
def _exclusive(name: str) -> Iterator[bool]:
    """On PostgreSQL, a session advisory lock for the job on a connection of its own (the
    body commits in batches, so a transaction lock would end at its first commit). SQLite
    lets one writer in at a time anyway, and every body is idempotent."""
    if db.engine.dialect.name != "postgresql":
        yield True
        return
    key = zlib.crc32(f"mediation.job.{name}".encode())  # stable across processes
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        acquired = connection.scalar(text("select pg_try_advisory_lock(:key)"), {"key": key})
        try:
            yield bool(acquired)
        finally:
            if acquired:
                connection.execute(text("select pg_advisory_unlock(:key)"), {"key": key})


def last_runs(name: str, limit: int = 5) -> list[JobRun]:
    """The newest runs of a job (on ix_job_run_job_started)."""
    return list(
        db.session.scalars(
            select(JobRun)
            .where(JobRun.job == name)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(limit)
        )
    )


def last_error(runs: list[JobRun]) -> JobRun | None:
    """The newest failed run among `runs` (newest first)."""
    return next((run for run in runs if run.status == "error"), None)
