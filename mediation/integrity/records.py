"""Integrity records and certificates (SPEC 3.4): earned by performing on time, lost by default.

The workflow asks `certificate_for` what a performance earns and writes it with
`issue_certificate` (or the bulk writer with its rows); the nightly obligation sweep calls
`record_default`. Both flush and leave the commit to their caller; each record has a
`dedupe_key` the database keeps unique.
"""

import hmac
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ScalarSelect, and_, bindparam, false, or_, select, true, tuple_, update
from sqlalchemy.orm import selectinload

from mediation.audit.log import record as audit
from mediation.auth.models import Role, User
from mediation.cases.access_codes import LENGTH as CODE_LENGTH
from mediation.cases.access_codes import random_code
from mediation.cases.identity import mask_name, normalise_id
from mediation.cases.models import Case, Party
from mediation.database import read
from mediation.directory.calendar import local_date, local_today
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.web.language import gettext as _

POINTS_ON_TIME = 10
POINTS_EARLY = 15
EARLY_DAYS = 7  # performed at least this many days before the due date: early
POINTS_DEFAULT = -20
DEFAULT_AFTER_DAYS = 30  # unmet this many days after the due date: a negative record
PROFILE_LIMIT = 500  # a party's records across cases; far more than any real party has


class CertificateError(Exception):
    """A change to a certificate the rules refuse; str() is the message, `field` the field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def identity_key(party: Party) -> str | None:
    """What ties a party's records together across cases: its ID number or credit code."""
    return party.id_number or party.credit_code or None


def holder_key(party: Party) -> str:
    """Who holds a certificate, the same across cases: the ID number or credit code, else an
    organisation's name, else (a person without an ID number) that party alone."""
    if key := identity_key(party):
        return key
    return f"org:{party.name}" if party.kind == "organization" else f"party:{party.id}"


def points_for(fulfilled_on: date | None, due_on: date) -> int:
    """+15 when performed ≥ 7 days before the due date, +10 on time, 0 when late or open."""
    if fulfilled_on is None or fulfilled_on > due_on:
        return 0
    return POINTS_EARLY if (due_on - fulfilled_on).days >= EARLY_DAYS else POINTS_ON_TIME


def valid_until(issued_on: date) -> date:
    """Twelve months counted from the issue date: through the day before its anniversary
    (issued 2026-03-15 → valid until 2027-03-14). For 29 February the anniversary is 1 March,
    so the certificate runs to 28 February."""
    try:
        anniversary = issued_on.replace(year=issued_on.year + 1)
    except ValueError:
        anniversary = date(issued_on.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def certificate_status(certificate: Certificate, today: date) -> str:
    """ "valid", "expired" or "revoked" on the business date `today` (`certificate` may be a
    row of its revoked_at and valid_until)."""
    if certificate.revoked_at is not None:
        return "revoked"
    if today > certificate.valid_until:
        return "expired"
    return "valid"


def positive_key(case_id: int, party_id: int) -> str:
    return f"positive:{case_id}:{party_id}"


def negative_key(obligation_id: int) -> str:
    return f"negative:{obligation_id}"


def _exists(dedupe_key: str) -> bool:
    return (
        db.session.scalar(select(IntegrityRecord.id).filter_by(dedupe_key=dedupe_key)) is not None
    )


@dataclass
class CertificateGrant:
    """A positive record and its certificate, earned by a performance: the columns of both,
    but the record's id, which the certificate's number carries."""

    record: dict
    certificate: dict
    centre_code: str

    def certificate_row(self, record_id: int) -> dict:
        issued_on = self.certificate["issued_on"]
        return {
            **self.certificate,
            "record_id": record_id,
            "number": certificate_number(self.centre_code, issued_on, record_id),
        }


def certificate_for(
    case,
    performed,
    performed_on: date,
    centre: Centre,
    measures: list[str],
    at: datetime,
    issued_on: date,
) -> CertificateGrant | None:
    """The certificate a performance earns its obligor, if it earns one (SPEC 3.4): when
    every obligation the obligor owes in the case is performed with it, each on or before its
    due date. `case` is read as it stands before `performed` is recorded as performed on
    `performed_on`, so an obligor earns it once: with the last of its obligations. Issued at
    `at`, on the centre's business date `issued_on`."""
    owed = [o for o in case.agreement.obligations if o.obligor_id == performed.obligor_id]
    done = {o.id: performed_on if o.id == performed.id else o.fulfilled_on for o in owed}
    if any(done[o.id] is None or done[o.id] > o.due_on for o in owed):
        return None
    party = next(p for p in case.parties if p.id == performed.obligor_id)
    points = sum(points_for(done[o.id], o.due_on) for o in owed)
    record = {
        "centre_id": case.centre_id,
        "case_id": case.id,
        "party_id": party.id,
        "obligation_id": None,
        "kind": "positive",
        "points": points,
        "reason": "、".join(o.description for o in owed)[:200],
        "identity_key": identity_key(party),
        "dedupe_key": positive_key(case.id, party.id),
        "created_at": at,
        "created_on": issued_on,
    }
    certificate = {
        "centre_id": case.centre_id,
        "verification_code": new_verification_code(),
        "holder_name": party.name,
        "holder_key": holder_key(party),
        "issued_on": issued_on,
        "valid_until": valid_until(issued_on),
        "points": points,
        "measures": measures,
    }
    return CertificateGrant(record, certificate, centre.code)


def issue_certificate(grant: CertificateGrant) -> Certificate | None:
    """Write a granted record and certificate into the session (the workflow's applier for one
    case; the bulk writer writes the same rows). A grant whose record exists already (a
    replay) writes nothing."""
    if _exists(grant.record["dedupe_key"]):
        return None
    record = IntegrityRecord(**grant.record)
    db.session.add(record)
    db.session.flush()
    certificate = Certificate(**grant.certificate_row(record.id))
    db.session.add(certificate)
    db.session.flush()
    refresh_honour([certificate.id])
    return certificate


def refresh_honour(certificate_ids) -> None:
    """Marks what the honour list shows after these certificates were issued or revoked, or
    their party's consent changed: whether each is listed (not revoked; an organisation's, or
    a person's who consented), and which of its holder's listed certificates at its centre is
    the latest (validity, then id). Only the rows that can change are read and written: these
    certificates, the latest ones of their holders before, and the latest ones now."""
    changed = {"changed": list(certificate_ids)}
    if changed["changed"]:
        for statement in _REFRESH:
            db.session.execute(statement, changed, execution_options={"synchronize_session": False})


def may_be_listed(party) -> bool:
    """Whether the honour list may show a certificate of this party (_LISTED's rule for its
    party, asked of a party in hand): an organisation's, or a person's who consented."""
    return party.kind == "organization" or party.honour_consent


def honour_certificates_of(party_id: int) -> list[int]:
    """The certificates whose listing a change to this party (its consent) may change."""
    return list(
        db.session.scalars(
            select(Certificate.id)
            .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
            .where(IntegrityRecord.party_id == party_id)
        )
    )


_CHANGED = bindparam("changed", expanding=True)
_LISTED = and_(
    Certificate.revoked_at.is_(None),
    select(IntegrityRecord.id)
    .join(Party, IntegrityRecord.party_id == Party.id)
    .where(
        IntegrityRecord.id == Certificate.record_id,
        or_(Party.kind == "organization", Party.honour_consent.is_(True)),
    )
    .exists(),
)


def _latest_of(holder) -> ScalarSelect:
    """The id of the latest listed certificate of `holder`'s holder at its centre: one probe
    of ix_certificate_holder read backwards."""
    later = Certificate.__table__.alias("later")
    return (
        select(later.c.id)
        .where(
            later.c.holder_key == holder.holder_key,
            later.c.centre_id == holder.centre_id,
            later.c.is_listed == true(),  # = (not IS): an index seek on PostgreSQL too
        )
        .order_by(later.c.valid_until.desc(), later.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


_LATEST = and_(
    Certificate.is_listed == true(),
    or_(Certificate.holder_key.is_(None), Certificate.id == _latest_of(Certificate)),
)
_PAIR = Certificate.__table__.alias("pair")  # a changed certificate's holder and centre
_REFRESH = (
    update(Certificate)
    .values(is_listed=_LISTED)
    .where(Certificate.id.in_(_CHANGED), Certificate.is_listed.is_distinct_from(_LISTED)),
    update(Certificate)
    .values(is_latest=_LATEST)
    .where(Certificate.id.in_(_CHANGED), Certificate.is_latest.is_distinct_from(_LATEST)),
    # Each holder's latest before, if it is no longer (on ix_certificate_holder_latest) ...
    update(Certificate)
    .values(is_latest=False)
    .where(
        Certificate.is_latest == true(),
        tuple_(Certificate.holder_key, Certificate.centre_id).in_(
            select(_PAIR.c.holder_key, _PAIR.c.centre_id).where(_PAIR.c.id.in_(_CHANGED))
        ),
        ~_LATEST,
    ),
    # ... and its latest now.
    update(Certificate)
    .values(is_latest=True)
    .where(
        Certificate.is_latest == false(),
        Certificate.id.in_(select(_latest_of(_PAIR.c)).where(_PAIR.c.id.in_(_CHANGED))),
    ),
)


def certificate_number(centre_code: str, issued_on: date, record_id: int) -> str:
    """`330106-2026-000042`: centre, year, and the record's id. The id is unique without a
    counter to lock, so two certificates issued at once can never collide (the sequence has
    gaps across centres, which a certificate number may have)."""
    return f"{centre_code}-{issued_on.year}-{record_id:06d}"


def new_verification_code() -> str:
    return random_code()


def normalise_entry(value: str) -> str:
    """A number or code as typed on a phone: NFKC (full-width ＡＢ２３, －), no spaces, upper."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def find_certificate(number: str, code: str) -> Certificate | None:
    """The certificate with this number if the code is its verification code. An unknown
    number and a wrong code both give None, after the same comparison work."""
    number, code = normalise_entry(number), normalise_entry(code)
    certificate = db.session.scalar(
        select(Certificate)
        .where(Certificate.number == number[:40])
        .options(selectinload(Certificate.record).selectinload(IntegrityRecord.party))
    )
    expected = certificate.verification_code if certificate else "-" * CODE_LENGTH
    matches = hmac.compare_digest(expected.encode(), code.encode())
    return certificate if certificate is not None and matches else None


def public_holder_name(certificate: Certificate) -> str:
    return public_name(certificate.record.party.kind, certificate.holder_name)


def public_name(kind: str, name: str) -> str:
    """How the public sees a holder: an organisation by its name, a person masked."""
    return name if kind == "organization" else mask_name(name)


def default_record(case, obligation, centre: Centre, at: datetime) -> dict | None:
    """The negative record (−20, internal only) of an obligation still unmet 30 days after its
    due date, as the columns of its row; None when the obligation does not qualify."""
    if obligation.fulfilled_on is not None:
        return None
    today = local_date(at, centre)
    if (today - obligation.due_on).days < DEFAULT_AFTER_DAYS:
        return None
    obligor = next(p for p in case.parties if p.id == obligation.obligor_id)
    return {
        "centre_id": case.centre_id,
        "case_id": case.id,
        "party_id": obligor.id,
        "obligation_id": obligation.id,
        "kind": "negative",
        "points": POINTS_DEFAULT,
        "reason": obligation.description[:200],
        "identity_key": identity_key(obligor),
        "dedupe_key": negative_key(obligation.id),
        "created_at": at,
        "created_on": today,
    }


def record_default(obligation: Obligation, at: datetime) -> IntegrityRecord | None:
    """The obligation sweep's negative record for one obligation, written into the session;
    None when it does not qualify or its record exists already."""
    case = db.session.get(Case, obligation.case_id)
    row = default_record(case, obligation, case.centre, at)
    if row is None or _exists(row["dedupe_key"]):
        return None
    record = IntegrityRecord(**row)
    db.session.add(record)
    db.session.flush()
    return record


def revoke_certificate(certificate: Certificate, reason: str, user: User, at: datetime) -> None:
    """An administrator of the issuing centre (or a global one) revokes a certificate; the
    reason is required and the revocation audited. The caller commits."""
    if user.role != Role.ADMIN or not user.may_see_centre(certificate.centre_id):
        raise CertificateError(_("Only an administrator of the centre may revoke a certificate."))
    if certificate.revoked_at is not None:
        raise CertificateError(_("This certificate has been revoked already."))
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("Give the reason for the revocation."), "reason")
    certificate.revoked_at = at
    certificate.revoked_reason = reason[:500]
    certificate.revoked_by_id = user.id
    db.session.flush()
    refresh_honour([certificate.id])
    audit(
        "certificate.revoke",
        target=certificate.number,
        centre_id=certificate.centre_id,
        actor=user,
        reason=reason,
    )
    db.session.flush()


@dataclass
class Profile:
    """A party's integrity records across cases, as far as the viewer may see them."""

    identity_key: str
    records: list[IntegrityRecord] = field(default_factory=list)
    statuses: dict[int, str] = field(default_factory=dict)  # certificate id → its status today

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(r.party.name for r in self.records))

    @property
    def points(self) -> int:
        return sum(r.points for r in self.records)

    @property
    def positive(self) -> list[IntegrityRecord]:
        return [r for r in self.records if r.kind == "positive"]

    @property
    def negative(self) -> list[IntegrityRecord]:
        return [r for r in self.records if r.kind == "negative"]

    @property
    def certificates(self) -> list[Certificate]:
        return [r.certificate for r in self.records if r.certificate is not None]


def profile(identity_key: str, viewer: User) -> Profile:
    """Every record carrying this ID number or credit code (exact match, on its index), newest
    first, in the centres the viewer may see (a global administrator: all)."""
    key = normalise_id(identity_key or "")
    query = (
        select(IntegrityRecord)
        .where(IntegrityRecord.identity_key == key)
        .options(
            selectinload(IntegrityRecord.party).selectinload(Party.case).selectinload(Case.centre),
            selectinload(IntegrityRecord.certificate),
        )
        .order_by(IntegrityRecord.created_at.desc(), IntegrityRecord.id.desc())
        .limit(PROFILE_LIMIT)
    )
    if not viewer.is_global_admin:
        query = query.where(IntegrityRecord.centre_id == viewer.centre_id)
    found = list(db.session.scalars(query)) if key else []
    statuses = {
        record.certificate.id: certificate_status(
            record.certificate, local_today(record.party.case.centre)
        )
        for record in found
        if record.certificate is not None
    }
    return Profile(key, found, statuses)


class CaseRecord(NamedTuple):
    """A row of the case page's integrity card."""

    party: str
    kind: str
    points: int
    created_on: date
    certificate_id: int | None
    certificate_number: str | None
    certificate_status: str | None  # valid, expired or revoked today


def case_records(case, centre: Centre) -> list[CaseRecord]:
    """A case's records with their certificates' numbers and status today in the case's
    `centre`, for the case page, as plain rows. Every record is earned or forfeited on an
    obligation of the case's agreement, so a case without obligations is not asked."""
    if case.agreement is None or not case.agreement.obligations:
        return []
    today = local_today(centre)
    return [
        CaseRecord(
            row.party,
            row.kind,
            row.points,
            row.created_on,
            row.certificate_id,
            row.certificate_number,
            None if row.certificate_id is None else certificate_status(row, today),
        )
        for row in read(_CASE_RECORDS, {"case_id": case.id})
    ]


_CASE_RECORDS = (
    select(
        Party.name.label("party"),
        IntegrityRecord.kind,
        IntegrityRecord.points,
        IntegrityRecord.created_on,
        Certificate.id.label("certificate_id"),
        Certificate.number.label("certificate_number"),
        Certificate.revoked_at,
        Certificate.valid_until,
    )
    .join(Party, Party.id == IntegrityRecord.party_id)
    .outerjoin(Certificate, Certificate.record_id == IntegrityRecord.id)
    .where(Party.case_id == bindparam("case_id"))
    .order_by(IntegrityRecord.id)
)
