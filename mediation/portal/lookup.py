"""The party portal's rules: finding a party by case number and access code, throttling
failed look-ups, what a party sees of the case, and the service rating.

A look-up answers the same, with the same work, whether the number is unknown or the code is
wrong: one query for the number, one keyed hash of the code, then a comparison with each
party's stored hash. Failures are counted in the database (auth.throttle), so the limits hold
across every web worker.
"""

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, union_all
from sqlalchemy.exc import IntegrityError

from mediation import clock
from mediation.auth.throttle import (
    Throttle,
    recent_failures,
    seconds_until,
    wait_for,
)
from mediation.cases.access_codes import hash_access_code, stored_code_matches
from mediation.cases.models import Case, FormerNumber, Party
from mediation.cases.numbering import (
    canonical_case_number,
    case_ids_numbered,
    parse_case_number,
)
from mediation.database import begin_writing, read
from mediation.directory.models import Centre
from mediation.extensions import db
from mediation.integrity import records
from mediation.integrity.models import Certificate, IntegrityRecord, ServiceRating
from mediation.portal.models import EndedPortalSession
from mediation.web.language import gettext as _

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
class LookupState:
    """Where a client stands with a number: seconds to wait before it may look it up (0: it
    may now) and how many failures it has left before it must wait."""

    wait_seconds: int
    tries_left: int


@dataclass(frozen=True)
class LookupThrottles:
    """Failed look-ups counted per client, per case number and client, and per case number.

    A client (an IPv4 address, or an IPv6 /64 network: one household's addresses) may fail 10
    times in 15 minutes, and 10 times with one number. The number alone never closes: it is
    printed and sent by SMS, so a stranger could use it to lock its parties out. Once it has
    failed 20 times in 15 minutes (from any clients) it is *guarded*: only a client with no
    failure of its own in the window is heard, once — a right code opens the case, a wrong one
    makes that client wait out the window too. Guessing a guarded number thus costs a fresh
    address per guess, while a party typing the right code is let in."""

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
            case=Throttle("portal-case", config.get("PORTAL_GUARD_AFTER_FAILURES", 20), window),
        )

    def keyed(self, number: str, client: str) -> list[tuple[Throttle, str]]:
        return [
            (self.client, client[:KEY_LENGTH]),
            (self.case_client, f"{number}|{client}"[:KEY_LENGTH]),
            (self.case, number[:KEY_LENGTH]),
        ]

    def state(self, number: str, client: str) -> LookupState:
        """One query for the three counts."""
        keyed = self.keyed(number, client)
        failures = recent_failures(keyed)
        mine, with_number, of_number = (failures[(t.scope, key)] for t, key in keyed)
        wait = max(wait_for(self.client, mine), wait_for(self.case_client, with_number))
        tries = min(self.client.limit - len(mine), self.case_client.limit - len(with_number))
        if len(of_number) >= self.case.limit:  # guarded: a client that failed waits
            if mine:
                wait = max(wait, seconds_until(mine[0] + self.client.window))
            tries = 0 if mine else min(tries, 1)
        return LookupState(wait, max(0, tries))


def throttle_client(address: str) -> str:
    """The key a client's failures are counted under: its IPv4 address, or the /64 network of
    its IPv6 address (a single line is given a whole /64 to pick addresses from)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


def look_up(number: str, code: str, client: str) -> Party | None:
    """The party whose access code this is, for the case with this number; None when the
    number is unknown or the code wrong (both counted as failures). Raises LookupThrottled
    when this client must wait (LookupThrottles says when)."""
    # However it was typed, one number is one throttle key and the form the hash was made of.
    number, client = canonical_case_number(number), throttle_client(client)
    throttles = LookupThrottles.from_config()
    wait = throttles.state(number, client).wait_seconds
    if wait:
        raise LookupThrottled(wait)
    party = _party_with_code(number, code)
    if party is None:
        # Only a failure writes; the look-up read without holding the write lock.
        begin_writing()
        for throttle, key in throttles.keyed(number, client):
            throttle.hit(key)
        db.session.flush()
    return party


def tries_left(number: str, client: str) -> int:
    """How many more failed look-ups of this number this client has before it must wait."""
    number, client = canonical_case_number(number), throttle_client(client)
    return LookupThrottles.from_config().state(number, client).tries_left


def centre_of_number(number: str) -> Centre | None:
    """The centre whose abbreviation the typed number bears (for whom to call), found without
    asking whether such a case exists."""
    parts = parse_case_number(number)
    if parts is None or parts.abbreviation is None:
        return None
    return db.session.scalar(
        select(Centre).where(Centre.abbreviation == parts.abbreviation).order_by(Centre.id).limit(1)
    )


def _party_with_code(number: str, code: str) -> Party | None:
    # The same queries and one keyed hash whether or not the number exists. A code is hashed
    # with the number the case had when the code was issued: a moved case's parties are
    # tested under each of its numbers (one more hash per move).
    digests = {number: hash_access_code(number, code)}
    for party, key in _parties_of_cases_numbered(number):
        if key not in digests:
            digests[key] = hash_access_code(key, code)
        if party.access_code_hash and stored_code_matches(
            digests[key], code, party.access_code_hash
        ):
            return party
    return None


def _parties_of_cases_numbered(number: str) -> list[tuple[Party, str]]:
    """The parties of the cases that have or had this number, as it was issued: whatever the
    centre's abbreviation is now (SPEC 3.1), and after a move to another centre. Two centres
    that share an abbreviation could share a number. Each party comes with each number of its
    case. Found on (seq, year); a text that is no whole number finds nothing, by the same
    statement."""
    parts = parse_case_number(number)
    whole = parts is not None and parts.number == number
    params = {
        "seq": parts.seq if whole else None,
        "year": parts.year if whole else None,
        "number": number,
    }
    return list(db.session.execute(_PARTIES_OF_NUMBER, params).tuples())


def _parties_and_numbers():
    found = case_ids_numbered(bindparam("seq"), bindparam("year"), bindparam("number"))
    numbers = union_all(
        select(Case.id.label("case_id"), Case.number.label("number")).where(Case.id.in_(found)),
        select(FormerNumber.case_id, FormerNumber.number).where(FormerNumber.case_id.in_(found)),
    ).subquery()
    return (
        select(Party, numbers.c.number)
        .join(numbers, numbers.c.case_id == Party.case_id)
        .order_by(Party.id, numbers.c.number)
    )


# Built once: it runs on every look-up.
_PARTIES_OF_NUMBER = _parties_and_numbers()


# --- the portal session -------------------------------------------------------------------


def open_session(party: Party) -> dict:
    """What the signed session cookie holds for a party: a token naming this session (for
    ending it on the server), the party and case it is bound to, the code it was opened with
    (a replaced code ends it), opened and last seen when. Nothing is written: a look-up only
    reads."""
    now = clock.now().timestamp()
    return {
        "token": secrets.token_urlsafe(32),
        "party": party.id,
        "case": party.case_id,
        "code": _stamp(party),
        "opened": now,
        "seen": now,
    }


def close_session(data: dict | None) -> None:
    """Ends the session on the server: the cookie, wherever it was copied, opens nothing. The
    ended sessions no cookie could outlive any more are swept here."""
    if not (isinstance(data, dict) and isinstance(data.get("token"), str)):
        return
    now = clock.now()
    db.session.execute(
        delete(EndedPortalSession).where(EndedPortalSession.ended_at < now - MAX_LIFETIME)
    )
    if db.session.get(EndedPortalSession, data["token"][:64]) is None:
        db.session.add(EndedPortalSession(token=data["token"][:64], ended_at=now))


@dataclass(frozen=True)
class SessionParty:
    """The party of a portal session, as a row: what the pages, the workflow's guards and the
    party's own moves read of it (they never change the party itself)."""

    id: int
    case_id: int
    name: str
    access_code_hash: str | None
    access_code_issued_at: datetime | None


def party_for_session(data: dict | None) -> tuple[SessionParty | None, bool]:
    """The party a portal session belongs to, and whether it had expired; (None, False) when
    there is no valid session. A session ends when the party leaves (its row is deleted),
    after IDLE_LIMIT without a request and, however active, MAX_LIFETIME after the look-up."""
    if not isinstance(data, dict):
        return None, False
    now = clock.now().timestamp()
    try:
        idle = now - float(data["seen"])
        age = now - float(data["opened"])
        party_id, case_id, token = int(data["party"]), int(data["case"]), str(data["token"])
    except (KeyError, TypeError, ValueError):
        return None, False
    if idle > IDLE_LIMIT.total_seconds() or age > MAX_LIFETIME.total_seconds():
        return None, True
    if idle < -60 or age < -60:
        return None, False
    row = read(_PARTY_OF_SESSION, {"token": token, "party": party_id}).one_or_none()
    party = SessionParty(*row) if row is not None else None
    if party is None or party.case_id != case_id or _stamp(party) != data.get("code"):
        return None, False
    issued = party.access_code_issued_at
    if issued is not None and issued.timestamp() > float(data["opened"]):
        return None, False  # a new code was issued after the look-up
    return party, False


# Built once: it runs on every request of a portal session.
_PARTY_OF_SESSION = select(
    Party.id, Party.case_id, Party.name, Party.access_code_hash, Party.access_code_issued_at
).where(
    Party.id == bindparam("party"),
    ~select(EndedPortalSession.token)
    .where(EndedPortalSession.token == bindparam("token"))
    .exists(),
)


def _stamp(party: Party | SessionParty) -> str:
    # A few characters of the keyed hash: enough to notice a replaced code, useless to anyone
    # reading the (signed, not encrypted) cookie.
    return party.access_code_hash[:12]


# --- what a party sees ----------------------------------------------------------------------


@dataclass
class CertificateView:
    certificate: Certificate
    status: str  # valid, expired, revoked


def certificates_of(party: Party | SessionParty, today: date) -> list[CertificateView]:
    certificates = db.session.scalars(
        select(Certificate)
        .join(IntegrityRecord, Certificate.record_id == IntegrityRecord.id)
        .where(IntegrityRecord.party_id == party.id, IntegrityRecord.case_id == party.case_id)
        .order_by(Certificate.issued_on, Certificate.id)
    ).all()
    return [CertificateView(c, records.certificate_status(c, today)) for c in certificates]


def rating_of(case: Case, party: Party | SessionParty) -> ServiceRating | None:
    return db.session.scalar(select(ServiceRating).filter_by(case_id=case.id, party_id=party.id))


def rate_service(
    case: Case, party: Party | SessionParty, stars: int, comment: str = ""
) -> ServiceRating:
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
