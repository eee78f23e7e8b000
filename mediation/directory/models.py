from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.database import UTCDateTime
from mediation.extensions import db


class Centre(db.Model):
    """A county dispute resolution centre (矛调中心); code is the 6-digit region code."""

    __tablename__ = "centre"
    __table_args__ = (CheckConstraint("length(code) = 6", name="code_six_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    abbreviation: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"
