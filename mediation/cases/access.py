"""Loading a case for the signed-in user: 404 outside their centre, 403 when not theirs."""

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from mediation.auth.models import Role, User
from mediation.cases.models import Agreement, Case, MediationSession, Party, Transfer
from mediation.cases.workflow import RECORDS_WRITTEN_BY, Actor, may_access
from mediation.database import preload, read
from mediation.directory.models import Mediator, Organization
from mediation.documents.models import Attachment
from mediation.extensions import db
from mediation.integrity.models import Obligation


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def case_or_404(case_id: int, *relationships) -> Case:
    """The case if the current user may see it, with its parties and the `relationships`
    asked for (Case.sessions, …) loaded: other centres' cases do not exist for them (404); a
    mediator opening a case not assigned to them is refused (403)."""
    case, _rows = _checked_case(_CASE_AND_PARTIES, case_id)
    preload(case, *relationships)
    return case


def case_page_or_404(case_id: int):
    """The case as case_or_404 loads it with its transfer, and who registered and who
    handles it (the names of its organisation, with its phone, its mediator and the
    registering user) and whether its dossier holds files, in the same statement: a case
    page's statements are most of its time on PostgreSQL."""
    case, rows = _checked_case(_CASE_PAGE, case_id)
    set_committed_value(case, "transfer", rows[0].Transfer)
    return case, rows[0]


def _checked_case(statement, case_id: int):
    rows = db.session.execute(statement, {"case_id": case_id}).all()
    case = rows[0][0] if rows else None
    if case is None or not current_user.may_see_centre(case.centre_id):
        abort(404)
    if current_user.role == Role.MEDIATOR and not may_access(case, current_actor()):
        abort(403)
    set_committed_value(case, "parties", [row[1] for row in rows if row[1] is not None])
    return case, rows


# A page's statements load rows with their parts in one go, and are built once: the ORM's
# cost per statement (and Session.get's, which builds its statement afresh on every call)
# is several times that of running it.
_CASE_AND_PARTIES = (
    select(Case, Party)
    .outerjoin(Party, Party.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
    .order_by(Party.position)
)
_REGISTRAR = aliased(User)
_CASE_PAGE = (
    _CASE_AND_PARTIES.add_columns(
        Organization.name.label("organization"),
        Organization.phone.label("organization_phone"),
        Mediator.name.label("mediator"),
        _REGISTRAR.display_name.label("registered_by"),
        exists().where(Attachment.case_id == Case.id).label("has_files"),
        Transfer,
    )
    .outerjoin(Organization, Organization.id == Case.organization_id)
    .outerjoin(Mediator, Mediator.id == Case.mediator_id)
    .outerjoin(_REGISTRAR, _REGISTRAR.id == Case.registered_by_id)
    .outerjoin(Transfer, Transfer.case_id == Case.id)
)
_AGREEMENT_AND_OBLIGATIONS = (
    select(Agreement, Obligation)
    .outerjoin(Obligation, Obligation.agreement_id == Agreement.id)
    .where(Agreement.case_id == bindparam("case_id"))
    .order_by(Obligation.id)
)


def preload_agreement(case: Case) -> None:
    """The case's agreement with its obligations (their obligors and obligees are among the
    case's parties, loaded already)."""
    rows = db.session.execute(_AGREEMENT_AND_OBLIGATIONS, {"case_id": case.id}).all()
    agreement = rows[0][0] if rows else None
    set_committed_value(case, "agreement", agreement)
    if agreement is not None:
        obligations = [obligation for _agreement, obligation in rows if obligation is not None]
        set_committed_value(agreement, "obligations", obligations)


def preload_records(case: Case, events, loaded: frozenset = frozenset()) -> list:
    """The case's agreement (with its obligations), transfer and follow-up visits loaded,
    and its sessions returned as rows of their columns (pages only show them, and loading
    entities cost more than reading them), each read only when the case's `events` show a
    move that writes it: most cases have two kinds of these at most, and each read is a
    round trip to PostgreSQL. `case.sessions` itself is left unloaded, and the relationships
    `loaded` already are left as they are."""
    done = {event.action for event in events}
    sessions = []
    for key, moves in RECORDS_WRITTEN_BY.items():
        relationship = getattr(Case, key)
        if key in loaded:
            continue
        if key == "sessions":
            if done & moves:
                sessions = read(_SESSIONS, {"case_id": case.id}).all()
        elif not done & moves:
            set_committed_value(case, key, [] if relationship.property.uselist else None)
        elif key == "agreement":
            preload_agreement(case)
        else:
            preload(case, relationship)
    return sessions


_SESSIONS = (
    select(
        MediationSession.id,
        MediationSession.held_at,
        MediationSession.place,
        MediationSession.is_online,
        MediationSession.attendance,
        MediationSession.minutes,
    )
    .where(MediationSession.case_id == bindparam("case_id"))
    .order_by(MediationSession.held_at)
)
