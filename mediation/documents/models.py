from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.database import UTCDateTime
from mediation.extensions import db

ATTACHMENT_KINDS = ("application", "evidence", "agreement", "minutes", "transfer", "other")


class StoredFile(db.Model):
    """File content, stored once under its SHA-256 outside the web root."""

    __tablename__ = "stored_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Attachment(db.Model):
    """A file in a case's dossier. Never deleted: a newer file supersedes it."""

    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint(
            "kind in ('application', 'evidence', 'agreement', 'minutes', 'transfer', 'other')",
            name="known_kind",
        ),
        Index("ix_attachment_case_id_id", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="other")
    note: Mapped[str] = mapped_column(String(500), default="")
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # A file a party submitted (with its online application, or from the portal) that staff
    # took into the dossier: that party, beside the user who accepted it.
    submitted_by_party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))

    stored_file: Mapped[StoredFile] = relationship()


# The dossier files handed to the court with a transfer (转诉讼材料).
transfer_document = Table(
    "transfer_document",
    db.metadata,
    Column("transfer_id", ForeignKey("transfer.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachment.id"), primary_key=True),
)
