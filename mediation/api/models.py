from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.database import UTCDateTime
from mediation.directory.models import Centre
from mediation.extensions import db


class ApiClient(db.Model):
    """A court's or a government platform's system, acting for one centre with its scopes."""

    __tablename__ = "api_client"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    scopes: Mapped[str] = mapped_column(String(100))  # space-separated
    # SHA-256 of the token: the token itself is shown once, at `flask api client add`.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The client's rate: calls counted in a window of a minute from its first call, on the
    # client's own row (no row per call to read or to clear away).
    window_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_calls: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    # The webhook's signing key is derived from SECRET_KEY and this random salt
    # (api.webhooks.signing_key), so that a copy of the database alone cannot sign a delivery;
    # it is shown once, when the webhook is registered.
    webhook_salt: Mapped[str | None] = mapped_column(String(32))
    # A key stored as it was before keys were derived: it signs until the webhook is
    # registered again.
    webhook_secret: Mapped[str | None] = mapped_column(String(64))

    centre: Mapped[Centre] = relationship()

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyKey(db.Model):
    """A referral's Idempotency-Key: the same key and body give the case made the first time."""

    __tablename__ = "api_idempotency_key"
    __table_args__ = (Index("ix_api_idempotency_key_case_id", "case_id"),)

    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[int] = mapped_column(ForeignKey("dispute_case.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
