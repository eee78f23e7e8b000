"""Ledger imports from the upload page, as jobs (mediation.jobs.queue).

The page stores the uploaded file in the database (`ledger_file`: every host reads it there),
records a LedgerImport with its queued job and sends the admin to the import's page, which
reads the job's progress and the import's outcome from the database and refreshes itself
until the import ends. A job process on any host does the import.

The import is all-or-nothing: its cases, its outcome and its job's "done" are committed in
one transaction. A job process killed mid-import leaves nothing written; its job is marked
interrupted (`interrupted` below), and the import's page says that nothing was written.
"""

from flask_babel import get_locale
from sqlalchemy import select

from mediation import clock
from mediation.audit.log import client_address, record
from mediation.database import lock_until_commit
from mediation.extensions import db
from mediation.jobs.models import BackgroundJob
from mediation.jobs.queue import Progress, enqueue, finish
from mediation.ledger.checked import discard_file, keep_file, kept_file, sha256_of
from mediation.ledger.importer import import_ledger
from mediation.ledger.models import PROBLEM_LIMIT, LedgerImport
from mediation.ledger.reader import LedgerFileError
from mediation.web.language import gettext as _

LEDGER_IMPORT = "ledger_import"
# The name of the advisory lock (PostgreSQL) an admin holds while an upload is queued.
UPLOAD_LOCK = "mediation.ledger.upload"


def queue_import(ledger_import: LedgerImport, data: bytes | None) -> int:
    """Record the import (its centre, user, file name and options filled in) with its file
    and its queued job, and commit; the import's id (that of the same upload's import still
    under way, when there is one). An import of a dry run's file (`checked_import_id`) passes
    no data: it imports the file kept for the dry run."""
    if data is not None:
        ledger_import.file_sha256 = sha256_of(data)
        under_way = _same_upload_under_way(ledger_import)
        if under_way is not None:
            db.session.rollback()  # nothing written: the lock goes
            return under_way
    job = enqueue(LEDGER_IMPORT, locale=str(get_locale()), client=client_address())
    ledger_import.job_id = job.id
    ledger_import.state = "running"
    ledger_import.started_at = clock.now()
    db.session.add(ledger_import)
    if data is not None:
        db.session.flush()
        keep_file(ledger_import, data)
    db.session.flush()
    import_id = ledger_import.id
    db.session.commit()
    return import_id


def _same_upload_under_way(ledger_import: LedgerImport) -> int | None:
    """The import the same admin queued of the same file, for the same centre and with the
    same options, that has not ended: a double click's second post is sent to it instead of
    importing the file twice. On PostgreSQL the admin's lock, held until the commit, makes
    the second post wait for the first (on SQLite a post takes the write lock at its BEGIN)."""
    if ledger_import.user_id is not None:
        lock_until_commit(UPLOAD_LOCK, ledger_import.user_id)
    return db.session.scalar(
        select(LedgerImport.id).where(
            LedgerImport.user_id == ledger_import.user_id,
            LedgerImport.centre_id == ledger_import.centre_id,
            LedgerImport.file_sha256 == ledger_import.file_sha256,
            LedgerImport.dry_run == ledger_import.dry_run,
            LedgerImport.create_missing == ledger_import.create_missing,
            LedgerImport.state == "running",
        )
    )


def run_import(job: BackgroundJob, progress: Progress) -> None:
    """The job's body: import the file, then record the outcome and the job's end in the
    transaction that writes the cases."""
    ledger_import = db.session.scalar(select(LedgerImport).where(LedgerImport.job_id == job.id))
    data = kept_file(ledger_import.checked_import_id or ledger_import.id, ledger_import.file_sha256)
    if data is None:
        _finish(ledger_import, "failed", error=_("The file is no longer kept: upload it again."))
        return
    try:
        result = import_ledger(
            ledger_import.centre,
            data,
            user=ledger_import.user,
            dry_run=ledger_import.dry_run,
            create_missing=ledger_import.create_missing,
            progress=progress,
            ledger_import_id=ledger_import.id,
            free_while_reading=True,
        )
    except LedgerFileError as error:
        db.session.rollback()
        _finish(ledger_import, "failed", error=str(error))
        return
    if result.ok and not ledger_import.dry_run:
        record(
            "ledger.import",
            target=ledger_import.filename,
            centre_id=ledger_import.centre_id,
            actor=ledger_import.user,
            client=job.client,
            created=result.created,
            skipped=result.skipped,
        )
    _finish(
        ledger_import,
        "done" if result.ok else "refused",
        rows=result.rows,
        created=result.created,
        skipped=result.skipped,
        problem_count=len(result.problems),
        problems=[[p.row, p.column, p.message] for p in result.problems[:PROBLEM_LIMIT]],
        created_organizations=result.created_organizations,
        created_mediators=result.created_mediators,
    )


def interrupted(job: BackgroundJob) -> None:
    """The job's process died mid-import: the import failed, and nothing was written (its
    one transaction went with the process). In the session; the caller commits."""
    ledger_import = db.session.scalar(select(LedgerImport).where(LedgerImport.job_id == job.id))
    if ledger_import is not None and ledger_import.state == "running":
        _outcome(
            ledger_import,
            "failed",
            error=_(
                "The import was interrupted: its job process stopped while it ran. Nothing "
                "was written; import the file again."
            ),
        )


def _finish(ledger_import: LedgerImport, state: str, **outcome) -> None:
    _outcome(ledger_import, state, **outcome)
    finish(ledger_import.job)
    db.session.commit()


def _outcome(ledger_import: LedgerImport, state: str, **outcome) -> None:
    ledger_import.state = state
    ledger_import.finished_at = clock.now()
    for name, value in outcome.items():
        setattr(ledger_import, name, value)
    # A dry run's file is kept for "import now" when its check passed, until imported; an
    # upload imported directly needs its file no more.
    if not ledger_import.dry_run or state != "done":
        discard_file(ledger_import.id)
    if state == "done" and ledger_import.checked_import_id is not None:
        discard_file(ledger_import.checked_import_id)
