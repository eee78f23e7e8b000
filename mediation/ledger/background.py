"""Ledger imports from the upload page, run in a thread beside the request.

A big ledger takes a minute or more, longer than a request should: the page records a
`LedgerImport`, starts the import in a thread of the same worker and sends the admin to the
import's own page, which refreshes itself until the import ends.

The import is one transaction (all or nothing), so its progress cannot be written to the
database while it runs — on SQLite the import holds the only write lock. The thread writes its
progress to a small file instead (`LEDGER_PROGRESS_FOLDER`), which every worker of the host
can read. When the worker dies mid-import, the transaction is rolled back and the page, seeing
no progress for `STALE_AFTER`, says the import was interrupted and nothing was written.
"""

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from mediation import clock
from mediation.audit.log import client_address, record
from mediation.extensions import db
from mediation.ledger.checked import discard_file
from mediation.ledger.importer import import_ledger
from mediation.ledger.models import PROBLEM_LIMIT, LedgerImport
from mediation.ledger.reader import LedgerFileError

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)


@dataclass
class Progress:
    done: int
    total: int
    at: datetime

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def _progress_path(import_id: int) -> Path:
    folder = Path(current_app.config["LEDGER_PROGRESS_FOLDER"])
    if not folder.is_absolute():
        folder = Path(current_app.root_path).parent / folder
    return folder / f"{import_id}.json"


def write_progress(import_id: int, done: int, total: int) -> None:
    path = _progress_path(import_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"done": done, "total": total, "at": clock.now().isoformat()}))
    os.replace(temporary, path)  # a reader never sees half a file


def read_progress(import_id: int) -> Progress | None:
    path = _progress_path(import_id)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return Progress(data["done"], data["total"], datetime.fromisoformat(data["at"]))


def is_interrupted(ledger_import: LedgerImport, progress: Progress | None) -> bool:
    """A running import whose thread has shown no sign of life for STALE_AFTER."""
    if ledger_import.state != "running":
        return False
    last_sign = progress.at if progress else ledger_import.started_at
    return clock.now() - last_sign > STALE_AFTER


def start_import(import_id: int, data: bytes) -> threading.Thread:
    """Run the recorded import in a thread; the caller has committed its LedgerImport."""
    # Written before the thread starts: the import's page, asked for at once, must not find a
    # file left by an import of another database that had the same id.
    write_progress(import_id, 0, 0)
    app = current_app._get_current_object()
    # The problems are stored as messages: in the language of whoever uploaded the file.
    locale = str(get_locale())
    thread = threading.Thread(
        target=_run,
        args=(app, import_id, data, client_address(), locale),
        name=f"ledger-{import_id}",
    )
    thread.start()
    return thread


def _run(app: Flask, import_id: int, data: bytes, client: str, locale: str) -> None:
    with app.app_context(), force_locale(locale):
        try:
            _import(import_id, data, client)
        except Exception:
            log.exception("ledger import %s broke off", import_id)
            db.session.rollback()
            _finish(import_id, "failed", error=_("The import broke off; nothing was written."))
        finally:
            _progress_path(import_id).unlink(missing_ok=True)


def _import(import_id: int, data: bytes, client: str) -> None:
    ledger_import = db.session.get(LedgerImport, import_id)
    centre, user = ledger_import.centre, ledger_import.user
    filename, dry_run = ledger_import.filename, ledger_import.dry_run
    try:
        result = import_ledger(
            centre,
            data,
            user=user,
            dry_run=dry_run,
            create_missing=ledger_import.create_missing,
            progress=lambda done, total: write_progress(import_id, done, total),
            ledger_import_id=import_id,
        )
    except LedgerFileError as error:
        db.session.rollback()
        _finish(import_id, "failed", error=str(error))
        return
    if result.ok and not dry_run:
        record(
            "ledger.import",
            target=filename,
            centre_id=centre.id,
            actor=user,
            client=client,
            created=result.created,
            skipped=result.skipped,
        )
        db.session.commit()
    _finish(
        import_id,
        "done" if result.ok else "refused",
        rows=result.rows,
        created=result.created,
        skipped=result.skipped,
        problem_count=len(result.problems),
        problems=[[p.row, p.column, p.message] for p in result.problems[:PROBLEM_LIMIT]],
        created_organizations=result.created_organizations,
        created_mediators=result.created_mediators,
    )


def _finish(import_id: int, state: str, **outcome) -> None:
    ledger_import = db.session.get(LedgerImport, import_id)
    ledger_import.state = state
    ledger_import.finished_at = clock.now()
    for name, value in outcome.items():
        setattr(ledger_import, name, value)
    # A kept file is needed until the check it passed has been imported.
    if ledger_import.dry_run and state != "done":
        discard_file(import_id)
    elif state == "done" and ledger_import.checked_import_id is not None:
        discard_file(ledger_import.checked_import_id)
    db.session.commit()
