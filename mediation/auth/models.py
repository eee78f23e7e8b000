import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.database import UTCDateTime
from mediation.directory.models import Centre
from mediation.extensions import db


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    MEDIATOR = "mediator"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Centre staff"),
    Role.MEDIATOR: _l("Mediator"),
}


class User(db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role in ('admin', 'staff', 'mediator')", name="known_role"),
        # Only an administrator may be global (without a centre).
        CheckConstraint("centre_id is not null or role = 'admin'", name="centre_unless_admin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    centre: Mapped[Centre | None] = relationship()

    # Flask-Login protocol. The id Flask-Login keeps is the login session's token, not the
    # user id, so that ending the session on the server ends every cookie that carries it.
    session_token = None
    # Counted with the signed-in user (accounts.load_session_user), for the header's badge.
    unread_notices = None
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str | None:
        return self.session_token

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_global_admin(self) -> bool:
        return self.role == Role.ADMIN and self.centre_id is None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def may_see_centre(self, centre_id: int | None) -> bool:
        return self.is_global_admin or (centre_id is not None and centre_id == self.centre_id)


class LoginSession(db.Model):
    """One signed-in browser. Deleting the row signs that browser out everywhere."""

    __tablename__ = "login_session"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client: Mapped[str] = mapped_column(String(64), default="")

    user: Mapped[User] = relationship()


class ThrottleHit(db.Model):
    """One failed attempt (a login, a look-up), counted per scope and key over a window.

    Rows live in the database so that every web worker sees the same count.
    """

    __tablename__ = "throttle_hit"
    __table_args__ = (Index("ix_throttle_hit_scope_key_at", "scope", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
