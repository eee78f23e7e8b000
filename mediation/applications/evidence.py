"""Evidence a party adds from the portal (SPEC 8): it waits, stored but outside the dossier,
until staff or the case's mediator accept it into the dossier or reject it with a reason the
party sees. The caller commits."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import BinaryIO

from flask import current_app
from sqlalchemy import bindparam, exists, func, select, update

from mediation import clock
from mediation.applications.models import SubmittedFile
from mediation.audit import log
from mediation.auth.models import User
from mediation.cases.models import Case, Party
from mediation.database import begin_writing, lock_until_commit, read
from mediation.documents import dossier, storage
from mediation.documents.models import StoredFile
from mediation.extensions import db
from mediation.portal.lookup import SessionParty
from mediation.web.language import gettext as _

DAY = timedelta(days=1)
# The name of the advisory lock (PostgreSQL) a party holds while it adds a file.
PARTY_LOCK = "mediation.evidence.party"


class EvidenceError(Exception):
    """A refusal with a message; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def daily_limit() -> int:
    return current_app.config.get("PORTAL_MAX_UPLOADS_PER_DAY", 5)


def uploads_today(party: Party | SessionParty) -> int:
    """The party's files of the last 24 hours (its limit is per day)."""
    since = clock.now() - DAY
    return db.session.scalar(
        select(func.count())
        .select_from(SubmittedFile)
        .where(SubmittedFile.party_id == party.id, SubmittedFile.submitted_at > since)
    )


def _check_daily_limit(party: Party | SessionParty) -> None:
    if uploads_today(party) >= daily_limit():
        raise EvidenceError(
            _("You can add at most %(n)d files a day. Please try again tomorrow.", n=daily_limit()),
            "file",
        )


def submit_evidence(
    case: Case, party: Party | SessionParty, stream: BinaryIO, filename: str | None
):
    """Store a file a party adds to its case, waiting for staff. The same file sent again
    while it still waits (a double tap) is that submission, not a second one. Raises
    EvidenceError (the case has concluded, the day's limit is reached) or
    storage.UploadRefused."""
    if party.case_id != case.id:
        raise EvidenceError(_("You may not add files to this case."))
    if case.concluded_at is not None:
        raise EvidenceError(_("Your case has concluded: files can no longer be added here."))
    # Over the day's limit nothing is stored, unless a file of the party's waits: the same file
    # sent again is that submission (found once the upload is stored and hashed).
    if not db.session.scalar(_ANY_WAITING, {"party_id": party.id, "case_id": case.id}):
        _check_daily_limit(party)
    stored = storage.store(stream)  # on disk before the write lock is taken
    try:
        begin_writing()
        lock_until_commit(PARTY_LOCK, party.id)  # a second upload at once then sees the first
        waiting = db.session.scalar(
            _WAITING, {"party_id": party.id, "case_id": case.id, "sha256": stored.sha256}
        )
        if waiting is not None:
            return waiting
        _check_daily_limit(party)
        dossier.remember_content(stored)
        submitted = SubmittedFile(
            case_id=case.id,
            party_id=party.id,
            sha256=stored.sha256,
            filename=storage.clean_filename(filename),
            submitted_at=clock.now(),
        )
        db.session.add(submitted)
        db.session.flush()
    except BaseException:
        dossier.discard_unsaved([stored])
        raise
    log.record(
        "evidence.submit",
        target=case.number,
        centre_id=case.centre_id,
        actor=None,
        party=party.name,
        filename=submitted.filename,
        sha256=stored.sha256,
    )
    return submitted


_WAITING = select(SubmittedFile).where(
    SubmittedFile.party_id == bindparam("party_id"),
    SubmittedFile.case_id == bindparam("case_id"),
    SubmittedFile.sha256 == bindparam("sha256"),
    SubmittedFile.state == "pending",
)
_ANY_WAITING = select(
    exists().where(
        SubmittedFile.party_id == bindparam("party_id"),
        SubmittedFile.case_id == bindparam("case_id"),
        SubmittedFile.state == "pending",
    )
)


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    id: int
    filename: str
    state: str
    submitted_at: datetime
    reject_reason: str
    size: int
    content_type: str
    party: str

    @property
    def type_label(self) -> str:
        return storage.type_label(self.content_type)


_ROWS = (
    select(
        SubmittedFile.id,
        SubmittedFile.filename,
        SubmittedFile.state,
        SubmittedFile.submitted_at,
        SubmittedFile.reject_reason,
        StoredFile.size,
        StoredFile.content_type,
        Party.name,
    )
    .join(StoredFile, StoredFile.sha256 == SubmittedFile.sha256)
    .join(Party, Party.id == SubmittedFile.party_id)
)
_PENDING_OF_CASE = _ROWS.where(
    SubmittedFile.case_id == bindparam("case_id"), SubmittedFile.state == "pending"
).order_by(SubmittedFile.id)
_OF_PARTY = (
    _ROWS.where(SubmittedFile.party_id == bindparam("party_id"))
    .order_by(SubmittedFile.submitted_at.desc())
    .limit(50)
)


def pending_of_case(case_id: int) -> list[SubmissionRow]:
    """The files parties submitted to the case that wait for a decision (one query)."""
    return [SubmissionRow(*row) for row in read(_PENDING_OF_CASE, {"case_id": case_id})]


def submitted_by(party: Party | SessionParty) -> list[SubmissionRow]:
    """The party's own files, newest first, with their state and any reason for refusal."""
    return [SubmissionRow(*row) for row in read(_OF_PARTY, {"party_id": party.id})]


def submission_of(case: Case, submission_id: int) -> SubmittedFile | None:
    submitted = db.session.get(SubmittedFile, submission_id)
    if submitted is None or submitted.case_id != case.id or submitted.party_id is None:
        return None
    return submitted


def accept_submission(case: Case, submitted: SubmittedFile, user: User) -> None:
    """Take the file into the dossier as evidence submitted by its party."""
    _decide(submitted, user, state="accepted")
    attachment = dossier.add_submitted_file(
        case, submitted.sha256, submitted.filename, submitted.party_id, user
    )
    submitted.attachment_id = attachment.id


def reject_submission(case: Case, submitted: SubmittedFile, reason: str, user: User) -> None:
    """Leave the file out of the dossier, with a reason its party reads on the portal."""
    if not reason.strip():
        raise EvidenceError(_("Say why the file is not taken, for the party."), "reason")
    _decide(submitted, user, state="rejected", reject_reason=reason.strip()[:500])
    log.record(
        "evidence.reject",
        target=case.number,
        centre_id=case.centre_id,
        filename=submitted.filename,
        reason=reason.strip()[:500],
    )


def _decide(submitted: SubmittedFile, user: User, **values) -> None:
    """A conditional update: a file two people decide at once is decided once."""
    result = db.session.execute(
        update(SubmittedFile)
        .where(SubmittedFile.id == submitted.id, SubmittedFile.state == "pending")
        .values(decided_at=clock.now(), decided_by_id=user.id, **values)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise EvidenceError(_("This file has been decided already."))
