from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
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


class BackgroundJob(db.Model):
    """Long work queued by a page (a ledger import), done by a job process (`flask scheduler`
    or `flask jobs work`) on any host: its claim, progress and outcome live here, so every web
    worker on every host shows them.

    `queued` until a job process claims it, `running` while it works (`worker` names the
    process, host:pid), then `done` or `failed`; a job whose process died is `failed` with the
    error INTERRUPTED."""

    __tablename__ = "background_job"
    __table_args__ = (
        CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name="known_state"),
        # The queue: the oldest queued job first, and the running ones to look after.
        Index("ix_background_job_state_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    # Who queued it, for which centre (none: every centre), and what they asked for.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the job is doing now ("reading", "writing"), and how far it is.
    phase: Mapped[str] = mapped_column(String(20), default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str] = mapped_column(String(120), default="")
    # The language of whoever queued it: its messages are written in it.
    locale: Mapped[str] = mapped_column(String(10), default="")
    client: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int:
        return min(100, int(100 * self.done / self.total)) if self.total else 0


class JobFile(db.Model):
    """The file a job made (an export), kept in the database so that any worker on any host
    hands it out."""

    __tablename__ = "job_file"

    job_id: Mapped[int] = mapped_column(ForeignKey("background_job.id"), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    mimetype: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
