from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.cases.models import Agreement, Money, Party
from mediation.database import UTCDateTime
from mediation.extensions import db


class Obligation(db.Model):
    __tablename__ = "obligation"
    __table_args__ = (
        CheckConstraint("amount is null or amount >= 0", name="amount_not_negative"),
        Index("ix_obligation_open_due", "fulfilled_on", "due_on"),
        Index("ix_obligation_due_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("dispute_case.id", ondelete="CASCADE"), index=True
    )
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    obligor_id: Mapped[int] = mapped_column(ForeignKey("party.id"))
    obligee_id: Mapped[int] = mapped_column(ForeignKey("party.id"))
    description: Mapped[str] = mapped_column(String(500))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    due_on: Mapped[date]
    fulfilled_on: Mapped[date | None]
    defaulted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agreement: Mapped[Agreement] = relationship(back_populates="obligations")
    obligor: Mapped[Party] = relationship(foreign_keys=[obligor_id])
    obligee: Mapped[Party] = relationship(foreign_keys=[obligee_id])
