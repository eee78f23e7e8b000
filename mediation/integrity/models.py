from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import Agreement, Money, Party
from mediation.database import UTCDateTime
from mediation.extensions import db


class Obligation(db.Model):
    __tablename__ = "obligation"
    __table_args__ = (
        CheckConstraint("amount is null or amount >= 0", name="amount_not_negative"),
        Index("ix_obligation_open_due", "fulfilled_on", "due_on"),
        # The month's statistics read obligations from these two alone (no visit to the
        # table): each centre's due in the month, and the amounts of the month's agreements.
        Index("ix_obligation_centre_id_due_on", "centre_id", "due_on", "fulfilled_on"),
        Index("ix_obligation_case_id", "case_id", "amount"),
        # An agreement's obligations (Agreement.obligations) are read on every case page.
        Index("ix_obligation_agreement_id", "agreement_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    # Its case's centre, as its agreement's.
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    obligor_id: Mapped[int] = mapped_column(ForeignKey("party.id"))
    obligee_id: Mapped[int] = mapped_column(ForeignKey("party.id"))
    description: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    due_on: Mapped[date]
    fulfilled_on: Mapped[date | None]
    defaulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Performed of the obligor's own accord, or only after pressure (recorded by staff).
    is_voluntary: Mapped[bool | None]
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")
    obligor: Mapped[Party] = relationship(foreign_keys=[obligor_id])
    obligee: Mapped[Party] = relationship(foreign_keys=[obligee_id])


class IntegrityRecord(db.Model):
    """A positive (守信激励记录) or negative (internal) record of a party's performance."""

    __tablename__ = "integrity_record"
    __table_args__ = (
        CheckConstraint("kind in ('positive', 'negative')", name="known_kind"),
        Index("ix_integrity_record_identity", "identity_key"),
        Index("ix_integrity_record_centre_created", "centre_id", "created_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id"), index=True)
    obligation_id: Mapped[int | None] = mapped_column(ForeignKey("obligation.id"))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200), default="")
    # The party's resident ID or credit code, for its profile across cases (None if unknown).
    identity_key: Mapped[str | None] = mapped_column(String(18))
    # "positive:{case}:{party}" or "negative:{obligation}": each record is written once.
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_on: Mapped[date]

    party: Mapped[Party] = relationship()
    certificate: Mapped["Certificate | None"] = relationship(back_populates="record")


class Certificate(db.Model):
    """An integrity certificate (诚信履行证明) for a positive record."""

    __tablename__ = "certificate"
    __table_args__ = (
        Index("ix_certificate_centre_valid", "centre_id", "valid_until"),
        # The honour list's keyset pages, a holder's latest certificate each, newest validity
        # first: every centre's, and a centre's.
        Index("ix_certificate_latest", "is_latest", "valid_until", "id"),
        Index("ix_certificate_centre_latest", "centre_id", "is_latest", "valid_until", "id"),
        # A holder's listed certificates (how many are valid? which is the latest?).
        Index("ix_certificate_holder", "holder_key", "centre_id", "is_listed", "valid_until", "id"),
        # A holder's latest one at a centre, whose flag may pass to a newer one.
        Index(
            "ix_certificate_holder_latest",
            "holder_key",
            "centre_id",
            postgresql_where=text("is_latest"),
            sqlite_where=text("is_latest"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("integrity_record.id"), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # Printed on the certificate for anyone to check it, so kept readable.
    verification_code: Mapped[str] = mapped_column(String(16))
    holder_name: Mapped[str] = mapped_column(String(100))
    # Who holds it, across cases (records.holder_key): the honour list shows a holder once.
    holder_key: Mapped[str | None] = mapped_column(String(120))
    # Kept by records.refresh_honour: whether the honour list may show it (not revoked; an
    # organisation's, or a person's who consented), and whether it is its holder's latest such.
    is_listed: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    is_latest: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    issued_on: Mapped[date]
    valid_until: Mapped[date]
    points: Mapped[int]
    measures: Mapped[list] = mapped_column(JSON, default=list)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    record: Mapped[IntegrityRecord] = relationship(back_populates="certificate")


class ServiceRating(db.Model):
    """A party's rating of the service once the case concluded (portal)."""

    __tablename__ = "service_rating"
    __table_args__ = (
        CheckConstraint("stars between 1 and 5", name="stars"),
        UniqueConstraint("case_id", "party_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id"))
    stars: Mapped[int]
    comment: Mapped[str] = mapped_column(String(1000), default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime)
