"""The jobs, their schedules, and running one once per period (SPEC 3.8).

`run_job` is the only way a job body runs, from the scheduler, the shell or the admin page.
A scheduled run first inserts its JobRun (job, period): the unique constraint lets exactly one
process have a period, on every engine, so two scheduler processes started by mistake still
run each job once. On PostgreSQL a session advisory lock also keeps two runs of one job (a
scheduled one and one started by hand) from overlapping, and tells a run that is still going
from one whose process died.
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
from sqlalchemy import (
    BigInteger,
    case,
    cast,
    column,
    exists,
    func,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from mediation import clock
from mediation.extensions import db
from mediation.jobs import sweeps
from mediation.jobs.models import JobRun
from mediation.stats.snapshots import snapshot_previous_month
from mediation.web.language import lazy_gettext as _l

log = logging.getLogger(__name__)

SCHEDULE, MANUAL, SHELL = "schedule", "manual", "cli"
# On SQLite, which has no lock to ask, a run still "running" after this long died with its
# process (e.g. a request that ran it was killed): it is marked failed with the error
# INTERRUPTED.
RUN_TIMEOUT = timedelta(hours=1)
INTERRUPTED = "interrupted"
ERROR_LENGTH = 500
TRIGGERS = {SCHEDULE: _l("Schedule"), MANUAL: _l("Admin page"), SHELL: _l("Command line")}


@dataclass(frozen=True)
class Slot:
    """A kind of scheduled slot: how its period is written, and the fields that
    `datetime.replace` sets to go back from a local moment to the start of its slot."""

    format: str
    start: dict

    def period(self, local: datetime) -> str:
        """The slot's local start with the offset from UTC it starts at, e.g.
        "2026-10-25T02+01:00": the hour repeated when clocks go back, or the same local hour
        under another TIMEZONE, is a period of its own."""
        start = local.replace(**self.start)
        return f"{start:{self.format}}{utc_offset(start)}"


def utc_offset(moment: datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


EVERY_MINUTE = Slot("%Y-%m-%dT%H:%M", {"second": 0, "microsecond": 0})
# An hour's start keeps the moment's fold: the repeated hour starts a second time.
HOURLY = Slot("%Y-%m-%dT%H", {"minute": 0, "second": 0, "microsecond": 0})
# A day or a month starts once, also when its first hour is repeated (fold 0: the first).
DAILY = Slot("%Y-%m-%d", {"hour": 0, "minute": 0, "second": 0, "microsecond": 0, "fold": 0})
MONTHLY = Slot("%Y-%m", {**DAILY.start, "day": 1})


@dataclass(frozen=True)
class Job:
    name: str
    body: Callable[[datetime], int]
    label: object
    schedule: object  # the schedule in words
    cron: dict  # CronTrigger fields, in the scheduler's time zone
    slot: Slot  # one period per scheduled slot

    def trigger(self, timezone: str) -> CronTrigger:
        return CronTrigger(timezone=ZoneInfo(timezone), **self.cron)

    def period(self, at: datetime, timezone: str) -> str:
        return self.slot.period(at.astimezone(ZoneInfo(timezone)))

    def next_run(self, now: datetime, timezone: str) -> datetime | None:
        return self.trigger(timezone).get_next_fire_time(None, now)


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
            "housekeeping",
            sweeps.housekeeping,
            _l("Housekeeping: expired sign-ins, old throttle counts and export files"),
            _l("Every day at 03:10"),
            {"hour": 3, "minute": 10},
            DAILY,
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
    # The lock is held from before the run's row is written until its result is: a row still
    # "running" while its job's lock is free was left by a process that died.
    with _exclusive(name) as acquired:
        run_id = _start(JobRun(job=name, period=period, started_at=started_at, trigger=trigger))
        if run_id is None:
            log.info("job %s: period %s has run already", name, period)
            return None
        ticks = time.monotonic()
        if not acquired:
            log.info("job %s: skipped, another run of it holds its lock", name)
            _finish(run_id, ticks, "ok", 0, None)
        else:
            _run_body(job, run_id, started_at, ticks)
    result = db.session.get(JobRun, run_id)
    result.skipped = not acquired  # not a column: for the caller's message
    return result


def _start(run: JobRun) -> int | None:
    """Write the run's row, "running"; its id, or None when its period was taken."""
    run.status, run.rows = "running", 0
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run.id


def _run_body(job: Job, run_id: int, started_at: datetime, ticks: float) -> None:
    try:
        with sweeps.counting_failures() as failed:
            rows = job.body(started_at)
    except Exception as error:
        db.session.rollback()
        current_app.logger.exception("job %s failed", job.name)
        _finish(run_id, ticks, "error", 0, short_error(error))
    else:
        if failed[0]:
            _finish(run_id, ticks, "error", rows, f"{failed[0]} rows failed, see log")
        else:
            _finish(run_id, ticks, "ok", rows, None)


def short_error(error: BaseException) -> str:
    """What a run records of an error: its class and the first line of its message, never a
    traceback (that goes to the log); of a database error, the driver's, without the SQL
    statement and its values."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        error = error.orig
    lines = str(error).strip().splitlines()
    text = f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
    return text[:ERROR_LENGTH]


def close_interrupted(*, scheduler_starting: bool = False) -> int:
    """Mark runs still "running" whose process died as failed with the error INTERRUPTED
    (per job, on ix_job_run_job_started); the number marked.

    On PostgreSQL a run died when no session holds its job's lock any more. SQLite has no such
    lock: a run died when it has been running for RUN_TIMEOUT, and, when the scheduler starts,
    every scheduled run still "running" was the previous scheduler's (one per deployment).
    """
    now = clock.now()
    if db.engine.dialect.name == "postgresql":
        died = ~_lock_held()
    else:
        died = JobRun.started_at < now - RUN_TIMEOUT
        if scheduler_starting:
            died = or_(died, JobRun.trigger == SCHEDULE)
    marked = db.session.execute(
        update(JobRun)
        .where(JobRun.job.in_(list(JOBS)), JobRun.status == "running", died)
        .values(status="error", error=INTERRUPTED, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return marked


PG_LOCKS = table(
    "pg_locks",
    *(column(name) for name in ("locktype", "database", "classid", "objid", "objsubid")),
    column("granted"),
)
PG_DATABASE = table("pg_database", column("oid"), column("datname"))


def _lock_held():
    """Whether a session of this database holds the lock of the run's job, read from
    PostgreSQL's pg_locks view without taking the lock (trying it would skip a run starting
    at that moment). A lock on one bigint key is listed with its high half in classid and its
    low half in objid, objsubid 1."""
    keys = case({name: _lock_key(name) for name in JOBS}, value=JobRun.job)
    this_database = select(PG_DATABASE.c.oid).where(
        PG_DATABASE.c.datname == func.current_database()
    )
    return exists().where(
        PG_LOCKS.c.locktype == "advisory",
        PG_LOCKS.c.granted,
        PG_LOCKS.c.database == this_database.scalar_subquery(),
        PG_LOCKS.c.objsubid == 1,
        cast(PG_LOCKS.c.classid, BigInteger) * 2**32 + cast(PG_LOCKS.c.objid, BigInteger) == keys,
    )


def _lock_key(name: str) -> int:
    return zlib.crc32(f"mediation.job.{name}".encode())  # stable across processes


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
    key = _lock_key(name)
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
