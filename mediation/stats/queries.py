"""The monthly statistics of SPEC 4, computed in SQL.

Each figure is counted per centre (a month's boundaries are local to each centre's time zone)
with one GROUP BY query per table, and the counts are added up for "all centres"; rates are
then taken from the summed numerators and denominators, never averaged.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, or_, select

from mediation import clock
from mediation.applications import queries as applications
from mediation.cases.models import Agreement, Case, FollowUp
from mediation.cases.states import MEDIATED_TRANSFER_REASONS, TRANSFER_REASONS
from mediation.directory.models import Centre, Mediator, Organization
from mediation.extensions import db
from mediation.integrity.models import IntegrityRecord, Obligation
from mediation.web.params import FIRST_YEAR, LAST_YEAR

SUMMARY_KEYS = (
    "received",
    "concluded",
    "agreed",
    "transferred",
    "withdrawn",
    "success_rate",
    "avg_days",
    "on_time_rate",
    "judicial_confirmations",
    "obligations_due",
    "fulfilled_on_time",
    "performance_rate",
    "certificates_issued",
    "amount_in_dispute",
    "amount_agreed",
    "pending_end",
    "high_risk_received",
    "routed",
    "satisfaction_rate",
    "applications_received",
    "applications_accepted",
)
COMPARED_KEYS = ("received", "concluded", "agreed", "success_rate")
MONTH_PATTERN = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
# Local dates lie within a day of their UTC instant: this margin lets a range on the indexed
# UTC column narrow the rows before the exact test on the stored local date.
MARGIN = timedelta(days=2)


def parse_month(month: str) -> tuple[date, date]:
    """The first and last day of "YYYY-MM"; ValueError for anything else."""
    match = MONTH_PATTERN.match(month or "")
    if not match or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise ValueError(month)
    first = date(int(match.group(1)), int(match.group(2)), 1)
    return first, shift_month(first, 1) - timedelta(days=1)


def shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(first: date) -> str:
    return f"{first.year:04d}-{first.month:02d}"


def rate(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    value = (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    return float(value)


def mean_days(total_days: int, count: int) -> float | None:
    if not count:
        return None
    return float((Decimal(total_days) / Decimal(count)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def money(value) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01"), ROUND_HALF_UP))


class _Period:
    """One centre's month: local dates and the UTC instants of its local midnights."""

    def __init__(self, centre: Centre, first: date, last: date, sole_centre: bool = False):
        zone = ZoneInfo(centre.timezone or "Asia/Shanghai")
        self.centre_id, self.first, self.last = centre.id, first, last
        self.sole_centre = sole_centre  # the database holds no other centre
        self.start = datetime.combine(first, time(), zone).astimezone(UTC)
        self.end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)

    def received_in(self):
        """The cases the centre received in the month: registered there, or moved (移送)
        to it from another centre, on the date they came (a case moved away counts for the
        centre it went to, from the move's date, and no longer for the one it left)."""
        return and_(
            Case.centre_id == self.centre_id,
            Case.received_at >= self.start - MARGIN,
            Case.received_at < self.end + MARGIN,
            Case.received_on.between(self.first, self.last),
        )

    def concluded_in(self):
        return and_(
            Case.centre_id == self.centre_id,
            Case.concluded_at >= self.start - MARGIN,
            Case.concluded_at < self.end + MARGIN,
            Case.concluded_on.between(self.first, self.last),
        )

    def routed_in(self):
        return and_(
            Case.centre_id == self.centre_id,
            Case.routed_at >= self.start,
            Case.routed_at < self.end,
        )


def _days():
    """Whole days from registration to conclusion, in the engine's own date arithmetic (a
    moved case's from its first registration: the parties' wait, wherever it was spent)."""
    if db.session.get_bind().dialect.name == "sqlite":
        return func.julianday(Case.concluded_on) - func.julianday(Case.registered_on)
    return Case.concluded_on - Case.registered_on


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _mediated():
    return or_(
        Case.outcome == "agreed",
        and_(
            Case.outcome == "transferred",
            Case.transfer_reason.in_(MEDIATED_TRANSFER_REASONS),
        ),
    )


def _conclusion_columns():
    return (
        func.count(),
        _count_if(Case.outcome == "agreed"),
        _count_if(_mediated()),
        func.coalesce(func.sum(_days()), 0),
    )


class _Month:
    """A month's cases grouped finely, one query per kind of date (received, concluded,
    routed) per centre: every figure and breakdown is then summed from these groups, so each
    of the month's rows is read once, not once per breakdown."""

    CONCLUDED_KEYS = (
        Case.outcome,
        Case.transfer_reason,
        Case.category_code,
        Case.channel_code,
        Case.concluded_organization_id,
        Case.concluded_mediator_id,
    )

    def __init__(self, periods: list[_Period], detailed: bool = True):
        """`detailed=False`: only what a comparison shows (received, concluded, agreed,
        success rate), grouped no finer than that needs."""
        self.received, self.concluded, self.routed = [], [], []
        if not detailed:
            for period in periods:
                self._totals(period)
            return
        for period in periods:
            self.received += db.session.execute(
                select(
                    Case.category_code,
                    Case.channel_code,
                    func.count(),
                    func.sum(Case.amount),
                    _count_if(Case.risk_level.in_(("high", "critical"))),
                )
                .where(period.received_in())
                .group_by(Case.category_code, Case.channel_code)
            ).all()
            self.concluded += db.session.execute(
                select(
                    *self.CONCLUDED_KEYS,
                    func.count(),
                    _count_if(_mediated()),
                    _count_if(and_(_mediated(), Case.concluded_on <= Case.deadline_on)),
                    func.coalesce(func.sum(_days()), 0),
                )
                .where(period.concluded_in())
                .group_by(*self.CONCLUDED_KEYS)
            ).all()
            self.routed += db.session.execute(
                select(Case.organization_id, Case.mediator_id, func.count())
                .where(period.routed_in())
                .group_by(Case.organization_id, Case.mediator_id)
            ).all()

    def _totals(self, period: _Period) -> None:
        """The same rows as the detailed groups, with the keys a comparison needs no more
        than None: one group per outcome and reason."""
        received = db.session.scalar(select(func.count()).where(period.received_in()))
        self.received.append((None, None, received, 0, 0))
        for outcome, reason, count, mediated in db.session.execute(
            select(Case.outcome, Case.transfer_reason, func.count(), _count_if(_mediated()))
            .where(period.concluded_in())
            .group_by(Case.outcome, Case.transfer_reason)
        ):
            self.concluded.append((outcome, reason, None, None, None, None, count, mediated, 0, 0))

    def count(self, counts: Counter) -> None:
        for _category, _channel, count, amount, high_risk in self.received:
            counts["received"] += count
            counts["amount_in_dispute"] += Decimal(str(amount or 0))
            counts["high_risk_received"] += high_risk
        for outcome, reason, *_keys, count, mediated, on_time, days in self.concluded:
            counts["concluded"] += count
            counts[outcome] += count
            counts["mediated"] += mediated
            counts["on_time"] += on_time
            counts["days"] += round(days)
            if outcome == "transferred":
                counts[f"reason:{reason}"] += count
        counts["routed"] += sum(count for *_keys, count in self.routed)

    def received_by(self, position: int) -> dict:
        """{category or channel (0 or 1): [received]}"""
        totals: dict = {}
        for row in self.received:
            totals.setdefault(row[position], [0])[0] += row[2]
        return totals

    def concluded_by(self, position: int) -> dict:
        """{key at `position` of CONCLUDED_KEYS: [count, agreed, mediated, days]}"""
        totals: dict = {}
        for row in self.concluded:
            key = row[position]
            if key is None:
                continue
            count, mediated, _on_time, days = row[6:]
            sums = totals.setdefault(key, [0, 0, 0, 0])
            sums[0] += count
            sums[1] += count if row[0] == "agreed" else 0
            sums[2] += mediated
            sums[3] += round(days)
        return totals

    def routed_by(self, position: int) -> dict:
        """{organisation or mediator (0 or 1): [assigned]}"""
        totals: dict = {}
        for row in self.routed:
            if row[position] is not None:
                totals.setdefault(row[position], [0])[0] += row[2]
        return totals


def _of_centre(centre_id: int):
    """The joined case is the centre's, written so that the planner starts from the month's
    rows of the other table (confirmed_on, due_on, visited_on are indexed) and looks up their
    cases instead of walking every case of the centre. SQLite keeps no statistics and takes
    that road only when the case's index is out of reach (`centre_id + 0`); PostgreSQL
    estimates well from its statistics, and the expression would mislead it."""
    if db.session.get_bind().dialect.name == "sqlite":
        return Case.centre_id + 0 == centre_id
    return Case.centre_id == centre_id


def _pending_at_end(period: _Period) -> int:
    """Cases received by the end of the month and not concluded by then (so a month's
    pending are the month before's, plus those received, less those concluded). Counted from the
    side of the month's end that holds fewer of the centre's cases: after a recent month,
    the cases still open and those concluded since; after an old one, those received by
    then less those concluded by then. Each way reads one index over its side only."""
    if _mostly_before(period):
        return _open_or_concluded_since(period)
    return _received_less_concluded(period)


def _mostly_before(period: _Period) -> bool:
    """Whether the month ends late enough in the centre's history (from its first case to
    now) that the cases after it are fewer than twice those before it, which the other way
    counts twice. A guess from the dates: either way gives the same figure."""
    first = db.session.scalar(
        select(func.min(Case.received_at)).where(Case.centre_id == period.centre_id)
    )
    if first is None:
        return False
    return clock.now() - period.end < 2 * (period.end - first)


def _open_or_concluded_since(period: _Period) -> int:
    """Received by the month's last day, and open or concluded after it, from the index of
    conclusion dates (which carries the date received)."""
    received_by_end = and_(Case.centre_id == period.centre_id, Case.received_on <= period.last)
    still_open = select(func.count()).where(received_by_end, Case.concluded_at.is_(None))
    concluded_since = select(func.count()).where(
        received_by_end,
        Case.concluded_at >= period.end - MARGIN,
        Case.concluded_on > period.last,
    )
    return db.session.scalar(
        select(still_open.scalar_subquery() + concluded_since.scalar_subquery())
    )


def _received_less_concluded(period: _Period) -> int:
    """Those received by then less those concluded by then (a case concludes after it came to
    its centre: only an open case can be moved). Each is counted on its index, and only the
    rows near the end are read for their local dates."""
    centre_id, last = period.centre_id, period.last
    surely_before = period.end - MARGIN

    def by_end(at, on) -> int:
        return db.session.scalar(
            select(func.count()).where(Case.centre_id == centre_id, at < surely_before)
        ) + db.session.scalar(
            select(func.count()).where(
                Case.centre_id == centre_id,
                at >= surely_before,
                at < period.end + MARGIN,
                on <= last,
            )
        )

    return by_end(Case.received_at, Case.received_on) - by_end(Case.concluded_at, Case.concluded_on)


def _of_the_centre(query: Select, model, period: _Period) -> Select:
    """`query` over `model` (a table with case_id) kept to the period's centre. In a database
    of one centre every row is that centre's, and the join to the case is left out."""
    if period.sole_centre:
        return query
    return query.join(Case, Case.id == model.case_id).where(_of_centre(period.centre_id))


def _obligations_due(period: _Period, last: date) -> tuple[int, int]:
    """Obligations due from the period's first day to `last`, and those met on time."""
    performed_on_time = and_(
        Obligation.fulfilled_on.is_not(None), Obligation.fulfilled_on <= Obligation.due_on
    )
    return db.session.execute(
        _of_the_centre(
            select(func.count(), _count_if(performed_on_time))
            .select_from(Obligation)
            .where(Obligation.due_on.between(period.first, last)),
            Obligation,
            period,
        )
    ).one()


def performance_so_far(month: str, centre: Centre | None, today: date) -> dict:
    """For a month not yet over, the voluntary performance rate over the obligations due up to
    `today` only: those due later this month cannot have been met on time yet."""
    first, last = parse_month(month)
    due = on_time = 0
    for period in _periods(_centres(centre), first):
        period_due, period_on_time = _obligations_due(period, min(today, last))
        due, on_time = due + period_due, on_time + period_on_time
    return {
        "obligations_due": due,
        "fulfilled_on_time": on_time,
        "performance_rate": rate(on_time, due),
    }


def _other_figures(period: _Period, counts: Counter) -> None:
    first, last, centre_id = period.first, period.last, period.centre_id
    counts["judicial_confirmations"] += db.session.scalar(
        _of_the_centre(
            select(func.count())
            .select_from(Agreement)
            .where(Agreement.confirmed_on.between(first, last)),
            Agreement,
            period,
        )
    )
    due, on_time = _obligations_due(period, last)
    counts["obligations_due"] += due
    counts["fulfilled_on_time"] += on_time
    counts["certificates_issued"] += db.session.scalar(
        select(func.count())
        .select_from(IntegrityRecord)
        .where(
            IntegrityRecord.centre_id == centre_id,
            IntegrityRecord.kind == "positive",
            IntegrityRecord.created_on.between(first, last),
        )
    )
    agreed_amount = db.session.scalar(
        select(func.sum(Obligation.amount))
        .join(Case, Case.id == Obligation.case_id)
        .where(period.concluded_in(), Case.outcome == "agreed")
    )
    counts["amount_agreed"] += Decimal(str(agreed_amount or 0))
    counts["pending_end"] += _pending_at_end(period)
    visits, satisfied = db.session.execute(
        _of_the_centre(
            select(func.count(), _count_if(FollowUp.is_satisfied.is_(True)))
            .select_from(FollowUp)
            .where(FollowUp.visited_on.between(first, last)),
            FollowUp,
            period,
        )
    ).one()
    counts["follow_ups"] += visits
    counts["satisfied"] += satisfied
    received, accepted = applications.month_counts(centre_id, first, last)
    counts["applications_received"] += received
    counts["applications_accepted"] += accepted


def _summary(counts: Counter) -> dict:
    return {
        "received": counts["received"],
        "concluded": counts["concluded"],
        "agreed": counts["agreed"],
        "transferred": counts["transferred"],
        "withdrawn": counts["withdrawn"],
        "success_rate": rate(counts["agreed"], counts["mediated"]),
        "avg_days": mean_days(counts["days"], counts["concluded"]),
        "on_time_rate": rate(counts["on_time"], counts["mediated"]),
        "judicial_confirmations": counts["judicial_confirmations"],
        "obligations_due": counts["obligations_due"],
        "fulfilled_on_time": counts["fulfilled_on_time"],
        "performance_rate": rate(counts["fulfilled_on_time"], counts["obligations_due"]),
        "certificates_issued": counts["certificates_issued"],
        "amount_in_dispute": money(counts["amount_in_dispute"]),
        "amount_agreed": money(counts["amount_agreed"]),
        "pending_end": counts["pending_end"],
        "high_risk_received": counts["high_risk_received"],
        "routed": counts["routed"],
        "satisfaction_rate": rate(counts["satisfied"], counts["follow_ups"]),
        "applications_received": counts["applications_received"],
        "applications_accepted": counts["applications_accepted"],
    }


def _by_code(month: _Month, position: int, name: str) -> list[dict]:
    received, concluded = month.received_by(position), month.concluded_by(position + 2)
    rows = []
    for code in sorted(set(received) | set(concluded)):
        count, agreed, mediated, _days_total = concluded.get(code, (0, 0, 0, 0))
        rows.append(
            {
                name: code,
                "received": received.get(code, (0,))[0],
                "concluded": count,
                "agreed": agreed,
                "success_rate": rate(agreed, mediated),
            }
        )
    return rows


def _handler_rows(assigned: dict, concluded: dict, names: dict) -> list[tuple]:
    rows = []
    for key in set(assigned) | set(concluded):
        count, agreed, mediated, days = concluded.get(key, (0, 0, 0, 0))
        figures = {
            "assigned": assigned.get(key, (0,))[0],
            "concluded": count,
            "agreed": agreed,
            "success_rate": rate(agreed, mediated),
            "avg_days": mean_days(days, count),
        }
        rows.append((names.get(key, ("", ""))[0], key, figures))
    return sorted(rows, key=lambda row: (row[0], row[1]))


def _by_organization(month: _Month) -> list[dict]:
    assigned, concluded = month.routed_by(0), month.concluded_by(4)
    ids = set(assigned) | set(concluded)
    names = {
        row.id: (row.name,)
        for row in db.session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(ids))
        )
    }
    return [
        {"organization": name, **figures}
        for name, _key, figures in _handler_rows(assigned, concluded, names)
    ]


def _by_mediator(month: _Month) -> list[dict]:
    assigned, concluded = month.routed_by(1), month.concluded_by(5)
    ids = set(assigned) | set(concluded)
    names = {
        row.id: (row.name, row.organization)
        for row in db.session.execute(
            select(Mediator.id, Mediator.name, Organization.name.label("organization"))
            .join(Organization, Organization.id == Mediator.organization_id)
            .where(Mediator.id.in_(ids))
        )
    }
    return [
        {"mediator": name, "organization": names.get(key, ("", ""))[1], **figures}
        for name, key, figures in _handler_rows(assigned, concluded, names)
    ]


def _centres(centre: Centre | None) -> list[Centre]:
    if centre is not None:
        return [centre]
    return list(db.session.scalars(select(Centre).order_by(Centre.id)))


def _periods(centres, first: date) -> list[_Period]:
    last = shift_month(first, 1) - timedelta(days=1)
    sole = db.session.scalar(select(func.count()).select_from(Centre)) == 1
    return [_Period(centre, first, last, sole_centre=sole) for centre in centres]


def _compared(centres, first: date) -> dict:
    counts: Counter = Counter()
    _Month(_periods(centres, first), detailed=False).count(counts)
    summary = _summary(counts)
    return {key: summary[key] for key in COMPARED_KEYS}


def month_stats(month: str, centre: Centre | None) -> dict:
    """SPEC 4's figures for `month` ("YYYY-MM") of one centre, or of all when None."""
    first, _last = parse_month(month)
    centres = _centres(centre)
    periods = _periods(centres, first)
    month_cases = _Month(periods)
    counts: Counter = Counter()
    month_cases.count(counts)
    for period in periods:
        _other_figures(period, counts)
    return {
        "month": month,
        "centre": centre.code if centre is not None else None,
        "summary": _summary(counts),
        "transferred_by_reason": {code: counts[f"reason:{code}"] for code in TRANSFER_REASONS},
        "by_category": _by_code(month_cases, 0, "category"),
        "by_channel": _by_code(month_cases, 1, "channel"),
        "by_organization": _by_organization(month_cases),
        "by_mediator": _by_mediator(month_cases),
        "previous_month": _compared(centres, shift_month(first, -1)),
        "same_month_last_year": _compared(centres, shift_month(first, -12)),
    }


def monthly_series(month: str, centre: Centre | None, months: int = 12) -> list[dict]:
    """Received and concluded per month for the `months` months ending with `month`, for the
    page's chart: two indexed counts per month and centre."""
    first, _ = parse_month(month)
    centres = _centres(centre)
    series = []
    for offset in range(months - 1, -1, -1):
        start = shift_month(first, -offset)
        end = shift_month(start, 1) - timedelta(days=1)
        received = concluded = 0
        for period in (_Period(c, start, end) for c in centres):
            received += db.session.scalar(select(func.count()).where(period.received_in()))
            concluded += db.session.scalar(select(func.count()).where(period.concluded_in()))
        series.append({"month": month_key(start), "received": received, "concluded": concluded})
    return series
