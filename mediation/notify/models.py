import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, Uuid, func, select
from sqlalchemy.orm import Mapped, mapped_column

from mediation.database import UTCDateTime
from mediation.extensions import db


class OutboxMessage(db.Model):
    """Every notice, in-app, SMS or e-mail, goes through here and is sent by a job."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("channel in ('in_app', 'sms', 'email', 'webhook')", name="known_channel"),
        CheckConstraint("state in ('pending', 'sent', 'failed', 'held')", name="known_state"),
        # The dispatch job's sweep: due messages of a channel.
        Index("ix_outbox_message_due", "state", "next_attempt_at"),
        # The header's unread count and a user's notices.
        Index("ix_outbox_message_user_unread", "user_id", "read_at", "id"),
        Index("ix_outbox_message_centre_state", "centre_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("dispute_case.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("party.id"))
    address: Mapped[str] = mapped_column(String(200), default="")  # phone or e-mail
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN")
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the notice is about, e.g. "deadline_warning:42:2026-12-01:user:7": each notice is
    # queued once, however often the job that queues it runs.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    # The message's id for the gateway (Idempotency-Key): the same on every attempt, from any
    # process, so that a gateway can drop a message it has taken already.
    idempotency_key: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4, unique=True)


UNREAD_CAP = 100  # the header shows "99+" beyond this; the count stops there


def unread_notices(user_id):
    """The user's unread in-app notices as a column: counted on ix_outbox_message_user_unread,
    and no further than UNREAD_CAP. `user_id` is a value, a bound parameter or the user
    table's column (the signed-in user is loaded with the count, one statement a page)."""
    unread = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.user_id == user_id,
            OutboxMessage.read_at.is_(None),
            OutboxMessage.channel == "in_app",
        )
        .limit(UNREAD_CAP)
    )
    if hasattr(user_id, "table"):
        unread = unread.correlate(user_id.table)
    return select(func.count()).select_from(unread.subquery()).scalar_subquery()
