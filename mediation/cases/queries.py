"""The case list, the queues and the dashboards: queries that pages and exports share.

Lists are keyset (seek) pages on an index — no OFFSET, and no COUNT over the whole table:
a page fetches one row more than it shows to know whether there is a next one. Counts that
pages show are capped (`_count_up_to`), so they stay cheap with a million cases.
"""

import itertools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    Boolean,
    Select,
    and_,
    bindparam,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from mediation import clock
from mediation.auth.models import User
from mediation.cases.access import scope_conditions, scope_of
from mediation.cases.models import Case, MediationSession, Party
from mediation.cases.search import finds_many, read_search, search_condition
from mediation.cases.states import (
    HIGH_RISKS,
    IN_MEDIATION,
    OPEN_STATES,
    RISK_LEVELS,
    STATE_LABELS,
    State,
)
from mediation.database import read
from mediation.directory.calendar import local_today
from mediation.directory.centres import region_centres
from mediation.directory.models import Centre, Mediator, Organization
from mediation.directory.settings import warning_days
from mediation.directory.terms import CATEGORIES, CHANNELS
from mediation.extensions import db
from mediation.web.language import gettext as _
from mediation.web.params import business_date, moment, record_id

PAGE_SIZE = 25
QUEUE_SIZE = 10
COUNT_CAP = 1000
RECENT_DAYS = 30

QUEUES = ("triage", "deadline", "high_risk", "concluded")
SORTS = ("newest", "oldest", "deadline")


# --- choices for the forms ------------------------------------------------------------------


def mediator_for(user: User) -> Mediator | None:
    return db.session.scalar(select(Mediator).where(Mediator.user_id == user.id))


def centres_for(user: User) -> list[Centre]:
    if user.is_regional_admin:
        return region_centres(user.region_code)
    query = select(Centre).order_by(Centre.code)
    if not user.is_global_admin:
        query = query.where(Centre.id == user.centre_id)
    return list(db.session.scalars(query))


def organizations_for(user: User, centre_id: int | None) -> list:
    """Organisations for the filter and bulk forms (id, name, is_active): the user's centre,
    or a global admin's chosen centre (all centres when none is chosen), or a regional
    admin's chosen centre of their region (none when none is chosen)."""
    return _choices(Organization, user, centre_id)


def mediators_for(user: User, centre_id: int | None) -> list:
    """Mediators for the same forms (id, name, is_active, organization: its name)."""
    return _choices(Mediator, user, centre_id)


def _choices(model, user: User, centre_id: int | None) -> list:
    if user.is_regional_admin and not user.may_see_centre(centre_id):
        return []
    centre_id = user.centre_id if not user.sees_several_centres else centre_id
    return read(_choices_statement(model, centre_id is None), {"centre": centre_id}).all()


@cache
def _choices_statement(model, every_centre: bool) -> Select:
    """The organisations' or the mediators' choices, of one centre (the parameter `centre`)
    or of all."""
    if model is Organization:
        query = select(Organization.id, Organization.name, Organization.is_active)
    else:
        query = select(
            Mediator.id, Mediator.name, Mediator.is_active, Organization.name.label("organization")
        ).join(Organization, Organization.id == Mediator.organization_id)
    query = query.order_by(model.centre_id, model.name)
    return query if every_centre else query.where(model.centre_id == bindparam("centre"))


# --- filters --------------------------------------------------------------------------------


def _text(args, name: str, allowed: Iterable[str]) -> str | None:
    value = (args.get(name) or "").strip()
    return value if value in allowed else None


def _int(args, name: str) -> int | None:
    value = (args.get(name) or "").strip()
    try:
        return record_id(value)
    except ValueError:
        return None


def _date(args, name: str) -> date | None:
    try:
        return business_date(args.get(name) or "")
    except ValueError:
        return None


@dataclass(frozen=True)
class CaseFilter:
    """What the case list shows, read from the query string; unknown values are ignored."""

    centre: int | None = None  # a global admin's choice
    state: str | None = None
    category: str | None = None
    channel: str | None = None
    organization: int | None = None
    mediator: int | None = None
    risk: str | None = None
    registered_from: date | None = None
    registered_to: date | None = None
    q: str = ""
    queue: str | None = None
    ledger_import: int | None = None  # the cases an import from the upload page created
    sort: str = "newest"
    # Dates given that are none (9999-12-31, 2026-02-30), by field: the page says so beside
    # the field, as typed, and the list is not filtered by them.
    bad_dates: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_args(cls, args) -> "CaseFilter":
        bad_dates = {
            name: args.get(name, "")[:40]
            for name in ("registered_from", "registered_to")
            if args.get(name) and _date(args, name) is None
        }
        return cls(
            centre=_int(args, "centre"),
            state=_text(args, "state", [s.value for s in State]),
            category=_text(args, "category", CATEGORIES),
            channel=_text(args, "channel", CHANNELS),
            organization=_int(args, "organization"),
            mediator=_int(args, "mediator"),
            risk=_text(args, "risk", RISK_LEVELS),
            registered_from=_date(args, "registered_from"),
            registered_to=_date(args, "registered_to"),
            q=unicodedata.normalize("NFKC", args.get("q") or "").strip()[:100],
            queue=_text(args, "queue", QUEUES),
            ledger_import=_int(args, "ledger_import"),
            sort=_text(args, "sort", SORTS) or "newest",
            bad_dates=bad_dates,
        )

    def as_args(self, **changes) -> dict[str, str]:
        """The query-string form, for links that keep the filter (empty values left out)."""
        values = replace(self, **changes)
        args = {}
        for item in fields(values):
            if item.name == "bad_dates":
                continue
            value = getattr(values, item.name)
            if value not in (None, "") and not (item.name == "sort" and value == "newest"):
                args[item.name] = value.isoformat() if isinstance(value, date) else str(value)
        return args

    @property
    def is_empty(self) -> bool:
        return not self.as_args(sort="newest")


# --- the list's statement: built once per shape, every value a parameter ------------------


@dataclass(frozen=True)
class ListShape:
    """Everything a page of the list's statement depends on, but the values (the viewer's
    centre and login, the filter's values, the cursor), which are its parameters."""

    engine: str
    scope: tuple[bool, bool, bool]  # access.CaseScope.shape
    centre: bool  # a global administrator chose a centre
    equal: tuple[str, ...]  # the filters set that a column must equal (_EQUAL)
    registered_from: bool
    registered_to: bool
    search: str | None  # how `q` is looked for (search.Search.kind)
    search_in_order: bool  # test each case in list order (search.finds_many), SQLite
    queue: str | None
    sort: str
    cursor: str | None  # "value", "no_deadline" (deadline sort, past the dated cases), None
    forward: bool
    size: int


# Filters a case's column must equal, by the filter's name.
_EQUAL = {
    "state": Case.state,
    "category": Case.category_code,
    "channel": Case.channel_code,
    "organization": Case.organization_id,
    "mediator": Case.mediator_id,
    "risk": Case.risk_level,
    "ledger_import": Case.ledger_import_id,
}


def _local_today(centre_id: int | None) -> date:
    centre = db.session.get(Centre, centre_id) if centre_id is not None else None
    if centre is not None:
        return local_today(centre)
    return clock.now().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _start_of(day: date, centre_id: int | None) -> datetime:
    """Midnight at the start of a local date, as an aware datetime."""
    centre = db.session.get(Centre, centre_id) if centre_id is not None else None
    zone = ZoneInfo(centre.timezone if centre else current_app.config["TIMEZONE"])
    return datetime.combine(day, time.min, tzinfo=zone)


def _queue_parts(queue: str) -> tuple[list, list]:
    """One dashboard queue (SPEC 3.3): the values its cases' state (and risk level) may take,
    as (column, values) pairs, and the other conditions they meet, with the dates they
    depend on as parameters (`queue_dates`)."""
    if queue == "triage":
        return [(Case.state, [State.REGISTERED.value])], []
    if queue == "deadline":
        states = [s.value for s in IN_MEDIATION]
        until = bindparam("until", type_=Case.deadline_on.type)
        return [(Case.state, states)], [Case.deadline_on.is_not(None), Case.deadline_on <= until]
    if queue == "high_risk":
        states = [s.value for s in OPEN_STATES]
        return [(Case.state, states), (Case.risk_level, list(HIGH_RISKS))], []
    if queue == "concluded":
        return [], [Case.concluded_at >= bindparam("since", type_=Case.concluded_at.type)]
    raise ValueError(f"unknown queue {queue!r}")


def queue_dates(centre_id: int | None) -> dict:
    """The parameters of the queues' conditions: the deadline queue looks `warning_days`
    ahead of the centre's today, the concluded queue RECENT_DAYS back."""
    ahead = warning_days(centre_id) if centre_id is not None else 5
    return {
        "until": _local_today(centre_id) + timedelta(days=ahead),
        "since": clock.now() - timedelta(days=RECENT_DAYS),
    }


def _one_of(column, values: list):
    return column == values[0] if len(values) == 1 else column.in_(values)


def queue_condition(queue: str):
    """The cases of one dashboard queue, as a condition the list can use too (its dates are
    the parameters `queue_dates` gives)."""
    choices, conditions = _queue_parts(queue)
    return and_(*(_one_of(column, values) for column, values in choices), *conditions)


def _conditions(shape: ListShape) -> list:
    conditions = scope_conditions(shape.scope)
    if shape.centre:
        conditions.append(Case.centre_id == bindparam("centre"))
    conditions += [_EQUAL[name] == bindparam(name) for name in shape.equal]
    # Local dates become a range of registered_at, which the list's indexes already hold.
    if shape.registered_from:
        conditions.append(Case.registered_at >= bindparam("registered_from", type_=_MOMENT))
    if shape.registered_to:
        conditions.append(Case.registered_at < bindparam("registered_to", type_=_MOMENT))
    if shape.queue:
        conditions.append(queue_condition(shape.queue))
    if shape.sort == "deadline" and "state" not in shape.equal and shape.queue is None:
        # Only cases in mediation have a running deadline; sorting those stays bounded by the
        # open caseload instead of the whole centre.
        conditions.append(Case.state.in_([s.value for s in IN_MEDIATION]))
    if shape.cursor:
        conditions.append(_seek(shape.sort, shape.cursor, shape.forward))
    if shape.search:
        if shape.engine == "sqlite" and not shape.search_in_order:
            conditions = [_likely(condition) for condition in conditions]
        in_order = shape.search_in_order
        conditions.append(search_condition(shape.search, shape.engine, in_order=in_order))
    return conditions


def _likely(condition):
    """A condition SQLite is told holds for most cases (its likelihood()), so that it reads
    a search's cases from the ids the search found. Without statistics (no ANALYZE) SQLite
    takes `centre_id = ?` for a handful of rows, and would rather walk the centre's cases in
    list order, testing each against what was found, than sort the few found."""
    return func.likelihood(condition, literal_column("0.9"), type_=Boolean)


_MOMENT = Case.registered_at.type


# --- keyset pages ---------------------------------------------------------------------------


@dataclass(slots=True)
class CaseRow:
    """What a row of a list or a queue shows of a case, read as plain columns."""

    id: int
    number: str
    centre_id: int
    centre_name: str
    timezone: str
    state: str
    risk_level: str
    category_code: str
    registered_at: datetime
    registered_on: date
    deadline_on: date | None
    triage_due_on: date | None
    concluded_on: date | None
    organization_name: str | None
    mediator_name: str | None
    applicants: list[str] = field(default_factory=list)  # names, in the parties' order
    respondents: list[str] = field(default_factory=list)


_ROW_COLUMNS = (
    Case.id,
    Case.number,
    Case.centre_id,
    Centre.name,
    Centre.timezone,
    Case.state,
    Case.risk_level,
    Case.category_code,
    Case.registered_at,
    Case.registered_on,
    Case.deadline_on,
    Case.triage_due_on,
    Case.concluded_on,
    Organization.name,
    Mediator.name,
)


def _row_select() -> Select:
    # Outer joins only: the case stays the outer loop, read in its index's order.
    return (
        select(*_ROW_COLUMNS)
        .select_from(Case)
        .outerjoin(Centre, Centre.id == Case.centre_id)
        .outerjoin(Organization, Organization.id == Case.organization_id)
        .outerjoin(Mediator, Mediator.id == Case.mediator_id)
    )


@cache
def _party_names_statement() -> Select:
    return (
        select(Party.case_id, Party.role, Party.name)
        .where(Party.case_id.in_(bindparam("ids", expanding=True)))
        .order_by(Party.case_id, Party.position)
    )


def _case_rows(query: Select, params: dict | None = None) -> list[CaseRow]:
    """The rows of `query` (built on `_row_select`), with their parties' names from one more
    query."""
    rows = [CaseRow(*row) for row in read(query, params).all()]
    if rows:
        by_id = {row.id: row for row in rows}
        parties = read(_party_names_statement(), {"ids": list(by_id)}).all()
        for case_id, role, name in parties:
            row = by_id[case_id]
            if role == "applicant":
                row.applicants.append(name)
            elif role == "respondent":
                row.respondents.append(name)
    return rows


@dataclass
class Page:
    cases: list[CaseRow]
    next_cursor: str | None
    previous_cursor: str | None
    found: int | None = None  # how many cases a search finds, up to COUNT_CAP + 1


def _cursor_of(case: CaseRow, sort: str) -> str:
    if sort == "deadline":
        key = case.deadline_on.isoformat() if case.deadline_on else "-"
    else:
        key = case.registered_at.isoformat()
    return f"{key}_{case.id}"


def _parse_cursor(cursor: str | None, sort: str):
    """(key, id) from a cursor, or None when it is missing or malformed."""
    if not cursor or "_" not in cursor:
        return None
    key, _sep, case_id = cursor.rpartition("_")
    try:
        if sort != "deadline":
            return moment(key), record_id(case_id)
        return (None if key == "-" else business_date(key)), record_id(case_id)
    except ValueError:
        return None


def _seek(sort: str, cursor: str, forward: bool):
    """The condition for rows after (forward) or before the cursor (`:cursor_key`,
    `:cursor_id`) in the sort order; `cursor` is "no_deadline" past the dated cases."""
    case_id = bindparam("cursor_id", type_=Case.id.type)
    if sort != "deadline":
        later = sort == "oldest"
        key = tuple_(Case.registered_at, Case.id)
        value = tuple_(bindparam("cursor_key", type_=_MOMENT), case_id)
        return key > value if later == forward else key < value
    # Deadline soonest, cases without a deadline last.
    key = tuple_(Case.deadline_on, Case.id)
    value = tuple_(bindparam("cursor_key", type_=Case.deadline_on.type), case_id)
    no_deadline = Case.deadline_on.is_(None)
    if forward:
        if cursor == "no_deadline":
            return and_(no_deadline, Case.id > case_id)
        return or_(key > value, no_deadline)
    if cursor == "no_deadline":
        return or_(Case.deadline_on.is_not(None), and_(no_deadline, Case.id < case_id))
    return and_(Case.deadline_on.is_not(None), key < value)


def _order(sort: str, forward: bool) -> list:
    if sort == "deadline":
        if forward:
            return [Case.deadline_on.asc().nulls_last(), Case.id.asc()]
        return [Case.deadline_on.desc().nulls_first(), Case.id.desc()]
    ascending = (sort == "oldest") == forward
    if ascending:
        return [Case.registered_at.asc(), Case.id.asc()]
    return [Case.registered_at.desc(), Case.id.desc()]


@lru_cache(maxsize=512)
def _page_statement(shape: ListShape) -> Select:
    """The statement of a page of the list for every request of the same shape."""
    order = _order(shape.sort, shape.forward)
    return _row_select().where(*_conditions(shape)).order_by(*order).limit(shape.size + 1)


@lru_cache(maxsize=256)
def _count_statement(shape: ListShape, cap: int) -> Select:
    """How many cases the list's filter finds, up to `cap` + 1, for a shape of a first page
    (the count does not depend on the place)."""
    return _count_up_to(select(Case.id).where(*_conditions(shape)), cap)


def list_query(user: User, filters: CaseFilter, cursor, forward: bool, size: int):
    """The list's statement for this user, filter and place, and its parameters."""
    shape, params = _shape_and_params(user, filters, cursor, forward, size)
    return _page_statement(shape), params


def _shape_and_params(user: User, filters: CaseFilter, cursor, forward: bool, size: int):
    scope = scope_of(user)
    centre_id = user.centre_id
    if user.sees_several_centres and filters.centre is not None:
        centre_id = filters.centre
    equal = {name: getattr(filters, name) for name in _EQUAL if getattr(filters, name)}
    search = read_search(filters.q)
    engine = db.session.get_bind().dialect.name
    shape = ListShape(
        engine=engine,
        scope=scope.shape,
        centre=user.sees_several_centres and filters.centre is not None,
        equal=tuple(equal),
        registered_from=filters.registered_from is not None,
        registered_to=filters.registered_to is not None,
        search=search.kind if search else None,
        search_in_order=engine == "sqlite" and search is not None and finds_many(search),
        queue=filters.queue,
        sort=filters.sort,
        cursor=None if cursor is None else ("value" if cursor[0] is not None else "no_deadline"),
        forward=forward,
        size=size,
    )
    params = {**scope.params, "centre": filters.centre, **equal}
    if filters.registered_from:
        params["registered_from"] = _start_of(filters.registered_from, centre_id)
    if filters.registered_to:
        next_day = filters.registered_to + timedelta(days=1)
        params["registered_to"] = _start_of(next_day, centre_id)
    if search:
        params |= search.params
    if filters.queue:
        params |= queue_dates(centre_id)
    if cursor is not None:
        params |= {"cursor_key": cursor[0], "cursor_id": cursor[1]}
    return shape, params


def case_page(
    user: User,
    filters: CaseFilter,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of the list: the first, the one after `after`, or the one before `before`."""
    sort = filters.sort
    cursor, forward = _parse_cursor(after, sort), True
    if cursor is None and before:
        cursor = _parse_cursor(before, sort)
        forward = cursor is None
    shape, params = _shape_and_params(user, filters, cursor, forward, size)
    cases = _case_rows(_page_statement(shape), params)
    found = None
    if shape.search:
        first = replace(shape, cursor=None, forward=True, size=0)
        found = read(_count_statement(first, COUNT_CAP), params).scalar_one()
    more = len(cases) > size
    cases = cases[:size]
    if not forward:
        cases.reverse()
    has_next = more if forward else cursor is not None
    has_previous = (cursor is not None) if forward else more
    return Page(
        cases=cases,
        next_cursor=_cursor_of(cases[-1], sort) if cases and has_next else None,
        previous_cursor=_cursor_of(cases[0], sort) if cases and has_previous else None,
        found=found,
    )


def created_cases(ledger_import_id: int, limit: int) -> list:
    """The first cases (id, number) an import created, in registration order."""
    return read(
        select(Case.id, Case.number)
        .where(Case.ledger_import_id == ledger_import_id)
        .order_by(Case.registered_at, Case.id)
        .limit(limit)
    ).all()


def cases_by_ids(user: User, ids: Iterable[int]) -> list[Case]:
    """The user's cases among `ids`, in registration order, with what a row shows of them;
    ids they may not see are left out, so the caller can tell a forged selection by the
    count."""
    ids = sorted(set(ids))
    if not ids:
        return []
    scope = scope_of(user)
    query = (
        select(Case)
        .where(Case.id.in_(ids), *scope_conditions(scope.shape))
        .order_by(Case.registered_at, Case.id)
        .options(
            selectinload(Case.parties),
            joinedload(Case.organization),
            joinedload(Case.mediator),
            joinedload(Case.centre),
        )
    )
    return list(db.session.scalars(query, scope.params).unique())


# --- queues and dashboards ------------------------------------------------------------------


def _seeks(choices: list) -> list[list]:
    """(column, values) pairs as one equality per column for every combination of the values:
    each combination is one range of an index that starts with those columns."""
    columns = [column for column, _values in choices]
    combinations = itertools.product(*(values for _column, values in choices))
    return [
        [column == value for column, value in zip(columns, values, strict=True)]
        for values in combinations
    ]


def _union_all(queries: list[Select]):
    """The rows of every query, each keeping its own ORDER BY and LIMIT (SQLite takes those
    on a compound's members only inside a subquery)."""
    if len(queries) == 1:
        return queries[0]
    return union_all(*(select(query.subquery()) for query in queries))


def _matching(conditions: list, seeks: list[list]):
    ranges = [select(Case.id).where(*conditions, *seek) for seek in seeks]
    return ranges[0] if len(ranges) == 1 else union_all(*ranges)


def _count_up_to(matching, cap: int) -> Select:
    """How many rows match, counting at most cap + 1 of them (a page shows "1000+")."""
    return select(func.count()).select_from(matching.limit(_fixed(cap + 1)).subquery())


def _first_ids_statement(
    conditions: list, seeks: list[list], order, size: int, numbered: bool = False
) -> Select:
    """The ids of the first `size` cases in `order` (and, `numbered`, their positions): the
    first `size` of each seek (an index range already in that order, read with the columns it
    is sorted on), merged and cut again. The merge sorts those rows themselves: joined back to
    the table instead, PostgreSQL's generic plan for the statement read a whole index."""
    sorts = [(term.element, True) if _descending(term) else (term, False) for term in order]
    columns = [Case.id.label("id")] + [
        column.label(f"sort_{i}") for i, (column, _desc) in enumerate(sorts)
    ]
    firsts = [
        select(*columns).where(*conditions, *seek).order_by(*order).limit(_fixed(size))
        for seek in seeks
    ]
    merged = _union_all(firsts).subquery()
    merged_order = [
        merged.c[f"sort_{i}"].desc() if descending else merged.c[f"sort_{i}"]
        for i, (_column, descending) in enumerate(sorts)
    ]
    statement = select(merged.c.id)
    if numbered:
        statement = statement.add_columns(func.row_number().over(order_by=merged_order))
    return statement.order_by(*merged_order).limit(_fixed(size))


def _fixed(limit: int):
    """A LIMIT written into the statement, not passed as a parameter, so that PostgreSQL can
    plan the prepared statement once for every run (a generic plan)."""
    return literal_column(str(int(limit)))


def _descending(term) -> bool:
    """Whether a sort term of _first_ids_statement is `column.desc()` (else a bare column)."""
    if not isinstance(term, UnaryExpression):
        return False
    if term.modifier is not operators.desc_op:
        raise ValueError(f"a queue sorts on columns or column.desc() only, not {term}")
    return True


@cache
def _rows_by_id_statement() -> Select:
    return _row_select().where(Case.id.in_(bindparam("ids", expanding=True)))


def _rows_by_id(ids: Iterable[int]) -> dict[int, CaseRow]:
    """The rows of cases, in one load however many lists they fill."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    return {row.id: row for row in _case_rows(_rows_by_id_statement(), {"ids": ids})}


def _first_cases(conditions: list, seeks: list[list], order, size: int) -> list[CaseRow]:
    ids = list(read(_first_ids_statement(conditions, seeks, order, size)).scalars())
    cases = _rows_by_id(ids)
    return [cases[case_id] for case_id in ids]


# Each queue's order is the tail of an index whose head is centre, state (and risk level):
# ix_case_centre_triage_due, ix_case_centre_deadline, ix_case_centre_state_risk,
# ix_case_centre_concluded.
_QUEUE_ORDER = {
    "triage": (Case.triage_due_on, Case.id),
    "deadline": (Case.deadline_on, Case.id),
    # Newest first by id.
    "high_risk": (Case.id.desc(),),
    "concluded": (Case.concluded_at.desc(), Case.id.desc()),
}
QUEUE_SORT = {"triage": "oldest", "deadline": "deadline", "high_risk": "newest"}


@dataclass
class Queue:
    name: str
    count: int
    cases: list[CaseRow]


@cache
def _queue_statement(size: int, cap: int):
    """Every queue's count up to `cap` + 1, a row (queue, None, count) each, and every
    queue's first `size` ids, a row (queue, id, position) each, in one statement with the
    centre and the dates as parameters (one round trip)."""
    rows = []
    for name in QUEUES:
        choices, conditions = _queue_parts(name)
        conditions = [Case.centre_id == bindparam("centre"), *conditions]
        seeks = _seeks(choices)
        count = _count_up_to(_matching(conditions, seeks), cap).scalar_subquery()
        rows.append(select(literal(name), null(), count))
        ids = _first_ids_statement(conditions, seeks, _QUEUE_ORDER[name], size, numbered=True)
        ids = ids.subquery()
        rows.append(select(literal(name), *ids.c))
    return union_all(*rows)


def staff_queues(centre_id: int, size: int = QUEUE_SIZE) -> list[Queue]:
    """Each queue's first cases and capped count, each state (and risk level) read as its
    own index range (`state IN (...)` would sort or filter every open case of the centre);
    the cases of all queues are loaded together."""
    params = {"centre": centre_id, **queue_dates(centre_id)}
    counts: dict[str, int] = {}
    ids: dict[str, list[tuple[int, int]]] = {name: [] for name in QUEUES}
    for name, case_id, number in read(_queue_statement(size, COUNT_CAP), params).all():
        if case_id is None:
            counts[name] = number
        else:
            ids[name].append((number, case_id))
    cases = _rows_by_id(case_id for found in ids.values() for _position, case_id in found)
    return [
        Queue(name, counts[name], [cases[case_id] for _position, case_id in sorted(ids[name])])
        for name in QUEUES
    ]


def mediator_state_counts(mediator: Mediator) -> dict[str, int]:
    rows = db.session.execute(
        select(Case.state, func.count()).where(Case.mediator_id == mediator.id).group_by(Case.state)
    )
    return dict(rows.tuples().all())


def upcoming_sessions(mediator: Mediator, limit: int = 20) -> list[MediationSession]:
    """Sessions from now on for the mediator's cases, soonest first, each with its case.

    Walks the coming sessions in time order (ix_mediation_session_held_at) and keeps the
    mediator's: `mediator_id + 0` keeps the planner from starting at the mediator's whole
    caseload, which grows with every year of cases while the coming sessions do not.
    """
    rows = db.session.execute(
        select(MediationSession, Case)
        .join(Case, Case.id == MediationSession.case_id)
        .where(Case.mediator_id + 0 == mediator.id, MediationSession.held_at >= clock.now())
        .order_by(MediationSession.held_at, MediationSession.id)
        .limit(limit)
    )
    return list(rows.tuples().all())


def mediator_deadlines(mediator: Mediator, limit: int = 100) -> list[CaseRow]:
    """The mediator's cases in mediation, soonest deadline first (ix_case_mediator_state_deadline,
    one range per state)."""
    seeks = _seeks([(Case.state, [s.value for s in IN_MEDIATION])])
    order = (Case.deadline_on, Case.id)
    return _first_cases([Case.mediator_id == mediator.id], seeks, order, limit)


# --- export ---------------------------------------------------------------------------------


def _names(parties: list[Party]) -> str:
    return "、".join(party.name for party in parties)


def export_header() -> list[str]:
    return [
        _("Case number"),
        _("Centre"),
        _("Registered on"),
        _("State"),
        _("Category"),
        _("Channel"),
        _("Applicants"),
        _("Respondents"),
        _("Organisation"),
        _("Mediator"),
        _("Deadline"),
        _("Risk"),
    ]


def export_rows(cases: Iterable[Case]) -> list[list[str]]:
    """The case list as plain rows (header first) for CSV: no ID numbers, no phones."""
    rows = [export_header()]
    for case in cases:
        rows.append(
            [
                case.number,
                case.centre.name,
                case.registered_on.isoformat(),
                str(STATE_LABELS[case.state_enum]),
                str(CATEGORIES.get(case.category_code, case.category_code)),
                str(CHANNELS.get(case.channel_code, case.channel_code)),
                _names(case.applicants),
                _names(case.respondents),
                case.organization.name if case.organization else "",
                case.mediator.name if case.mediator else "",
                case.deadline_on.isoformat() if case.deadline_on else "",
                str(RISK_LEVELS.get(case.risk_level, case.risk_level)),
            ]
        )
    return rows
