"""Role and centre checks shared by views, templates and the CLI."""

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from mediation.auth.models import Role


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
