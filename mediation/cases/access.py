"""Loading a case for the signed-in user to change it: 404 outside their centre, 403 when not
theirs. (The case page reads its case as rows: cases/page.py.)"""

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from mediation.auth.models import Role
from mediation.cases.models import Agreement, Case
from mediation.cases.workflow import Actor, case_with_parties, may_access
from mediation.database import preload, with_children
from mediation.integrity.models import Obligation


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def case_or_404(case_id: int, *relationships) -> Case:
    """The case if the current user may see it, with its parties and the `relationships`
    asked for (Case.sessions, …) loaded: other centres' cases do not exist for them (404); a
    mediator opening a case not assigned to them is refused (403)."""
    case = case_with_parties(case_id)
    if case is None or not current_user.may_see_centre(case.centre_id):
        abort(404)
    if current_user.role == Role.MEDIATOR and not may_access(case, current_actor()):
        abort(403)
    preload(case, *relationships)
    return case


# Built once: the ORM's cost per statement (and Session.get's, which builds its statement
# afresh on every call) is several times that of running it.
_AGREEMENT_AND_OBLIGATIONS = (
    select(Agreement, Obligation)
    .outerjoin(Obligation, Obligation.agreement_id == Agreement.id)
    .where(Agreement.case_id == bindparam("case_id"))
    .order_by(Obligation.id)
)


def preload_agreement(case: Case) -> None:
    """The case's agreement with its obligations (their obligors and obligees are among the
    case's parties, loaded already)."""
    agreement = with_children(_AGREEMENT_AND_OBLIGATIONS, {"case_id": case.id}, "obligations")
    set_committed_value(case, "agreement", agreement)
