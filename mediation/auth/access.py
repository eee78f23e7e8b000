"""Role and centre checks shared by views, templates and the CLI."""

from collections.abc import Callable
from functools import wraps

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from mediation.auth.models import Role
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.web.language import gettext as _
from mediation.web.params import record_id


def role_required(*roles: Role) -> Callable:
    """Signed-in users with one of `roles` pass; anonymous users go to the login page
    and other roles get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def require_centre(centre_id: int | None) -> None:
    """404 unless the current user may see data of this centre: other centres do not exist
    for them, so their ids reveal nothing."""
    if not current_user.may_see_centre(centre_id):
        abort(404)


def centre_in_scope() -> Centre:
    """The centre a page of one centre's data is about: `?centre=<id>` (404 unless the user
    may see it), else the user's own centre, else (a global admin) the first centre by code."""
    centre_id = request.args.get("centre", type=record_id) or current_user.centre_id
    if centre_id is not None:
        centre = db.get_or_404(Centre, centre_id)
        require_centre(centre.id)
        return centre
    centre = db.session.scalar(select(Centre).order_by(Centre.code).limit(1))
    if centre is None:
        flash(_("Create a centre first."), "info")
        abort(redirect(url_for("directory.centres")))
    return centre


def picker_centres() -> list[Centre]:
    """The centres a global admin picks from (templates/directory/_centre_picker.html);
    nothing for anyone else, who sees one centre."""
    if not current_user.is_global_admin:
        return []
    return db.session.scalars(select(Centre).order_by(Centre.code)).all()
