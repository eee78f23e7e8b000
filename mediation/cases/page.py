"""The case page's data, read as rows of the columns it shows (not loaded as entities).

The page only shows the case, and the workflow's guards of its buttons only read it (their
`GuardedCase`). Forms that change a case load it as an entity (access.case_or_404).
"""

from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal

from flask import abort
from flask_login import current_user
from sqlalchemy import bindparam, exists, select

from mediation.applications.models import SubmittedFile
from mediation.auth.models import Role, User
from mediation.cases.access import require_case_access
from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    FollowUp,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.workflow import RECORDS_WRITTEN_BY
from mediation.database import read
from mediation.directory.models import Centre, Mediator, Organization
from mediation.documents.dossier import DossierPanel, dossier_panel
from mediation.documents.models import Attachment
from mediation.extensions import db
from mediation.integrity.models import Obligation
from mediation.integrity.records import CaseRecord, case_records


@dataclass(frozen=True)
class PartyView:
    id: int
    case_id: int
    role: str
    kind: str
    name: str
    id_number: str | None
    credit_code: str | None
    phone: str | None


@dataclass(frozen=True)
class ObligationView:
    id: int
    case_id: int
    obligor_id: int
    obligee_id: int
    description: str
    amount: Decimal | None
    due_on: date
    fulfilled_on: date | None
    obligor: PartyView
    obligee: PartyView


@dataclass(frozen=True)
class AgreementView:
    id: int
    signed_on: date
    terms: str
    confirmation_court: str | None
    confirmation_ruling: str | None
    confirmed_on: date | None
    obligations: tuple[ObligationView, ...]


@dataclass(frozen=True)
class TransferView:
    id: int
    reason: str
    court: str
    transferred_on: date
    undisputed_facts: str
    documents: str
    filing_number: str | None


@dataclass(frozen=True)
class FollowUpView:
    visited_on: date
    is_satisfied: bool
    note: str


@dataclass(frozen=True)
class CaseView:
    """What the case page shows of a case, and what the workflow's guards read of it."""

    id: int
    centre_id: int
    number: str
    state: str
    risk_level: str
    is_extreme: bool
    people_involved: int
    category_code: str
    channel_code: str
    amount: Decimal | None
    summary: str
    claims: str
    street: str
    address: str
    registered_at: datetime
    triage_due_on: date
    routed_on: date | None
    deadline_on: date | None
    extension_days: int
    concluded_at: datetime | None
    concluded_on: date | None
    outcome: str | None
    mediator_user_id: int | None  # the login of its mediator
    parties: tuple[PartyView, ...]
    transfer: TransferView | None
    agreement: AgreementView | None
    follow_ups: tuple[FollowUpView, ...]


@dataclass(frozen=True)
class Handling:
    """Who handles the case, by name, and whether its dossier has files."""

    organization: str | None
    organization_phone: str | None
    mediator: str | None
    registered_by: str | None
    has_files: bool
    has_submissions: bool  # files a party submitted wait for a decision


@dataclass
class CasePage:
    case: CaseView
    centre: Centre
    handling: Handling
    events: list  # rows of CaseEvent's columns, oldest first
    sessions: list  # rows of MediationSession's columns, by when they were held
    integrity_records: list[CaseRecord]  # staff and administrators only
    dossier: DossierPanel | None  # those who may use the dossier only


def case_page_or_404(case_id: int) -> CasePage:
    """The case page's data if the current user may see the case: other centres' cases do not
    exist for them (404); a mediator opening a case not assigned to them is refused (403)."""
    rows = read(_CASE_PAGE, {"case_id": case_id}).all()
    if not rows:
        abort(404)
    first = rows[0]
    require_case_access(first.centre_id, first.mediator_user_id)
    parties = tuple(view_of(PartyView, row, "party_") for row in rows if row.party_id is not None)
    events = read(_EVENTS, {"case_id": case_id}).all()
    done = {event.action for event in events}
    case = view_of(
        CaseView,
        first,
        parties=parties,
        transfer=view_of(TransferView, first, "transfer_") if first.transfer_id else None,
        agreement=agreement_of(case_id, parties)
        if done & RECORDS_WRITTEN_BY["agreement"]
        else None,
        follow_ups=_follow_ups(case_id) if done & RECORDS_WRITTEN_BY["follow_ups"] else (),
    )
    centre = db.session.get(Centre, case.centre_id)
    sessions = read(_SESSIONS, {"case_id": case_id}).all() if "record_session" in done else []
    staff = current_user.has_role(Role.ADMIN, Role.STAFF)
    return CasePage(
        case=case,
        centre=centre,
        handling=view_of(Handling, first),
        events=events,
        sessions=sessions,
        integrity_records=case_records(case, centre) if staff else [],
        dossier=dossier_panel(case, current_user, has_files=first.has_files),
    )


def agreement_of(case_id: int, parties: tuple[PartyView, ...]) -> AgreementView | None:
    rows = read(_AGREEMENT, {"case_id": case_id}).all()
    if not rows:
        return None
    by_id = {party.id: party for party in parties}
    obligations = tuple(
        view_of(
            ObligationView,
            row,
            "obligation_",
            obligor=by_id[row.obligation_obligor_id],
            obligee=by_id[row.obligation_obligee_id],
        )
        for row in rows
        if row.obligation_id is not None
    )
    return view_of(AgreementView, rows[0], obligations=obligations)


def _follow_ups(case_id: int) -> tuple[FollowUpView, ...]:
    return tuple(view_of(FollowUpView, row) for row in read(_FOLLOW_UPS, {"case_id": case_id}))


def view_of(kind: type, row, prefix: str = "", **parts):
    """A view of `kind` from the row's columns named as its fields (after `prefix`), the
    other fields given as `parts`."""
    # By the row's mapping: a row's attribute looks its name up the slow way.
    columns = row._mapping
    values = {
        item.name: columns[prefix + item.name] for item in fields(kind) if item.name not in parts
    }
    return kind(**values, **parts)


def columns_of(model, kind: type, prefix: str = "") -> list:
    """The model's columns that are fields of `kind`, labelled `prefix` + name."""
    table = model.__table__
    return [
        table.c[item.name].label(prefix + item.name)
        for item in fields(kind)
        if item.name in table.c
    ]


# --- statements, built once -----------------------------------------------------------------

_REGISTRAR = User.__table__.alias("registrar")
_CASE_PAGE = (
    select(
        *columns_of(Case, CaseView),
        Mediator.user_id.label("mediator_user_id"),
        *columns_of(Party, PartyView, "party_"),
        Organization.name.label("organization"),
        Organization.phone.label("organization_phone"),
        Mediator.name.label("mediator"),
        _REGISTRAR.c.display_name.label("registered_by"),
        exists().where(Attachment.case_id == Case.id).label("has_files"),
        exists()
        .where(SubmittedFile.case_id == Case.id, SubmittedFile.state == "pending")
        .label("has_submissions"),
        *columns_of(Transfer, TransferView, "transfer_"),
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

_AGREEMENT = (
    select(
        *columns_of(Agreement, AgreementView),
        *columns_of(Obligation, ObligationView, "obligation_"),
    )
    .outerjoin(Obligation, Obligation.agreement_id == Agreement.id)
    .where(Agreement.case_id == bindparam("case_id"))
    .order_by(Obligation.id)
)

_FOLLOW_UPS = (
    select(*columns_of(FollowUp, FollowUpView))
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
