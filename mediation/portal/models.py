from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from mediation.database import UTCDateTime
from mediation.extensions import db


class EndedPortalSession(db.Model):
    """A party's case view that was left: its cookie, wherever it was copied, opens nothing
    more. Kept only while such a cookie could still be live (lookup.MAX_LIFETIME), so a
    look-up writes nothing and only leaving does."""

    __tablename__ = "ended_portal_session"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Rows past the longest lifetime are swept at each leave, on this index.
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
