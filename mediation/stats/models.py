from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mediation.database import UTCDateTime
from mediation.extensions import db


class StatsSnapshot(db.Model):
    """A month's published figures, frozen: exports of that month read them from here."""

    __tablename__ = "stats_snapshot"
    # One snapshot per month and scope; centre_id NULL is "all centres". Enforced in code
    # through scope_key, since NULLs never collide in a unique constraint.
    __table_args__ = (Index("ix_stats_snapshot_scope_month", "scope_key", "month", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"))
    scope_key: Mapped[str] = mapped_column(String(10))  # the centre code, or "all"
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
