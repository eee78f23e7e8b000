from datetime import datetime

from sqlalchemy import CheckConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mediation.database import UTCDateTime
from mediation.extensions import db


class JobRun(db.Model):
    """One run of a scheduled job. (job, period) is unique, so a second scheduler process
    that starts the same period's run finds the row taken and runs nothing."""

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint("status in ('running', 'ok', 'error')", name="known_status"),
        Index("ix_job_run_job_started", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    # The period a scheduled run covers: its slot's local start with the UTC offset it starts
    # at, e.g. "2026-11-26T10+08:00" for an hourly job; "manual:<uuid>" for a run by hand.
    period: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(10), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int | None]
    rows: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(20), default="schedule")
