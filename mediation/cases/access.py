"""Loading a case for the signed-in user: 404 outside their centre, 403 when not theirs."""

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import selectinload

from mediation.auth.models import Role
from mediation.cases.models import Case
from mediation.cases.workflow import Actor, may_access
from mediation.extensions import db


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def case_or_404(case_id: int, *options) -> Case:
    """The case if the current user may see it: other centres' cases do not exist for them
    (404); a mediator opening a case not assigned to them is refused (403)."""
    case = db.session.get(Case, case_id, options=[selectinload(Case.parties), *options])
    if case is None or not current_user.may_see_centre(case.centre_id):
        abort(404)
    if current_user.role == Role.MEDIATOR and not may_access(case, current_actor()):
        abort(403)
    return case
