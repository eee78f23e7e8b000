"""The audit log's feed, shared by its page and its CSV export: audit entries and case events
(the immutable record of every case action) in one list, newest first, keyset-paged on
(at, kind, id) so that each page reads an index range of each table."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    bindparam,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)

from mediation.audit.models import AuditEntry
from mediation.auth.models import User
from mediation.cases.models import Case, CaseEvent
from mediation.cases.numbering import (
    canonical_case_number,
    case_ids_numbered,
    parse_case_number,
)
from mediation.database import read
from mediation.extensions import db
from mediation.web.params import business_date, moment, record_id

AUDIT, EVENT = "audit", "event"  # the kinds, in the order of the key (at, kind, id)


@dataclass(frozen=True)
class Filters:
    """What the page's form (or the export's link) asks for; empty fields ask nothing."""

    actor_id: int | None = None
    kind: str | None = None  # with `action`: AUDIT or EVENT
    action: str | None = None
    case_number: str | None = None
    day_from: date | None = None
    day_to: date | None = None

    @classmethod
    def from_args(cls, args) -> "Filters":
        kind, _sep, action = args.get("action", "").partition(":")
        number = args.get("case", "").strip()
        if number:
            number = canonical_case_number(number)
        return cls(
            actor_id=args.get("user", type=record_id),
            kind=kind if kind in (AUDIT, EVENT) and action else None,
            action=action if kind in (AUDIT, EVENT) and action else None,
            case_number=number or None,
            day_from=args.get("from", type=business_date),
            day_to=args.get("to", type=business_date),
        )

    def args(self) -> dict:
        """The filters as the page's query string, for its links and its export."""
        return {
            "user": self.actor_id,
            "action": f"{self.kind}:{self.action}" if self.action else None,
            "case": self.case_number,
            "from": self.day_from.isoformat() if self.day_from else None,
            "to": self.day_to.isoformat() if self.day_to else None,
        }


@dataclass(frozen=True)
class Cursor:
    at: datetime
    kind: str
    id: int

    def __str__(self) -> str:
        return f"{self.at.isoformat()}_{self.kind}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> "Cursor | None":
        at, _sep, rest = (text or "").partition("_")
        kind, _sep, entry_id = rest.partition("_")
        try:
            return cls(moment(at), kind, record_id(entry_id)) if kind in (AUDIT, EVENT) else None
        except ValueError:
            return None


def feed(
    centre_id: int | None, filters: Filters, cursor: Cursor | None, limit: int, zone: str
) -> list:
    """Up to `limit` rows of the log after `cursor`, newest first, of one centre (None: all):
    kind, id, at, actor_kind, actor_name, action, target (a case event's case number), case_id,
    client, details. One statement."""
    shape = _Shape(
        centre=centre_id is not None,
        actor=filters.actor_id is not None,
        kinds=(filters.kind,) if filters.kind else (AUDIT, EVENT),
        action=filters.action is not None,
        case=filters.case_number is not None,
        day_from=filters.day_from is not None,
        day_to=filters.day_to is not None,
        cursor_kind=cursor.kind if cursor else None,
        engine=db.session.get_bind().dialect.name,
    )
    parts = parse_case_number(filters.case_number) if filters.case_number else None
    params = {
        "centre": centre_id,
        "actor": filters.actor_id,
        "action": filters.action,
        "case": filters.case_number,
        "case_seq": parts.seq if parts else None,
        "case_year": parts.year if parts else None,
        "case_party": f"{filters.case_number} #" if filters.case_number else None,
        "day_from": _start_of(filters.day_from, zone),
        "day_to": _start_of(filters.day_to + timedelta(days=1), zone) if filters.day_to else None,
        "cursor_at": cursor.at if cursor else None,
        "cursor_id": cursor.id if cursor else None,
        "limit": limit,
    }
    return read(_statement(shape), params).all()


def users_in(centre_id: int | None) -> list:
    """(id, name) of the users whose actions the log can show: the centre's, or everyone's."""
    query = select(User.id, User.display_name, User.username).order_by(User.username)
    if centre_id is not None:
        query = query.where(User.centre_id == centre_id)
    return read(query).all()


def _start_of(day: date | None, zone: str) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(zone)) if day else None


@dataclass(frozen=True)
class _Shape:
    centre: bool
    actor: bool
    kinds: tuple[str, ...]
    action: bool
    case: bool
    day_from: bool
    day_to: bool
    cursor_kind: str | None
    engine: str


_MOMENT = AuditEntry.at.type


@cache
def _statement(shape: _Shape):
    """The feed's statement for one shape of filters, built once; every value a parameter.
    Each kind's rows are read newest first with their own limit (an index range), then
    merged."""
    branches = [_BRANCHES[kind](shape).subquery() for kind in shape.kinds]
    merged = union_all(*(select(*branch.c) for branch in branches)).subquery()
    return (
        select(*merged.c)
        .order_by(merged.c.at.desc(), merged.c.kind.desc(), merged.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def _audit_rows(shape: _Shape):
    table = AuditEntry
    query = select(
        literal(AUDIT, String).label("kind"),
        table.id,
        table.at,
        literal("user", String).label("actor_kind"),
        table.actor_name,
        table.action,
        table.target,
        literal(None, Integer).label("case_id"),
        table.client,
        table.details,
    )
    conditions = _common(shape, table, AUDIT)
    if shape.centre:
        conditions.append(_centre_condition(shape, table.centre_id == bindparam("centre")))
    if shape.case:
        # The entries about a case name it (a party's preferences: "<number> #<party id>").
        conditions.append(
            or_(table.target == bindparam("case"), table.target.startswith(bindparam("case_party")))
        )
    return _newest_first(query.where(*conditions), table)


def _event_rows(shape: _Shape):
    table = CaseEvent
    query = select(
        literal(EVENT, String).label("kind"),
        table.id,
        table.at,
        table.actor_kind,
        table.actor_name,
        table.action,
        Case.number.label("target"),
        table.case_id,
        literal("", String).label("client"),
        table.details,
    ).join(Case, Case.id == table.case_id)
    conditions = _common(shape, table, EVENT)
    if shape.centre:
        # The centre's own events: of a case moved between centres, those of its time there.
        conditions.append(_centre_condition(shape, table.centre_id == bindparam("centre")))
    if shape.case:
        # The case's events, found from its number, now or before a move, on (case_id, id).
        numbered = case_ids_numbered(
            bindparam("case_seq"), bindparam("case_year"), bindparam("case")
        )
        conditions.append(table.case_id.in_(numbered))
    return _newest_first(query.where(*conditions), table)


def _centre_condition(shape: _Shape, condition):
    """The centre's rows. With a filter that has its own index, SQLite is told the centre holds
    most rows (its likelihood()): without statistics it would rather walk the whole centre in
    order, testing each row against the filter, than read the filter's index range."""
    if shape.engine == "sqlite" and (shape.actor or shape.action or shape.case):
        return func.likelihood(condition, literal_column("0.9"), type_=Boolean)
    return condition


def _common(shape: _Shape, table, kind: str) -> list:
    conditions = []
    if shape.actor:
        conditions.append(table.actor_id == bindparam("actor"))
    if shape.action:
        conditions.append(table.action == bindparam("action"))
    if shape.day_from:
        conditions.append(table.at >= bindparam("day_from", type_=_MOMENT))
    if shape.day_to:
        conditions.append(table.at < bindparam("day_to", type_=_MOMENT))
    if shape.cursor_kind is not None:
        conditions.append(_after_cursor(table, kind, shape.cursor_kind))
    return conditions


def _after_cursor(table, kind: str, cursor_kind: str):
    """The rows after the cursor in the order (at, kind, id) descending, for one kind."""
    at = bindparam("cursor_at", type_=_MOMENT)
    if kind == cursor_kind:
        return tuple_(table.at, table.id) < tuple_(at, bindparam("cursor_id"))
    # At the cursor's time, the rows of the kind that sorts below the cursor's are still to come.
    return table.at <= at if kind < cursor_kind else table.at < at


def _newest_first(query, table):
    return query.order_by(table.at.desc(), table.id.desc()).limit(bindparam("limit", type_=Integer))


_BRANCHES = {AUDIT: _audit_rows, EVENT: _event_rows}
