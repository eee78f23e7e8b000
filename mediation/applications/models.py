from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.database import UTCDateTime
from mediation.extensions import db

APPLICATION_STATES = ("pending", "accepted", "declined")
DECLINE_REASONS = ("unsuitable", "outside_remit", "duplicate", "missing_information")
SUBMISSION_STATES = ("pending", "accepted", "rejected")


class Application(db.Model):
    """An application for mediation made online, without an account (在线申请调解): it waits
    for the centre's staff, who accept it (a case is registered) or decline it."""

    __tablename__ = "application"
    __table_args__ = (
        CheckConstraint("state in ('pending', 'accepted', 'declined')", name="known_state"),
        CheckConstraint("(state = 'accepted') = (case_id is not null)", name="case_when_accepted"),
        CheckConstraint(
            "(state = 'declined') = (decline_reason is not null)", name="reason_when_declined"
        ),
        # The dashboard's queue: a centre's pending applications, soonest due first.
        Index("ix_application_centre_state_due", "centre_id", "state", "due_on", "id"),
        # Statistics: applications submitted, and decided, in a month.
        Index("ix_application_centre_submitted", "centre_id", "submitted_on"),
        Index("ix_application_centre_decided", "centre_id", "decided_on", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Set once the row has its id: WS + the local date + the id.
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    # The form's one-time token: a form sent twice (a refresh, a double tap) makes one
    # application.
    submission_token: Mapped[str] = mapped_column(String(32), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    # The parties as PartyData fields, the applicant first: [{role, kind, name, ...}].
    parties: Mapped[list] = mapped_column(JSON, default=list)
    phone: Mapped[str] = mapped_column(String(11))  # the applicant's mobile, for the SMS
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    street: Mapped[str] = mapped_column(String(50), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    claims: Mapped[str] = mapped_column(Text, default="")
    code_hash: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_on: Mapped[date]
    due_on: Mapped[date]
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_on: Mapped[date | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    decline_note: Mapped[str] = mapped_column(Text, default="")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_case.id"))

    @property
    def applicant(self) -> dict:
        return self.parties[0]

    @property
    def respondents(self) -> list[dict]:
        return self.parties[1:]


class SubmittedFile(db.Model):
    """A file a party submitted, with an application or from the portal, that staff have not
    yet taken into a case's dossier (or have, or have rejected with a reason)."""

    __tablename__ = "submitted_file"
    __table_args__ = (
        CheckConstraint("state in ('pending', 'accepted', 'rejected')", name="known_state"),
        CheckConstraint(
            "application_id is not null or case_id is not null", name="of_application_or_case"
        ),
        Index("ix_submitted_file_application_id", "application_id", "id"),
        Index("ix_submitted_file_case_state", "case_id", "state", "id"),
        # A party's uploads of the last day (the daily limit) and its list on the portal.
        Index("ix_submitted_file_party_submitted", "party_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(ForeignKey("application.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"))
    sha256: Mapped[str] = mapped_column(ForeignKey("stored_file.sha256"))
    filename: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(10), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reject_reason: Mapped[str] = mapped_column(String(500), default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachment.id"))
