"""Long work queued by a page (a ledger import) and done by a job process on any host: the
scheduler (`flask scheduler`) or a worker started for it (`flask jobs work`), never a web
worker. The job's row holds its claim, progress and outcome, so any worker shows them.

A claim reads the oldest queued job `FOR UPDATE SKIP LOCKED` (PostgreSQL: a second process
skips the row instead of waiting for it) and sets it running only while it is still queued,
a compare-and-set that SQLite's single writer makes a claim once too.

A job process that dies leaves its job "running": such a job is marked failed with the error
INTERRUPTED, and its kind's `interrupted` hook says what that means for it. On PostgreSQL a
job's process holds a session advisory lock (JOB_LOCK, job id), taken before the claim is
committed, on the connection that writes its progress: the lock goes with the process. A
SQLite database lives on one host, where a job's worker (host:pid) is a process that exists
or not.
"""

import importlib
import logging
import os
import signal
import socket
import threading
import time
import zlib

from flask import Flask, current_app
from sqlalchemy import BigInteger, create_engine, exists, func, null, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.expression import cast

from mediation import clock
from mediation.extensions import db
from mediation.jobs.models import BackgroundJob
from mediation.jobs.runner import PG_DATABASE, PG_LOCKS, short_error
from mediation.web.language import force_locale

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"
# The first key of a job's advisory lock (the second is its id): a positive int4.
JOB_LOCK = zlib.crc32(b"mediation.background_job") & 0x7FFFFFFF
# A job's progress is written at most this often (a change of phase at once).
PROGRESS_INTERVAL = 0.5
PHASE_PATIENCE = 2.0
# Each kind's body (job, progress) and what an interruption means for it (job).
KINDS = {
    "ledger_import": ("mediation.ledger.background", "run_import", "interrupted"),
    "audit_export": ("mediation.audit.export", "run_export", "interrupted"),
}


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def enqueue(
    kind: str,
    locale: str = "",
    client: str = "",
    user_id: int | None = None,
    centre_id: int | None = None,
    params: dict | None = None,
) -> BackgroundJob:
    """A queued job of `kind`, added to the session and flushed; the caller commits."""
    job = BackgroundJob(
        kind=kind,
        state="queued",
        locale=locale,
        client=client,
        user_id=user_id,
        centre_id=centre_id,
        params=params or {},
        created_at=clock.now(),
    )
    db.session.add(job)
    db.session.flush()
    return job


class JobLost(Exception):
    """The job stopped being this process's while its body worked: a page marked it
    interrupted (on PostgreSQL, when the connection holding its lock dropped)."""


def finish(job: BackgroundJob, state: str = "done", error: str = "") -> None:
    """Set the job's outcome in the session: a body calls it in the transaction that writes
    its work, so the work and "done" are committed together. The job's row is locked first,
    so that a page marking it interrupted either waits for this commit or has already done
    so, and then the work is refused (JobLost): the page said nothing was written."""
    current = db.session.scalar(
        select(BackgroundJob.state).where(BackgroundJob.id == job.id).with_for_update()
    )
    if current != "running":
        raise JobLost(job.id)
    job.state, job.error, job.finished_at = state, error[:500], clock.now()


class Progress:
    """Writes a running job's progress on a connection of its own, outside the body's
    transaction, so that other workers read it while the body works."""

    def __init__(self, job_id: int, connection: Connection):
        self.job_id, self.connection = job_id, connection
        self.phase, self.written = None, 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.written < PROGRESS_INTERVAL:
            return
        # A new phase is worth waiting a moment for SQLite's write lock (held by a web
        # worker's short write); the counts within a phase are not.
        patience = PHASE_PATIENCE if phase != self.phase else 0
        self.phase, self.written = phase, now
        statement = (
            update(BackgroundJob)
            .where(BackgroundJob.id == self.job_id, BackgroundJob.state == "running")
            .values(phase=phase, done=done, total=total, progress_at=clock.now())
        )
        while True:
            try:
                with self.connection.begin():
                    self.connection.execute(statement)
                return
            except OperationalError:
                # SQLite, while the body (or another writer) holds the single write lock.
                if time.monotonic() - now >= patience:
                    log.debug("job %s: progress not written (database busy)", self.job_id)
                    return
                time.sleep(0.01)


def side_engine() -> Engine:
    """The engine of the connection a job process writes progress on (and, on PostgreSQL,
    holds its job's lock on): unpooled, so that a closed connection ends its session and its
    lock with it; on SQLite one that never waits for the write lock."""
    if db.engine.dialect.name == "postgresql":
        return create_engine(db.engine.url, poolclass=NullPool)
    return create_engine(db.engine.url, connect_args={"timeout": 0}, poolclass=NullPool)


def claim(connection: Connection) -> int | None:
    """Claim the oldest queued job for this process; its id, or None when none is queued
    (or another process took it at the same moment)."""
    job_id = db.session.scalar(
        select(BackgroundJob.id)
        .where(BackgroundJob.state == "queued")
        .order_by(BackgroundJob.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if job_id is None:
        db.session.rollback()
        return None
    postgresql = db.engine.dialect.name == "postgresql"
    if postgresql and not _lock(connection, job_id):
        db.session.rollback()
        return None
    now = clock.now()
    claimed = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.state == "queued")
        .values(state="running", worker=this_worker(), started_at=now, progress_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed:
        if postgresql:
            _unlock(connection, job_id)
        return None
    return job_id


def _lock(connection: Connection, job_id: int) -> bool:
    with connection.begin():
        return bool(
            connection.scalar(
                text("select pg_try_advisory_lock(:key, :id)"), {"key": JOB_LOCK, "id": job_id}
            )
        )


def _unlock(connection: Connection, job_id: int) -> None:
    with connection.begin():
        connection.execute(
            text("select pg_advisory_unlock(:key, :id)"), {"key": JOB_LOCK, "id": job_id}
        )


def _release(connection: Connection, job_id: int) -> None:
    """Unlock the job's lock; a connection that dropped meanwhile took the lock with it."""
    try:
        _unlock(connection, job_id)
    except OperationalError:
        log.warning("job %s: its lock's connection had dropped", job_id)


def run_next() -> bool:
    """Claim the oldest queued job and do it, in this process; False when none was queued."""
    connection = side_engine().connect()
    try:
        job_id = claim(connection)
        if job_id is None:
            return False
        try:
            _run(job_id, Progress(job_id, connection))
        finally:
            if db.engine.dialect.name == "postgresql":
                _release(connection, job_id)
        return True
    finally:
        connection.close()


def _run(job_id: int, progress: Progress) -> None:
    job = db.session.get(BackgroundJob, job_id)
    module, body, _interrupted = KINDS[job.kind]
    locale = job.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        try:
            getattr(importlib.import_module(module), body)(job, progress)
        except JobLost:
            log.warning(
                "job %s (%s) was marked interrupted meanwhile: its work is undone", job_id, job.kind
            )
            db.session.rollback()
            return
        except Exception as error:
            log.exception("job %s (%s) broke off", job_id, job.kind)
            db.session.rollback()
            _fail(job_id, short_error(error))
            return
        job = db.session.get(BackgroundJob, job_id)
        if job.state == "running":  # a body that did not set its outcome
            finish(job)
            db.session.commit()


def _fail(job_id: int, error: str) -> None:
    """Mark a running job failed, and let its kind say what that means (in its language)."""
    now = clock.now()
    failed = db.session.execute(
        update(BackgroundJob)
        .where(BackgroundJob.id == job_id, BackgroundJob.state == "running")
        .values(state="failed", error=error[:500], finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if failed:
        job = db.session.get(BackgroundJob, job_id)
        db.session.refresh(job)
        module, _body, interrupted = KINDS[job.kind]
        with force_locale(job.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            getattr(importlib.import_module(module), interrupted)(job)
    db.session.commit()


def close_interrupted() -> int:
    """Mark running jobs whose process died as failed (INTERRUPTED); how many. Pages that
    show jobs call it first: it writes only when a job's process has died."""
    running = db.session.execute(
        select(BackgroundJob.id, BackgroundJob.worker, _lock_held()).where(
            BackgroundJob.state == "running"
        )
    ).all()
    died = [job_id for job_id, worker, held in running if not _alive(worker, held)]
    for job_id in died:
        log.warning("job %s: its process died; marked %s", job_id, INTERRUPTED)
        _fail(job_id, INTERRUPTED)
    return len(died)


def _lock_held():
    """Whether a session of this database holds the job's advisory lock (PostgreSQL's
    pg_locks lists a lock on two int4 keys as classid, objid and objsubid 2); read without
    taking it. On SQLite: null."""
    if db.engine.dialect.name != "postgresql":
        return null().label("held")
    this_database = select(PG_DATABASE.c.oid).where(
        PG_DATABASE.c.datname == func.current_database()
    )
    return (
        exists()
        .where(
            PG_LOCKS.c.locktype == "advisory",
            PG_LOCKS.c.granted,
            PG_LOCKS.c.database == this_database.scalar_subquery(),
            PG_LOCKS.c.objsubid == 2,
            cast(PG_LOCKS.c.classid, BigInteger) == JOB_LOCK,
            cast(PG_LOCKS.c.objid, BigInteger) == BackgroundJob.id,
        )
        .label("held")
    )


def _alive(worker: str, lock_held: bool | None) -> bool:
    if lock_held is not None:
        return lock_held
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # SQLite on another host cannot be: not ours to judge
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def work(app: Flask, once: bool = False, stop: threading.Event | None = None) -> int:
    """Do queued jobs until `stop` is set (or, `once`, until none is queued); how many."""
    stop = stop or threading.Event()
    count = 0
    with app.app_context():
        close_interrupted()
    while not stop.is_set():
        with app.app_context():
            try:
                did = run_next()
            except OperationalError:  # e.g. the database away, or SQLite's lock held long
                log.exception("the job queue could not be read")
                db.session.rollback()
                did = False
        count += did
        if not did:
            if once:
                break
            stop.wait(app.config["JOB_POLL_SECONDS"])
    return count


def work_until_signalled(app: Flask) -> int:
    """`flask jobs work`: do queued jobs until SIGTERM or SIGINT, finishing the one under way."""
    stop = threading.Event()

    def request_stop(_signum, _frame):
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return work(app, stop=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_queue_now(app: Flask) -> None:
    """JOBS_RUN_AT_ONCE (tests): do the queued jobs in a thread, as a job process would, and
    wait for them."""
    thread = threading.Thread(target=work, args=(app,), kwargs={"once": True})
    thread.start()
    thread.join()
