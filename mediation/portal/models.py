from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from mediation.database import UTCDateTime
from mediation.extensions import db


class PortalSession(db.Model):
    """A party's open case view. The signed cookie names the row; deleting it (the party left)
    ends every copy of that cookie on the server, as a staff sign-out does."""

    __tablename__ = "portal_session"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("party.id", ondelete="CASCADE"), index=True)
    # Rows past the longest lifetime are swept at each new look-up, on this index.
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
