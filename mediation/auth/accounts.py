"""Creating users, checking passwords, and starting and ending login sessions."""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from mediation import clock
from mediation.auth.models import REGION_CODE_LENGTHS, LoginSession, Role, User
from mediation.auth.throttle import Throttle
from mediation.directory.centres import region_centres
from mediation.directory.models import Centre, CentreSettings
from mediation.extensions import db
from mediation.notify.models import unread_notices
from mediation.web.language import gettext as _

MIN_PASSWORD_LENGTH = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
DISPLAY_NAME_LENGTH = User.__table__.c.display_name.type.length


class AccountError(ValueError):
    """Refused account data; `field` names the form field the message belongs beside."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def normalise_username(username: str) -> str:
    return username.strip().lower()


def hash_password(password: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD")
    return (
        generate_password_hash(password, method=method)
        if method
        else generate_password_hash(password)
    )


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password",
            _("The password needs at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
        )


def user_by_username(username: str) -> User | None:
    return db.session.scalar(select(User).filter_by(username=normalise_username(username)))


def add_user(
    username: str,
    display_name: str,
    role: Role,
    password: str,
    centre: Centre | None,
    region_code: str | None = None,
) -> User:
    """A new user; with `region_code`, a regional administrator of that division (SPEC 10),
    which `role` must then be."""
    username = normalise_username(username)
    if not USERNAME.match(username):
        raise AccountError(
            "username",
            _("A username is 1 to 64 Latin letters, digits, dots, hyphens or underscores."),
        )
    if user_by_username(username) is not None:
        raise AccountError("username", _("The username %(name)s is taken.", name=username))
    if role == Role.REGIONAL_ADMIN or region_code is not None:
        _check_region(role, region_code, centre)
    elif centre is None and role != Role.ADMIN:
        raise AccountError("centre", _("Staff and mediators belong to a centre."))
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_LENGTH:
        raise AccountError(
            "display_name",
            _(
                "The full name may have at most %(n)d characters; this one has %(length)d.",
                n=DISPLAY_NAME_LENGTH,
                length=len(display_name),
            ),
        )
    check_password_rules(password)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role.value,
        centre=centre,
        region_code=region_code,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def _check_region(role: Role, region_code: str | None, centre: Centre | None) -> None:
    if role != Role.REGIONAL_ADMIN:
        raise AccountError("region", _("Only an administrator can have a region."))
    if centre is not None:
        raise AccountError("region", _("A regional administrator has a region, not a centre."))
    region_code = region_code or ""
    if not (region_code.isascii() and region_code.isdigit()) or len(region_code) not in (
        REGION_CODE_LENGTHS
    ):
        raise AccountError(
            "region",
            _("A region is a division code of 2 digits (a province) or 4 (a city), e.g. 3301."),
        )
    if not region_centres(region_code):
        raise AccountError("region", _("No centre's code starts with %(code)s.", code=region_code))


def set_password(user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    end_all_sessions(user)


@dataclass(frozen=True)
class LoginThrottles:
    account: Throttle
    client: Throttle

    @classmethod
    def from_config(cls) -> "LoginThrottles":
        config = current_app.config
        window = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
        return cls(
            account=Throttle("login-account", config["LOGIN_MAX_FAILURES"], window),
            client=Throttle("login-client", config["LOGIN_MAX_FAILURES_PER_CLIENT"], window),
        )


@cache
def _dummy_hash(method: str | None) -> str:
    """Checked when the username is unknown: hashed like real passwords, so both answers
    take the same time and the timing does not tell which usernames exist."""
    return hash_password("not-a-password")


def authenticate(username: str, password: str) -> User | None:
    """The active user with this username and password, or None; timing does not tell which."""
    user = user_by_username(username)
    method = current_app.config.get("PASSWORD_HASH_METHOD")
    password_hash = user.password_hash if user is not None else _dummy_hash(method)
    password_ok = check_password_hash(password_hash, password)
    if user is None or not user.is_active or not password_ok:
        return None
    return user


def start_session(user: User, remember: bool, client: str) -> LoginSession:
    lifetime = (
        current_app.config["REMEMBER_COOKIE_DURATION"]
        if remember
        else current_app.config["PERMANENT_SESSION_LIFETIME"]
    )
    login_session = LoginSession(
        token=secrets.token_urlsafe(32),
        user=user,
        created_at=clock.now(),
        expires_at=clock.now() + lifetime,
        client=client[:64],
    )
    db.session.add(login_session)
    user.last_login_at = clock.now()
    user.session_token = login_session.token
    return login_session


@cache
def _session_user_query():
    """The signed-in user's statement, run on every request: built once (on first use, when
    every model is mapped), the centre and its settings joined in the same row."""
    return (
        select(User, Centre, CentreSettings, unread_notices(User.id))
        .join(LoginSession, LoginSession.user_id == User.id)
        .outerjoin(Centre, Centre.id == User.centre_id)
        .outerjoin(CentreSettings, CentreSettings.centre_id == Centre.id)
        .where(
            LoginSession.token == bindparam("token"),
            LoginSession.expires_at > bindparam("now"),
            User.is_active.is_(True),
        )
    )


def load_session_user(token: str) -> User | None:
    """The active user of a live session, with their centre and its settings and the count of
    their unread notices (as at the start of the request): one query on every request."""
    found = db.session.execute(_session_user_query(), {"token": token, "now": clock.now()}).first()
    if found is None:
        return None
    user, centre, settings, unread = found
    set_committed_value(user, "centre", centre)
    if centre is not None:
        set_committed_value(centre, "settings", settings)
    user.unread_notices = unread
    user.session_token = token
    return user


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(delete(LoginSession).where(LoginSession.token == token))


def forget_expired_sessions(now: datetime) -> int:
    """Forget the sign-ins that have expired (none of them signs anyone in); how many."""
    return db.session.execute(
        delete(LoginSession)
        .where(LoginSession.expires_at < now)
        .execution_options(synchronize_session=False)
    ).rowcount


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def update_user(
    user: User, actor: User, display_name: str, role: Role, centre: Centre | None, is_active: bool
) -> dict:
    """Apply an admin's edit; returns what changed (for the audit log)."""
    if user.id == actor.id and (role != user.role or centre != user.centre or not is_active):
        raise AccountError(
            "role",
            _("You cannot change your own role, centre or access; ask another administrator."),
        )
    if role == Role.REGIONAL_ADMIN:
        _check_region(role, user.region_code, centre)
    elif centre is None and role != Role.ADMIN:
        raise AccountError("centre", _("Staff and mediators belong to a centre."))
    if role != Role.REGIONAL_ADMIN:
        user.region_code = None  # a regional administrator made something else
    before = {
        "display_name": user.display_name,
        "role": user.role,
        "centre": user.centre.code if user.centre else None,
        "is_active": user.is_active,
    }
    user.display_name = display_name.strip() or user.username
    user.role = role.value
    user.centre = centre
    user.is_active = is_active
    after = {
        "display_name": user.display_name,
        "role": user.role,
        "centre": centre.code if centre else None,
        "is_active": is_active,
    }
    if not is_active:
        end_all_sessions(user)
    return {key: [before[key], after[key]] for key in after if before[key] != after[key]}
