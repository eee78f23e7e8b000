"""Uploaded files kept in the database, with their SHA-256, for the job process that imports
them. "Import now" after a dry run imports the file the dry run checked, from there, so that
what is imported is the very file that was checked and nothing the browser sends again counts.
A kept file goes once it has been imported, when its check found problems, or after
KEEP_CHECKED."""

import hashlib
from datetime import timedelta

from sqlalchemy import delete, select

from mediation import clock
from mediation.extensions import db
from mediation.ledger.models import LedgerFile, LedgerImport

KEEP_CHECKED = timedelta(days=7)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def keep_file(ledger_import: LedgerImport, data: bytes) -> None:
    """Keep the file of a dry run (flushed, with an id), and drop the files kept too long."""
    db.session.execute(
        delete(LedgerFile).where(
            LedgerFile.import_id.in_(
                select(LedgerImport.id).where(LedgerImport.started_at < clock.now() - KEEP_CHECKED)
            )
        )
    )
    db.session.add(
        LedgerFile(import_id=ledger_import.id, sha256=ledger_import.file_sha256, data=data)
    )


def discard_file(import_id: int) -> None:
    db.session.execute(delete(LedgerFile).where(LedgerFile.import_id == import_id))


def import_of(checked: LedgerImport) -> LedgerImport | None:
    """The latest import started from this dry run with "import now"."""
    return db.session.scalar(
        select(LedgerImport)
        .where(LedgerImport.checked_import_id == checked.id)
        .order_by(LedgerImport.id.desc())
        .limit(1)
    )


def may_import_now(checked: LedgerImport, under_way: bool) -> bool:
    """Whether the dry run `checked` can be imported now: it found no problem and cases to
    create, its file is still kept, and no import of it is `under_way` (running or done). An
    import of it that was refused or failed (the directory changed meanwhile, the server
    stopped) may be started again."""
    if under_way or not (checked.dry_run and checked.state == "done" and checked.created):
        return False
    if clock.now() - checked.started_at > KEEP_CHECKED:
        return False
    kept = select(LedgerFile.import_id).where(LedgerFile.import_id == checked.id)
    return db.session.scalar(kept) is not None


def checked_file(checked: LedgerImport) -> bytes | None:
    """The kept file of the dry run, when it is still the file the dry run checked."""
    return kept_file(checked.id, checked.file_sha256)


def kept_file(import_id: int, sha256: str) -> bytes | None:
    """The file kept for an import, when it is still the file of SHA-256 `sha256`."""
    kept = db.session.get(LedgerFile, import_id)
    if kept is None or kept.sha256 != sha256 or sha256_of(kept.data) != sha256:
        return None
    return kept.data
