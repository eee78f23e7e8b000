"""The party's case page, read as rows of the columns it shows (not loaded as entities): one
statement for the case with its centre, handlers, transfer, agreement, the party's rating and
the parties; then only what the case has reached (obligations, sessions, certificates).

The page and the workflow's guards of its buttons only read the case (a `GuardedCase`); the
forms that change it (court, confirm, rating) load it as an entity.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, bindparam, select

from mediation.cases.models import Agreement, Case, MediationSession, Party, Transfer
from mediation.cases.page import (
    AgreementView,
    PartyView,
    TransferView,
    agreement_of,
    columns_of,
    view_of,
)
from mediation.database import read
from mediation.directory.models import Centre, Mediator, Organization
from mediation.integrity.models import Certificate, IntegrityRecord, ServiceRating

# Until a session is recorded a case is registered or assigned; until an agreement, no
# obligation and no certificate.
WITHOUT_SESSIONS = ("registered", "assigned")


@dataclass(frozen=True)
class PortalCase:
    """What the party's page shows of a case, and what the workflow's guards read of it."""

    id: int
    centre_id: int
    number: str
    state: str
    category_code: str
    registered_on: date
    triage_due_on: date
    routed_on: date | None
    deadline_on: date | None
    extension_days: int
    concluded_at: datetime | None
    concluded_on: date | None
    centre_name: str
    centre_timezone: str
    organization: str | None
    organization_phone: str | None
    mediator: str | None
    parties: tuple[PartyView, ...]
    transfer: TransferView | None
    agreement: AgreementView | None
    sessions: tuple  # rows of held_at, place, is_online
    rating: int | None  # the party's stars, once rated
    mediator_user_id: None = None  # a party's access does not depend on it


@dataclass(frozen=True)
class CertificateRow:
    number: str
    verification_code: str
    holder_name: str
    issued_on: date
    valid_until: date
    points: int
    measures: list
    revoked_at: datetime | None


def portal_case(case_id: int, party_id: int) -> PortalCase:
    rows = read(_CASE, {"case_id": case_id, "party_id": party_id}).all()
    first = rows[0]
    parties = tuple(view_of(PartyView, row, "party_") for row in rows)
    agreement = agreement_of(case_id, parties) if first.agreement_id is not None else None
    sessions = (
        () if first.state in WITHOUT_SESSIONS else tuple(read(_SESSIONS, {"case_id": case_id}))
    )
    return view_of(
        PortalCase,
        first,
        parties=parties,
        transfer=view_of(TransferView, first, "transfer_") if first.transfer_id else None,
        agreement=agreement,
        sessions=sessions,
        mediator_user_id=None,
    )


def certificates_of(case: PortalCase, party_id: int) -> list[CertificateRow]:
    """The party's certificates for this case: only an obligor of an agreement earns one (an
    agreement's obligations never change once written), so no other party's page asks."""
    agreement = case.agreement
    if agreement is None or all(o.obligor_id != party_id for o in agreement.obligations):
        return []
    rows = read(_CERTIFICATES, {"case_id": case.id, "party_id": party_id})
    return [view_of(CertificateRow, row) for row in rows]


# --- statements, built once -----------------------------------------------------------------

_CASE = (
    select(
        *columns_of(Case, PortalCase),
        Centre.name.label("centre_name"),
        Centre.timezone.label("centre_timezone"),
        Organization.name.label("organization"),
        Organization.phone.label("organization_phone"),
        Mediator.name.label("mediator"),
        *columns_of(Transfer, TransferView, "transfer_"),
        Agreement.id.label("agreement_id"),
        ServiceRating.stars.label("rating"),
        *columns_of(Party, PartyView, "party_"),
    )
    .select_from(Case)
    .join(Centre, Centre.id == Case.centre_id)
    .join(Party, Party.case_id == Case.id)
    .outerjoin(Organization, Organization.id == Case.organization_id)
    .outerjoin(Mediator, Mediator.id == Case.mediator_id)
    .outerjoin(Transfer, Transfer.case_id == Case.id)
    .outerjoin(Agreement, Agreement.case_id == Case.id)
    .outerjoin(
        ServiceRating,
        and_(ServiceRating.case_id == Case.id, ServiceRating.party_id == bindparam("party_id")),
    )
    .where(Case.id == bindparam("case_id"))
    .order_by(Party.position)
)


_SESSIONS = (
    select(MediationSession.held_at, MediationSession.place, MediationSession.is_online)
    .where(MediationSession.case_id == bindparam("case_id"))
    .order_by(MediationSession.held_at)
)

_CERTIFICATES = (
    select(*columns_of(Certificate, CertificateRow))
    .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
    .where(
        IntegrityRecord.party_id == bindparam("party_id"),
        IntegrityRecord.case_id == bindparam("case_id"),
    )
    .order_by(Certificate.issued_on, Certificate.id)
)
