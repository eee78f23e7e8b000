from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mediation import clock
from mediation.database import UTCDateTime
from mediation.extensions import db


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    # The log's feed: newest first within a centre, a user or an action (audit.queries).
    __table_args__ = (
        Index("ix_audit_entry_centre_id_at_id", "centre_id", "at", "id"),
        Index("ix_audit_entry_at_id", "at", "id"),
        Index("ix_audit_entry_actor_id_at_id", "actor_id", "at", "id"),
        Index("ix_audit_entry_action_at_id", "action", "at", "id"),
        Index("ix_audit_entry_target_at_id", "target", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The actor's name is copied so the entry still reads right after a rename.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"))
    client: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
