"""What the API reads: a case by its number within the client's centre, as JSON, and the
feed of changes in commit order."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, text, tuple_
from sqlalchemy.orm import selectinload

from mediation.cases.identity import mask_id, mask_phone
from mediation.cases.models import Agreement, Case, CaseEvent
from mediation.cases.numbering import (
    canonical_case_number,
    case_ids_numbered,
    parse_case_number,
)
from mediation.extensions import db
from mediation.integrity.models import Obligation


def case_numbered(centre_id: int, typed: str) -> Case | None:
    """The centre's case that has or had this number (a case moved here by its old number
    too), typed in any way the portal accepts (SPEC 3.1); found on (seq, year) like the
    portal's look-up, whatever abbreviation it was issued with."""
    number = canonical_case_number(typed)
    parts = parse_case_number(number)
    if parts is None or parts.number != number:
        return None
    return db.session.scalar(
        _CASE_NUMBERED,
        {"centre_id": centre_id, "seq": parts.seq, "year": parts.year, "number": number},
    )


_CASE_NUMBERED = (
    select(Case)
    .where(
        Case.id.in_(case_ids_numbered(bindparam("seq"), bindparam("year"), bindparam("number"))),
        Case.centre_id == bindparam("centre_id"),
    )
    .options(
        selectinload(Case.parties),
        selectinload(Case.organization),
        selectinload(Case.mediator),
        selectinload(Case.centre),
        selectinload(Case.transfer),
        selectinload(Case.agreement)
        .selectinload(Agreement.obligations)
        .selectinload(Obligation.obligor),
        selectinload(Case.agreement)
        .selectinload(Agreement.obligations)
        .selectinload(Obligation.obligee),
    )
)


def _money(value) -> str | None:
    return f"{value:.2f}" if value is not None else None


def case_json(case: Case) -> dict:
    """A case as the API shows it: ID numbers and phones masked, as on every page."""
    transfer, agreement = case.transfer, case.agreement
    return {
        "number": case.number,
        "centre": case.centre.code,
        "state": case.state,
        "channel": case.channel_code,
        "category": case.category_code,
        "summary": case.summary,
        "claims": case.claims,
        "amount": _money(case.amount),
        "risk_level": case.risk_level,
        "registered_at": case.registered_at,
        "registered_on": case.registered_on,
        "routed_on": case.routed_on,
        "deadline_on": case.deadline_on,
        "concluded_on": case.concluded_on,
        "outcome": case.outcome,
        "transfer_reason": case.transfer_reason,
        "organization": case.organization.name if case.organization else None,
        "mediator": case.mediator.name if case.mediator else None,
        "parties": [
            {
                "role": party.role,
                "kind": party.kind,
                "name": party.name,
                "id_number": mask_id(party.id_number) or None,
                "credit_code": mask_id(party.credit_code) or None,
                "phone": mask_phone(party.phone) or None,
            }
            for party in case.parties
        ],
        "transfer": {
            "reason": transfer.reason,
            "court": transfer.court,
            "transferred_on": transfer.transferred_on,
            "filing_number": transfer.filing_number,
        }
        if transfer
        else None,
        "agreement": {
            "signed_on": agreement.signed_on,
            "terms": agreement.terms,
            "confirmation_court": agreement.confirmation_court,
            "confirmation_ruling": agreement.confirmation_ruling,
            "confirmed_on": agreement.confirmed_on,
            "obligations": [
                {
                    "obligor": obligation.obligor.name,
                    "obligee": obligation.obligee.name,
                    "description": obligation.description,
                    "amount": _money(obligation.amount),
                    "due_on": obligation.due_on,
                    "fulfilled_on": obligation.fulfilled_on,
                    "is_defaulted": obligation.defaulted_at is not None,
                }
                for obligation in agreement.obligations
            ],
        }
        if agreement
        else None,
    }


# --- the feed -------------------------------------------------------------------------------

CURSOR = re.compile(r"([0-9]{1,18})-([0-9]{1,18})")
START = "0-0"


@dataclass(frozen=True)
class Position:
    """Where an event stands in the feed: its writing transaction's id (PostgreSQL; 0 on
    SQLite, which commits in id order) and its own id."""

    txid: int
    id: int

    @classmethod
    def parse(cls, cursor: str) -> "Position":
        """ValueError for anything that is not a cursor this feed gave."""
        match = CURSOR.fullmatch(cursor)
        if match is None:
            raise ValueError(cursor)
        return cls(int(match[1]), int(match[2]))

    def __str__(self) -> str:
        return f"{self.txid}-{self.id}"


def _feed_statement(postgresql: bool, from_since: bool):
    event, case = CaseEvent.__table__, Case.__table__
    statement = (
        select(
            event.c.id,
            event.c.txid,
            event.c.action,
            event.c.at,
            event.c.from_state,
            event.c.to_state,
            case.c.number,
            case.c.state,
            case.c.outcome,
        )
        .join_from(event, case, case.c.id == event.c.case_id)
        .where(event.c.centre_id == bindparam("centre_id"))
        .limit(bindparam("limit"))
    )
    if from_since:
        statement = statement.where(event.c.at >= bindparam("since"))
    if not postgresql:
        # SQLite: one transaction writes at a time, so ids are in commit order.
        return statement.where(event.c.id > bindparam("after_id")).order_by(event.c.id)
    # PostgreSQL commits transactions in any order, so ids are not in commit order: events
    # are read by their transaction's id, up to the horizon (below).
    after = tuple_(bindparam("after_txid"), bindparam("after_id"))
    return statement.where(
        tuple_(event.c.txid, event.c.id) > after, event.c.txid < bindparam("horizon")
    ).order_by(event.c.txid, event.c.id)


# PostgreSQL: the oldest transaction of this database still running (xids are the cluster's:
# another database's transactions are left out), else the next transaction id to be given.
# A transaction below it has ended; one that starts later gets a higher id. Read in a
# statement before the events, whose snapshot is then taken after it, so every event below
# the horizon that will ever be committed is visible to that read: a client following the
# cursor misses none and sees none twice.
_HORIZON = text(
    """
    SELECT coalesce(
        (SELECT min(running::text::bigint)
         FROM pg_snapshot_xip(pg_current_snapshot()) AS running
         WHERE running::text::bigint % 4294967296 IN (
             SELECT backend_xid::text::bigint FROM pg_stat_activity
             WHERE datname = current_database() AND backend_xid IS NOT NULL)),
        pg_snapshot_xmax(pg_current_snapshot())::text::bigint)
    """
)
# pg_stat_activity is read once per transaction and then kept: read it afresh.
_FRESH_ACTIVITY = text("SELECT pg_stat_clear_snapshot()")


# Built once each: the feed is polled.
_FEED = {
    (postgresql, from_since): _feed_statement(postgresql, from_since)
    for postgresql in (False, True)
    for from_since in (False, True)
}


def changes(
    centre_id: int, after: Position, since: datetime | None, limit: int
) -> tuple[list, Position]:
    """The centre's case events after `after` (and from `since` on), oldest first, with the
    position to read on from."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    statement = _FEED[postgresql, since is not None]
    params = {"centre_id": centre_id, "after_id": after.id, "limit": limit}
    if postgresql:
        db.session.execute(_FRESH_ACTIVITY)
        horizon = db.session.execute(_HORIZON).scalar_one()
        params |= {"after_txid": after.txid, "horizon": horizon}
    if since is not None:
        params["since"] = since
    rows = db.session.execute(statement, params).all()
    position = Position(rows[-1].txid or 0, rows[-1].id) if rows else after
    return rows, position
