"""The case page's case, read as rows of columns rather than loaded as entities.

The page only shows the case, and the workflow's guards of its buttons only read it; loading
the case, its parties, agreement and obligations into the session cost more than every other
statement of the page. Forms that change a case load it as an entity (access.case_or_404).
"""

from dataclasses import dataclass
from types import SimpleNamespace

from flask import abort
from flask_login import current_user
from sqlalchemy import Table, bindparam, exists, select

from mediation.auth.models import Role, User
from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    FollowUp,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.workflow import RECORDS_WRITTEN_BY, Actor, may_access
from mediation.database import read
from mediation.directory.models import Centre, Mediator, Organization
from mediation.documents.models import Attachment
from mediation.extensions import db
from mediation.integrity.models import Obligation


class CaseView(SimpleNamespace):
    """A case's columns as attributes, with what the page and the guards read of a Case's
    relationships: `parties`, `agreement` (with its `obligations`, each with its `obligor`
    and `obligee` among the parties), `transfer`, `follow_ups` and `centre`; and
    `mediator_user_id`, the login of its mediator. Its properties are Case's."""

    state_enum = Case.state_enum
    applicants = Case.applicants
    respondents = Case.respondents


@dataclass
class CasePage:
    case: CaseView
    # The names of its organisation (and its phone), mediator and registering user; the
    # mediator's login; whether its dossier has files.
    handling: SimpleNamespace
    events: list  # rows of CaseEvent's columns, oldest first
    sessions: list  # rows of MediationSession's columns, by when they were held


def case_page_or_404(case_id: int) -> CasePage:
    """The case page's data if the current user may see the case: other centres' cases do not
    exist for them (404); a mediator opening a case not assigned to them is refused (403)."""
    rows = read(_CASE_PAGE, {"case_id": case_id}).all()
    if not rows or not current_user.may_see_centre(rows[0].centre_id):
        abort(404)
    first = rows[0]
    case, handling = _case_of(first), _part(first, _HANDLING)
    case.mediator_user_id = handling.mediator_user_id
    if current_user.role == Role.MEDIATOR and not may_access(case, Actor.for_user(current_user)):
        abort(403)
    case.parties = [_part(row, _PARTY) for row in rows if row[_PARTY.start] is not None]
    case.transfer = _part(first, _TRANSFER) if first[_TRANSFER.start] is not None else None
    case.centre = _centre(case.centre_id)
    events = read(_EVENTS, {"case_id": case_id}).all()
    sessions = _read_records(case, events)
    return CasePage(case, handling, events, sessions)


def _centre(centre_id: int) -> Centre:
    # The signed-in user's own centre is loaded with them; a global administrator's case's
    # centre is looked up (in the session first).
    mine = current_user.centre
    return mine if mine is not None and mine.id == centre_id else db.session.get(Centre, centre_id)


def _read_records(case: CaseView, events) -> list:
    """The case's agreement (with its obligations) and follow-up visits on `case`, and its
    sessions returned, each read only when the case's `events` show a move that writes it:
    most cases have two kinds of these at most, and each read is a round trip to
    PostgreSQL."""
    done = {event.action for event in events}
    case.agreement = None
    if done & RECORDS_WRITTEN_BY["agreement"]:
        case.agreement = _agreement(case)
    case.follow_ups = []
    if done & RECORDS_WRITTEN_BY["follow_ups"]:
        case.follow_ups = [_part(row, _FOLLOW_UP) for row in read(_FOLLOW_UPS, _of(case))]
    if done & RECORDS_WRITTEN_BY["sessions"]:
        return read(_SESSIONS, _of(case)).all()
    return []


def _agreement(case: CaseView) -> SimpleNamespace | None:
    rows = read(_AGREEMENT, _of(case)).all()
    if not rows:
        return None
    agreement = _part(rows[0], _AGREEMENT_COLUMNS)
    parties = {party.id: party for party in case.parties}
    agreement.obligations = []
    for row in rows:
        if row[_OBLIGATION.start] is not None:
            obligation = _part(row, _OBLIGATION)
            obligation.obligor = parties[obligation.obligor_id]
            obligation.obligee = parties[obligation.obligee_id]
            agreement.obligations.append(obligation)
    return agreement


def _of(case: CaseView) -> dict:
    return {"case_id": case.id}


# --- statements: built once, each row read by the position of its parts --------------------


@dataclass(frozen=True)
class _Part:
    """Where a part (the case, a party, the transfer, …) lies in a row, and its names."""

    start: int
    names: tuple[str, ...]

    @property
    def stop(self) -> int:
        return self.start + len(self.names)


def _part(row, part: _Part, kind: type = SimpleNamespace):
    return kind(**dict(zip(part.names, row[part.start : part.stop], strict=True)))


def _case_of(row) -> CaseView:
    return _part(row, _CASE, CaseView)


def _columns(table: Table, prefix: str) -> list:
    return [column.label(f"{prefix}{column.name}") for column in table.c]


def _names(table: Table) -> tuple[str, ...]:
    return tuple(column.name for column in table.c)


_REGISTRAR = User.__table__.alias("registrar")
_HANDLING_COLUMNS = {
    "organization": Organization.name,
    "organization_phone": Organization.phone,
    "mediator": Mediator.name,
    "mediator_user_id": Mediator.user_id,
    "registered_by": _REGISTRAR.c.display_name,
    "has_files": exists().where(Attachment.case_id == Case.id),
}
_CASE = _Part(0, _names(Case.__table__))
_PARTY = _Part(_CASE.stop, _names(Party.__table__))
_HANDLING = _Part(_PARTY.stop, tuple(_HANDLING_COLUMNS))
_TRANSFER = _Part(_HANDLING.stop, _names(Transfer.__table__))
_CASE_PAGE = (
    select(
        *Case.__table__.c,
        *_columns(Party.__table__, "party_"),
        *(column.label(name) for name, column in _HANDLING_COLUMNS.items()),
        *_columns(Transfer.__table__, "transfer_"),
    )
    .select_from(Case)
    .outerjoin(Party, Party.case_id == Case.id)
    .outerjoin(Organization, Organization.id == Case.organization_id)
    .outerjoin(Mediator, Mediator.id == Case.mediator_id)
    .outerjoin(_REGISTRAR, _REGISTRAR.c.id == Case.registered_by_id)
    .outerjoin(Transfer, Transfer.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
    .order_by(Party.position)
)

_AGREEMENT_COLUMNS = _Part(0, _names(Agreement.__table__))
_OBLIGATION = _Part(_AGREEMENT_COLUMNS.stop, _names(Obligation.__table__))
_AGREEMENT = (
    select(*Agreement.__table__.c, *_columns(Obligation.__table__, "obligation_"))
    .outerjoin(Obligation, Obligation.agreement_id == Agreement.id)
    .where(Agreement.case_id == bindparam("case_id"))
    .order_by(Obligation.id)
)

_FOLLOW_UP = _Part(0, _names(FollowUp.__table__))
_FOLLOW_UPS = (
    select(*FollowUp.__table__.c)
    .where(FollowUp.case_id == bindparam("case_id"))
    .order_by(FollowUp.id)
)

_EVENTS = (
    select(
        CaseEvent.action,
        CaseEvent.from_state,
        CaseEvent.to_state,
        CaseEvent.at,
        CaseEvent.actor_kind,
        CaseEvent.actor_name,
        CaseEvent.details,
    )
    .where(CaseEvent.case_id == bindparam("case_id"))
    .order_by(CaseEvent.id)
)

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
