"""The bodies of the scheduled jobs (SPEC 3.3, 3.7, 3.8).

Each takes the time it runs at and returns how many rows it touched. Each finds only due rows
with indexed queries by centre (a business date is the centre's own; the deadline sweep asks
once for all the centres of a time zone), applies the workflow for any change of state —
never setting a state itself — and commits every BATCH rows.
Running one twice changes nothing more: a row it handled is no longer due (its state moved, or
its warned/reminded time is set), and every notice has a dedupe key.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, String, cast, delete, exists, literal, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from mediation import clock
from mediation.auth.accounts import forget_expired_sessions
from mediation.auth.throttle import forget_old_hits
from mediation.cases import workflow
from mediation.cases.models import Case
from mediation.cases.states import IN_MEDIATION, State
from mediation.cases.workflow import Actor, WorkflowError
from mediation.directory.calendar import local_date
from mediation.directory.centres import by_time_zone
from mediation.directory.models import Centre
from mediation.directory.settings import warning_days
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.integrity.records import DEFAULT_AFTER_DAYS, record_default
from mediation.jobs.models import BackgroundJob, JobFile, JobRun
from mediation.notify import notices, outbox
from mediation.notify.models import OutboxMessage

log = logging.getLogger(__name__)

BATCH = 200
REMINDER_DAYS = 3  # the obligor is reminded this many days before a due date
IN_MEDIATION_VALUES = [state.value for state in IN_MEDIATION]
# Runs kept in job_run: the every-minute outbox job alone adds ~525,000 a year.
KEEP_OK_RUNS = timedelta(days=30)
KEEP_FAILED_RUNS = timedelta(days=365)
_failures: ContextVar[list[int] | None] = ContextVar("sweep_failures", default=None)


@contextmanager
def counting_failures() -> Iterator[list[int]]:
    """Inside, rows that failed are counted in the yielded list's one item (the runner
    records the count on the run)."""
    counter = [0]
    token = _failures.set(counter)
    try:
        yield counter
    finally:
        _failures.reset(token)


def _centres() -> list[Centre]:
    """Every centre, with its settings (one statement for all, not one a centre)."""
    return list(
        db.session.scalars(
            select(Centre).options(selectinload(Centre.settings)).order_by(Centre.id)
        )
    )


def _in_batches(query: Select, key, handle: Callable[[object], int]) -> int:
    """Run `query` (due rows) page by page on `key`, `handle` each row, commit each page.

    The due rows' keys are found first, on the index of the query's own conditions: paging
    with ORDER BY key LIMIT n tempts PostgreSQL to walk the primary key through every case of
    the centre, which with nothing due reads them all.

    A row the workflow refuses (it changed meanwhile) is logged and skipped; a row that fails
    in any other way is logged with its traceback and counted (see counting_failures). Either
    way its savepoint keeps the rest of the batch, and the sweep goes on with the next row and
    the next centre: one broken case never stops the automatic transfers of the others.
    """
    keys = sorted(db.session.scalars(query.with_only_columns(key)))
    touched = 0
    for start in range(0, len(keys), BATCH):
        page = keys[start : start + BATCH]
        # Asked again: a row may have stopped being due since (a user acted on it).
        rows = list(db.session.scalars(query.where(key.in_(page)).order_by(key)))
        for row in rows:
            row_id = row.id
            try:
                with db.session.begin_nested():
                    touched += handle(row)
            except (WorkflowError, StaleDataError) as error:
                log.warning("%s %s skipped: %s", type(row).__name__, row_id, error)
            except Exception:
                current_app.logger.exception("%s %s failed", type(row).__name__, row_id)
                counter = _failures.get()
                if counter is not None:
                    counter[0] += 1
        db.session.commit()
    return touched


def deadline_sweep(now: datetime) -> int:
    """Triage overdue warnings, mediation deadline warnings (once per deadline), and the
    automatic transfer (deadline_expired) the day after a deadline.

    The centres of one time zone share a business date and are swept together, so an hourly
    sweep with nothing due asks the same few statements for one centre or a province's."""
    touched = 0
    staff = _StaffOf()
    for centres in by_time_zone(_centres()):
        today = local_date(now, centres[0])
        ids = [centre.id for centre in centres]
        touched += _triage_overdue(ids, today, staff, now)
        for days, same_days in _by_warning_days(centres):
            touched += _deadline_warnings(same_days, days, today, staff, now)
        touched += _expire(ids, today, now)
    return touched


class _StaffOf(dict):
    """{centre id: its active staff}, asked for once a sweep, when a case of the centre is
    due."""

    def __missing__(self, centre_id: int) -> list:
        self[centre_id] = notices.centre_staff(centre_id)
        return self[centre_id]


def _by_warning_days(centres: list[Centre]) -> list[tuple[int, list[int]]]:
    """[(warning days, the ids of the centres that warn so many days ahead)]"""
    ids_by_days: dict[int, list[int]] = {}
    for centre in centres:
        ids_by_days.setdefault(warning_days(centre.id), []).append(centre.id)
    return sorted(ids_by_days.items())


def _triage_overdue(centre_ids: list[int], today, staff: _StaffOf, now: datetime) -> int:
    query = select(Case).where(
        Case.centre_id.in_(centre_ids),
        Case.state == State.REGISTERED.value,
        Case.triage_due_on < today,
        Case.triage_warned_at.is_(None),
    )

    def handle(case: Case) -> int:
        notices.triage_overdue(case, staff[case.centre_id])
        _mark(Case, case.id, triage_warned_at=now)
        return 1

    return _in_batches(query, Case.id, handle)


def _deadline_warnings(
    centre_ids: list[int], days: int, today, staff: _StaffOf, now: datetime
) -> int:
    query = select(Case).where(
        Case.centre_id.in_(centre_ids),
        Case.state.in_(IN_MEDIATION_VALUES),
        Case.deadline_on >= today,
        Case.deadline_on <= today + timedelta(days=days),
        Case.warned_at.is_(None),
    )

    def handle(case: Case) -> int:
        notices.deadline_warning(case, staff[case.centre_id], (case.deadline_on - today).days)
        _mark(Case, case.id, warned_at=now)
        return 1

    return _in_batches(query, Case.id, handle)


def _expire(centre_ids: list[int], today, now: datetime) -> int:
    query = select(Case).where(
        Case.centre_id.in_(centre_ids),
        Case.state.in_(IN_MEDIATION_VALUES),
        Case.deadline_on < today,
    )

    def handle(case: Case) -> int:
        workflow.expire_case(case, Actor.scheduler(), at=now)
        return 1

    return _in_batches(query, Case.id, handle)


def _mark(model, row_id: int, **values) -> None:
    """Set a bookkeeping time without the version check: a warning sent must not make a
    user's save of the same case fail as "changed meanwhile"."""
    db.session.execute(
        update(model)
        .where(model.id == row_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


# --- obligation sweep ----------------------------------------------------------------------


def obligation_sweep(now: datetime) -> int:
    """Agreements past a due date become defaulted; obligations unmet 30 days after their due
    date get a negative integrity record; obligors are reminded 3 days before a due date."""
    touched = 0
    for centre in _centres():
        today = local_date(now, centre)
        touched += _default(centre, today, now)
        touched += _negative_records(centre, today, now)
        touched += _remind(centre, today, now)
    return touched


def _open_obligations(centre: Centre, states: Iterable[State]) -> Select:
    """Unmet obligations of the centre's cases in `states`: through ix_obligation_open_due."""
    return (
        select(Obligation)
        .join(Case, Case.id == Obligation.case_id)
        .where(
            Obligation.fulfilled_on.is_(None),
            Case.centre_id == centre.id,
            Case.state.in_([state.value for state in states]),
        )
    )


def _default(centre: Centre, today, now: datetime) -> int:
    """Agreed cases with an obligation past its due date (the agreed cases of a centre are the
    ones being performed now; the obligation is found on its case_id index)."""
    overdue = exists().where(
        Obligation.case_id == Case.id,
        Obligation.fulfilled_on.is_(None),
        Obligation.due_on < today,
    )
    query = select(Case).where(
        Case.centre_id == centre.id, Case.state == State.AGREED.value, overdue
    )

    def handle(case: Case) -> int:
        workflow.default_case(case, Actor.scheduler(), at=now)
        return 1

    return _in_batches(query, Case.id, handle)


def _negative_records(centre: Centre, today, now: datetime) -> int:
    last_due = today - timedelta(days=DEFAULT_AFTER_DAYS)
    # The record's dedupe key is "negative:<obligation id>"; its unique index answers
    # whether the record exists, so only obligations still without one are handled.
    recorded = exists().where(
        IntegrityRecord.dedupe_key == literal("negative:") + cast(Obligation.id, String)
    )
    # Open-ended (all unmet obligations due by last_due without a record), so a scheduler
    # that was down for months still writes every record; _in_batches pages it.
    query = _open_obligations(centre, [State.AGREED, State.DEFAULTED, State.TRANSFERRED]).where(
        Obligation.due_on <= last_due,
        ~recorded,
    )

    def handle(obligation: Obligation) -> int:
        return 1 if record_default(obligation, now) is not None else 0

    return _in_batches(query, Obligation.id, handle)


def _remind(centre: Centre, today, now: datetime) -> int:
    query = _open_obligations(centre, [State.AGREED, State.DEFAULTED]).where(
        Obligation.due_on >= today,
        Obligation.due_on <= today + timedelta(days=REMINDER_DAYS),
        Obligation.reminded_at.is_(None),
    )

    def handle(obligation: Obligation) -> int:
        notices.obligation_reminder(obligation, db.session.get(Case, obligation.case_id))
        _mark(Obligation, obligation.id, reminded_at=now)
        return 1

    return _in_batches(query, Obligation.id, handle)


# --- certificates and the outbox -----------------------------------------------------------


def certificate_expiry(now: datetime) -> int:
    """Holders hear once that their certificate has expired (its status is computed from
    valid_until, so no row changes; the notice's dedupe key makes it once). Every expired
    certificate whose holder has no notice yet, however long ago it expired (a scheduler that
    was down catches up); the notice is found on the dedupe key's unique index."""
    told = exists().where(
        IntegrityRecord.id == Certificate.record_id,
        OutboxMessage.dedupe_key
        == literal("certificate_expired:")
        + cast(Certificate.id, String)
        + literal(":party:")
        + cast(IntegrityRecord.party_id, String),
    )
    touched = 0
    for centre in _centres():
        today = local_date(now, centre)
        query = select(Certificate).where(
            Certificate.centre_id == centre.id,
            Certificate.valid_until < today,
            Certificate.revoked_at.is_(None),
            ~told,
        )
        touched += _in_batches(query, Certificate.id, notices.certificate_expired)
    return touched


def outbox_dispatch(now: datetime) -> int:
    handled = outbox.dispatch(now)
    prune_runs()
    return handled


def prune_runs() -> int:
    """Forget successful runs after 30 days and failed ones after a year (per job, on
    ix_job_run_job_started); the number of runs deleted."""
    from mediation.jobs.runner import JOBS  # the runner imports this module

    now = clock.now()
    deleted = 0
    for name in JOBS:
        for status, keep in (("ok", KEEP_OK_RUNS), ("error", KEEP_FAILED_RUNS)):
            deleted += db.session.execute(
                delete(JobRun)
                .where(
                    JobRun.job == name,
                    JobRun.started_at < now - keep,
                    JobRun.status == status,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
    db.session.commit()
    return deleted


# --- housekeeping ---------------------------------------------------------------------------


def housekeeping(now: datetime) -> int:
    """Forget what nothing needs any more: failures no throttle's window counts, expired
    sign-ins, and the files of exports that ended more than JOB_FILES_KEEP_DAYS ago; how many
    rows."""
    forgotten = forget_old_hits(now) + forget_expired_sessions(now) + _forget_old_files(now)
    db.session.commit()
    return forgotten


def _forget_old_files(now: datetime) -> int:
    kept_since = now - timedelta(days=current_app.config["JOB_FILES_KEEP_DAYS"])
    ended_before = select(BackgroundJob.id).where(BackgroundJob.finished_at < kept_since)
    return db.session.execute(
        delete(JobFile)
        .where(JobFile.job_id.in_(ended_before))
        .execution_options(synchronize_session=False)
    ).rowcount
