"""The digital dossier (数字卷宗) of a case: adding files, superseding them, and the files
handed to the court with a transfer. Nothing here changes a case's state; every change is
written to the audit log. The caller commits."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import BinaryIO

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from mediation import clock
from mediation.audit import log
from mediation.auth.models import Role, User
from mediation.cases.access import may_see
from mediation.cases.models import Case, Party, Transfer
from mediation.database import read
from mediation.documents import storage
from mediation.documents.models import ATTACHMENT_KINDS, Attachment, StoredFile, transfer_document
from mediation.extensions import db
from mediation.web.language import gettext as _
from mediation.web.language import lazy_gettext as _l

KIND_LABELS = {
    "application": _l("Application papers"),
    "evidence": _l("Evidence"),
    "agreement": _l("Agreement papers"),
    "minutes": _l("Session minutes"),
    "transfer": _l("Transfer papers"),
    "other": _l("Other papers"),
}


class DossierError(Exception):
    """A change the dossier refuses; str() is the message, `field` the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class DossierEntry:
    """One file as the lists show it: a row read with its stored file's size and type and
    its uploader's name (the lists only show it)."""

    id: int
    filename: str
    kind: str
    note: str
    uploaded_at: datetime
    superseded_at: datetime | None
    size: int
    content_type: str
    submitted_by: str | None  # the party who submitted it (online), accepted by the uploader
    uploader: str

    @property
    def type_label(self) -> str:
        return storage.type_label(self.content_type)


def _entries(statement, params: dict) -> list[DossierEntry]:
    return [DossierEntry(*row[:-1], row[-1] or "—") for row in read(statement, params)]


def _entries_statement():
    return (
        select(
            Attachment.id,
            Attachment.filename,
            Attachment.kind,
            Attachment.note,
            Attachment.uploaded_at,
            Attachment.superseded_at,
            StoredFile.size,
            StoredFile.content_type,
            Party.name,
            User.display_name,
        )
        .join(StoredFile, StoredFile.sha256 == Attachment.sha256)
        .outerjoin(Party, Party.id == Attachment.submitted_by_party_id)
        .outerjoin(User, User.id == Attachment.uploaded_by_id)
    )


def may_see_dossier(case: Case, user) -> bool:
    """Who may see and download a case's files: staff and administrators of its centre (a
    global administrator: every centre; a regional one: its region's), and its assigned
    mediator. Parties do not see the dossier."""
    return (
        user.is_authenticated
        and user.has_role(Role.ADMIN, Role.STAFF, Role.MEDIATOR, Role.REGIONAL_ADMIN)
        and may_see(user, case.centre_id, case.mediator_user_id)
    )


def may_use_dossier(case: Case, user) -> bool:
    """Who may also add and supersede files: all of those but a regional administrator,
    who only reads."""
    return may_see_dossier(case, user) and not user.is_regional_admin


@dataclass(frozen=True)
class DossierPanel:
    """What the case page's dossier card shows."""

    current: list[DossierEntry]
    superseded: int  # how many files are superseded
    may_change: bool  # may add and supersede files


def dossier_panel(case, user, has_files: bool) -> DossierPanel | None:
    """The case page's dossier card for `user` (None: not theirs to see); its files are not
    looked for when the case has none."""
    if not may_see_dossier(case, user):
        return None
    entries = dossier_of(case) if has_files else []
    return DossierPanel(
        current=[e for e in entries if e.superseded_at is None],
        superseded=sum(1 for e in entries if e.superseded_at is not None),
        may_change=may_use_dossier(case, user),
    )


def dossier_of(case: Case) -> list[DossierEntry]:
    """Every file of the case, newest first (one query)."""
    return _entries(_dossier_statement(), {"case_id": case.id})


@cache
def _dossier_statement():
    # Built once: every case page shows the dossier.
    return (
        _entries_statement()
        .where(Attachment.case_id == bindparam("case_id"))
        .order_by(Attachment.id.desc())
    )


def attachment_of(case: Case, attachment_id: int) -> Attachment | None:
    attachment = db.session.get(
        Attachment, attachment_id, options=[joinedload(Attachment.stored_file)]
    )
    if attachment is None or attachment.case_id != case.id:
        return None
    return attachment


def add_file(
    case: Case,
    stream: BinaryIO,
    filename: str | None,
    kind: str,
    user: User,
    note: str = "",
    replaces: Attachment | None = None,
) -> Attachment:
    """Store an uploaded file in the case's dossier; `replaces` is marked superseded by it.
    Raises storage.UploadRefused or DossierError; a refused file leaves nothing behind."""
    if kind not in ATTACHMENT_KINDS:
        raise DossierError(_("Choose what kind of paper this is."), "kind")
    if replaces is not None and (replaces.case_id != case.id or replaces.superseded_at):
        raise DossierError(_("That file is already superseded."), "replaces")
    stored = store_content(stream)
    attachment = Attachment(
        case_id=case.id,
        sha256=stored.sha256,
        filename=storage.clean_filename(filename),
        kind=kind,
        note=note.strip()[:500],
        uploaded_by_id=user.id,
        uploaded_at=clock.now(),
    )
    db.session.add(attachment)
    db.session.flush()
    log.record(
        "dossier.upload",
        target=case.number,
        centre_id=case.centre_id,
        attachment=attachment.id,
        filename=attachment.filename,
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        kind=kind,
    )
    if replaces is not None:
        supersede(case, replaces, user, by=attachment)
    return attachment


def store_content(stream: BinaryIO) -> storage.StoredContent:
    """An upload stored on disk (storage.store) with its content's row; raises
    storage.UploadRefused. The caller links it to a case or an application."""
    stored = storage.store(stream)
    remember_content(stored)
    return stored


def add_submitted_file(
    case: Case, sha256: str, filename: str, party_id: int, user: User, note: str = ""
) -> Attachment:
    """A file a party submitted (stored already) taken into the case's dossier as evidence,
    marked as submitted by that party and accepted by `user`."""
    attachment = Attachment(
        case_id=case.id,
        sha256=sha256,
        filename=filename,
        kind="evidence",
        note=note.strip()[:500],
        uploaded_by_id=user.id,
        uploaded_at=clock.now(),
        submitted_by_party_id=party_id,
    )
    db.session.add(attachment)
    db.session.flush()
    log.record(
        "dossier.accept_submitted",
        target=case.number,
        centre_id=case.centre_id,
        attachment=attachment.id,
        filename=filename,
        sha256=sha256,
    )
    return attachment


def remember_content(stored: storage.StoredContent) -> None:
    """The row of a content stored on disk (storage.store): one StoredFile row per content;
    a concurrent upload of the same bytes is no error."""
    dialect = db.session.get_bind().dialect.name
    values = {
        "sha256": stored.sha256,
        "size": stored.size,
        "content_type": stored.content_type,
        "created_at": clock.now(),
    }
    if dialect == "postgresql":
        statement = postgresql.insert(StoredFile).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(StoredFile).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two engines above are supported
        if db.session.get(StoredFile, stored.sha256) is not None:
            return
        statement = insert(StoredFile)
    db.session.execute(statement.values(**values))


def discard_unsaved(stored: list[storage.StoredContent]) -> None:
    """Remove the files of uploads whose rows were not saved, but not a content that a saved
    row holds: another request (a double click's other post) may have sent the same bytes,
    found them on disk, and kept them. Read on a connection of its own (the session's
    transaction may have failed); when the database cannot tell, the files stay."""
    new = [content for content in stored if content.is_new]
    if not new:
        return
    try:
        with db.engine.connect() as connection:
            saved = set(
                connection.scalars(
                    select(StoredFile.sha256).where(
                        StoredFile.sha256.in_([content.sha256 for content in new])
                    )
                )
            )
    except SQLAlchemyError:
        return
    storage.discard([content for content in new if content.sha256 not in saved])


def supersede(
    case: Case, attachment: Attachment, user: User, by: Attachment | None = None
) -> datetime:
    """Mark a file superseded (by a newer one, or simply no longer current). The file stays
    in the dossier and can still be downloaded; nothing is ever deleted."""
    at = clock.now()
    # A conditional update, so that two people superseding one file at once cannot both win.
    result = db.session.execute(
        update(Attachment)
        .where(
            Attachment.id == attachment.id,
            Attachment.case_id == case.id,
            Attachment.superseded_at.is_(None),
        )
        .values(superseded_at=at, superseded_by_id=by.id if by else None)
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:
        raise DossierError(_("That file is already superseded."), "replaces")
    log.record(
        "dossier.supersede",
        target=case.number,
        centre_id=case.centre_id,
        attachment=attachment.id,
        filename=attachment.filename,
        superseded_by=by.id if by else None,
    )
    return at


def handed_over(transfer: Transfer | None) -> list[DossierEntry]:
    """The dossier files handed to the court with this transfer, in upload order."""
    if transfer is None:
        return []
    statement = (
        _entries_statement()
        .join(transfer_document, transfer_document.c.attachment_id == Attachment.id)
        .where(transfer_document.c.transfer_id == transfer.id)
        .order_by(Attachment.id)
    )
    return _entries(statement, {})


def handed_over_ids(transfer: Transfer) -> list[int]:
    return sorted(
        db.session.scalars(
            select(transfer_document.c.attachment_id).where(
                transfer_document.c.transfer_id == transfer.id
            )
        )
    )


def record_handed_over(case: Case, attachment_ids: list[int], seen: list[int]) -> None:
    """Set the files handed to the court with the case's transfer. `seen` is the list the
    user started from: if someone changed it meanwhile, the save is refused."""
    transfer = case.transfer
    if transfer is None:
        raise DossierError(_("This case has not been transferred to litigation."))
    before = handed_over_ids(transfer)
    if sorted(seen) != before:
        raise DossierError(
            _(
                "Someone else changed the list meanwhile. Your choice is kept below; check it "
                "and save again."
            )
        )
    chosen = sorted(set(attachment_ids))
    known = set(
        db.session.scalars(
            select(Attachment.id).where(Attachment.case_id == case.id, Attachment.id.in_(chosen))
        )
    )
    if known != set(chosen):
        raise DossierError(_("Choose files of this case's dossier."), "attachments")
    db.session.execute(
        delete(transfer_document).where(transfer_document.c.transfer_id == transfer.id)
    )
    if chosen:
        db.session.execute(
            insert(transfer_document),
            [{"transfer_id": transfer.id, "attachment_id": i} for i in chosen],
        )
    log.record(
        "transfer.documents",
        target=case.number,
        centre_id=case.centre_id,
        before=before,
        after=chosen,
    )
