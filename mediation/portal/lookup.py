"""The party portal's rules: finding a party by case number and access code, throttling
failed look-ups, what a party sees of the case, and the service rating.

A look-up answers the same, with the same work, whether the number is unknown or the code is
wrong: one query for the number, one keyed hash of the code, then a comparison with each
party's stored hash. Failures are counted in the database (auth.throttle), so the limits hold
across every web worker.
"""

import hmac
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from mediation import clock
from mediation.auth.throttle import Throttle, longest_wait
from mediation.cases.access_codes import hash_access_code
from mediation.cases.models import Case, Party
from mediation.cases.numbering import parse_case_number, stored_number
from mediation.database import begin_writing
from mediation.extensions import db
from mediation.integrity import records
from mediation.integrity.models import Certificate, IntegrityRecord, ServiceRating

# A party's portal view closes after this long without a request.
IDLE_LIMIT = timedelta(minutes=30)
# ... and, however active, this long after the look-up.
MAX_LIFETIME = timedelta(hours=2)
# ThrottleHit.key is 128 characters; anything longer cannot be a case number anyway.
KEY_LENGTH = 128


class PortalError(Exception):
    """A refusal with a message for the party; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class LookupThrottled(Exception):
    def __init__(self, wait_seconds: int):
        super().__init__(wait_seconds)
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class LookupThrottles:
    """Failed look-ups counted per client, per case number and client, and per case number.
    The case number is printed and sent by SMS, so the limit on the number alone is much
    higher: a stranger who knows it cannot lock the parties out with a few wrong codes, while
    guessing from many addresses stays bounded."""

    client: Throttle
    case_client: Throttle
    case: Throttle

    @classmethod
    def from_config(cls) -> "LookupThrottles":
        config = current_app.config
        window = timedelta(minutes=config.get("PORTAL_LOCK_MINUTES", 15))
        return cls(
            client=Throttle(
                "portal-client", config.get("PORTAL_MAX_FAILURES_PER_CLIENT", 10), window
            ),
            case_client=Throttle(
                "portal-case-client",
                config.get("PORTAL_MAX_FAILURES_PER_CASE_AND_CLIENT", 10),
                window,
            ),
            case=Throttle("portal-case", config.get("PORTAL_MAX_FAILURES_PER_CASE", 100), window),
        )

    def keyed(self, number: str, client: str) -> list[tuple[Throttle, str]]:
        return [
            (self.client, client[:KEY_LENGTH]),
            (self.case_client, f"{number}|{client}"[:KEY_LENGTH]),
            (self.case, number[:KEY_LENGTH]),
        ]


def look_up(number: str, code: str, client: str) -> Party | None:
    """The party whose access code this is, for the case with this number; None when the
    number is unknown or the code wrong (both counted as failures). Raises LookupThrottled
    when the client, the number from this client, or the number has failed too often."""
    # However it was typed, one number is one throttle key and the form the hash was made of.
    number = stored_number(number)
    keyed = LookupThrottles.from_config().keyed(number, client)
    wait = longest_wait(keyed)
    if wait:
        raise LookupThrottled(wait)
    party = _party_with_code(number, code)
    if party is None:
        # Only a failure writes; the look-up read without holding the write lock.
        begin_writing()
        for throttle, key in keyed:
            throttle.hit(key)
        db.session.flush()
    return party


def _party_with_code(number: str, code: str) -> Party | None:
    # The same queries and one keyed hash whether or not the number exists.
    digest = hash_access_code(number, code)
    for party in _parties_of_cases_numbered(number):
        if party.access_code_hash and hmac.compare_digest(digest, party.access_code_hash):
            return party
    return None


def _parties_of_cases_numbered(number: str) -> list[Party]:
    """The parties of the cases with this number, as it was issued: whatever the centre's
    abbreviation is now (SPEC 3.1). Two centres that share an abbreviation could share a
    number. Found on (seq, year); a text that is no whole number finds nothing, by the same
    statement."""
    parts = parse_case_number(number)
    whole = parts is not None and parts.number == number
    params = {
        "seq": parts.seq if whole else None,
        "year": parts.year if whole else None,
        "number": number,
    }
    return list(db.session.scalars(_PARTIES_OF_NUMBER, params))


# Built once: it runs on every look-up.
_PARTIES_OF_NUMBER = (
    select(Party)
    .join(Case, Party.case_id == Case.id)
    .where(
        Case.seq == bindparam("seq"),
        Case.year == bindparam("year"),
        Case.number == bindparam("number"),
    )
    .order_by(Party.id)
)


# --- the portal session -------------------------------------------------------------------


def session_data(party: Party) -> dict:
    """What the signed session cookie holds for a party: bound to one party of one case, and
    to the code it was opened with (a replaced code ends it); opened and last seen when."""
    now = clock.now().timestamp()
    return {
        "party": party.id,
        "case": party.case_id,
        "code": _stamp(party),
        "opened": now,
        "seen": now,
    }


def party_for_session(data: dict | None) -> tuple[Party | None, bool]:
    """The party a portal session belongs to, and whether it had expired; (None, False) when
    there is no valid session. A session ends after IDLE_LIMIT without a request and, however
    active, MAX_LIFETIME after the look-up: a copied cookie (the party left, but someone kept
    it) stops working then at the latest."""
    if not isinstance(data, dict):
        return None, False
    now = clock.now().timestamp()
    try:
        idle = now - float(data["seen"])
        age = now - float(data["opened"])
        party = db.session.get(Party, int(data["party"]))
        case_id = int(data["case"])
    except (KeyError, TypeError, ValueError):
        return None, False
    if idle > IDLE_LIMIT.total_seconds() or age > MAX_LIFETIME.total_seconds():
        return None, True
    if idle < -60 or age < -60:
        return None, False
    if party is None or party.case_id != case_id or _stamp(party) != data.get("code"):
        return None, False
    issued = party.access_code_issued_at
    if issued is not None and issued.timestamp() > float(data["opened"]):
        return None, False  # a new code was issued after the look-up
    return party, False


def _stamp(party: Party) -> str:
    # A few characters of the keyed hash: enough to notice a replaced code, useless to anyone
    # reading the (signed, not encrypted) cookie.
    return party.access_code_hash[:12]


# --- what a party sees ----------------------------------------------------------------------


@dataclass
class CertificateView:
    certificate: Certificate
    status: str  # valid, expired, revoked


def certificates_of(party: Party, today: date) -> list[CertificateView]:
    certificates = db.session.scalars(
        select(Certificate)
        .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
        .where(IntegrityRecord.party_id == party.id, IntegrityRecord.case_id == party.case_id)
        .order_by(Certificate.issued_on, Certificate.id)
    ).all()
    return [CertificateView(c, records.certificate_status(c, today)) for c in certificates]


def rating_of(case: Case, party: Party) -> ServiceRating | None:
    return db.session.scalar(select(ServiceRating).filter_by(case_id=case.id, party_id=party.id))


def rate_service(case: Case, party: Party, stars: int, comment: str = "") -> ServiceRating:
    """A party's rating of the service: once the case has concluded, once per party."""
    if party.case_id != case.id:
        raise PortalError(_("You may not rate this case."))
    if case.concluded_at is None:
        raise PortalError(_("You can rate the service once your case has concluded."))
    if not 1 <= stars <= 5:
        raise PortalError(_("Choose how satisfied you are."), "stars")
    if rating_of(case, party) is not None:
        raise PortalError(_("You have already rated the service for this case. Thank you."))
    rating = ServiceRating(
        case_id=case.id,
        party_id=party.id,
        stars=stars,
        comment=comment.strip()[:1000],
        rated_at=clock.now(),
    )
    try:
        # Two submissions at once: the unique (case, party) constraint keeps one.
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError:
        raise PortalError(
            _("You have already rated the service for this case. Thank you.")
        ) from None
    return rating
