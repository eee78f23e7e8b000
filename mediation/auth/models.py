import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.database import UTCDateTime
from mediation.directory.centres import region_centre_ids
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.web.language import lazy_gettext as _l


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    MEDIATOR = "mediator"
    # Reads the cases and statistics of the centres under a division code (SPEC 10); made by
    # `flask user add NAME --role admin --region CODE`.
    REGIONAL_ADMIN = "regional_admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.STAFF: _l("Centre staff"),
    Role.MEDIATOR: _l("Mediator"),
    Role.REGIONAL_ADMIN: _l("Regional administrator"),
}
# A region is a province (2 digits) or a city (4): the leading digits of its centres' codes.
REGION_CODE_LENGTHS = (2, 4)


class User(db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(
            "role in ('admin', 'staff', 'mediator', 'regional_admin')", name="known_role"
        ),
        # Only an administrator may be global (without a centre); a regional one has a region
        # instead of a centre, and only it has a region.
        CheckConstraint(
            "centre_id is not null or role in ('admin', 'regional_admin')",
            name="centre_unless_admin",
        ),
        CheckConstraint(
            "(role = 'regional_admin' and region_code is not null and centre_id is null"
            " and length(region_code) in (2, 4))"
            " or (role <> 'regional_admin' and region_code is null)",
            name="region_of_regional_admin",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("centre.id"), index=True)
    # A regional administrator's division code: its centres' codes start with it.
    region_code: Mapped[str | None] = mapped_column(String(4))
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

    @property
    def is_regional_admin(self) -> bool:
        return self.role == Role.REGIONAL_ADMIN

    @property
    def sees_several_centres(self) -> bool:
        """A global or regional administrator: their pages may show and filter by centre."""
        return self.is_global_admin or self.is_regional_admin

    def may_see_centre(self, centre_id: int | None) -> bool:
        """Whether the centre's data exists for this user (see also cases.access.scope_of)."""
        if self.is_regional_admin:
            return centre_id is not None and centre_id in region_centre_ids(self.region_code)
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
