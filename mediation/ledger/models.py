from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation.auth.models import User
from mediation.database import UTCDateTime
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.jobs.models import BackgroundJob

# What an import page keeps of a refused file's problems; the count says how many there were.
PROBLEM_LIMIT = 1000


class LedgerImport(db.Model):
    """One upload on the ledger page: queued as a job, run by a job process, then its outcome.

    `running` until the import ends; then `done` (imported, or checked in a dry run),
    `refused` (problems: nothing was written) or `failed` (the file could not be read, or the
    import broke off: nothing was written either)."""

    __tablename__ = "ledger_import"
    __table_args__ = (
        CheckConstraint("state in ('running', 'done', 'refused', 'failed')", name="known_state"),
        Index("ix_ledger_import_centre_started", "centre_id", "started_at"),
        Index("ix_ledger_import_checked_import", "checked_import_id"),
        Index("ix_ledger_import_job", "job_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    filename: Mapped[str] = mapped_column(String(200), default="")
    dry_run: Mapped[bool] = mapped_column(default=False)
    create_missing: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(10), default="running")
    rows: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    problem_count: Mapped[int] = mapped_column(default=0)
    problems: Mapped[list] = mapped_column(JSON, default=list)  # [row, column, message]
    created_organizations: Mapped[list] = mapped_column(JSON, default=list)
    created_mediators: Mapped[list] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(String(500), default="")
    file_sha256: Mapped[str] = mapped_column(String(64), default="")
    # "Import now" after a dry run: the dry run whose kept file this import imports.
    checked_import_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_import.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The job that runs it: its claim and progress, on whichever host runs it.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("background_job.id"))

    centre: Mapped[Centre] = relationship()
    user: Mapped[User | None] = relationship()
    job: Mapped[BackgroundJob | None] = relationship()


class LedgerFile(db.Model):
    """An uploaded file, kept in the database for the job process that imports it (on any
    host); a dry run's file stays so that "import now" imports that very file (nothing the
    browser sends again), until imported or for KEEP_CHECKED."""

    __tablename__ = "ledger_file"

    import_id: Mapped[int] = mapped_column(ForeignKey("ledger_import.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
