"""Loading a case for the signed-in user: 404 outside their centre, 403 when not theirs."""

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from mediation.auth.models import Role
from mediation.cases.models import Agreement, Case
from mediation.cases.workflow import RECORDS_WRITTEN_BY, Actor, may_access
from mediation.database import preload
from mediation.extensions import db


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def case_or_404(case_id: int, *relationships) -> Case:
    """The case if the current user may see it, with its parties and the `relationships`
    asked for (Case.sessions, …) loaded: other centres' cases do not exist for them (404); a
    mediator opening a case not assigned to them is refused (403)."""
    case = db.session.scalars(_CASE, {"case_id": case_id}).first()
    if case is None or not current_user.may_see_centre(case.centre_id):
        abort(404)
    if current_user.role == Role.MEDIATOR and not may_access(case, current_actor()):
        abort(403)
    preload(case, Case.parties, *relationships)
    return case


# Prebuilt: Session.get builds its statement afresh on every call, and at one case per page
# that cost more than the loading.
_CASE = select(Case).where(Case.id == bindparam("case_id"))


def preload_agreement(case: Case) -> None:
    """The case's agreement with its obligations (their obligors and obligees are among the
    case's parties, loaded already)."""
    preload(case, Case.agreement)
    if case.agreement is not None:
        preload(case.agreement, Agreement.obligations)


def preload_records(case: Case, events) -> None:
    """The case's sessions, agreement (with its obligations), transfer and follow-up visits,
    each read only when the case's `events` show a move that writes it: most cases have
    two kinds of these at most, and each read is a round trip to PostgreSQL."""
    done = {event.action for event in events}
    for key, moves in RECORDS_WRITTEN_BY.items():
        relationship = getattr(Case, key)
        if done & moves:
            preload(case, relationship)
        else:
            set_committed_value(case, key, [] if relationship.property.uselist else None)
    if case.agreement is not None:
        preload(case.agreement, Agreement.obligations)
