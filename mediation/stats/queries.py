"""The monthly statistics of SPEC 4 and the regions of SPEC 10, computed in SQL.

Each figure is counted per centre: every query groups by the centre, over all the centres in
scope that share a time zone (a month's boundaries are local to each centre), so a region of
many centres costs the queries of one. A centre's, a region's or all centres' figures are
then the per-centre counts added up, and rates are taken from the summed numerators and
denominators, never averaged.
"""

import re
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select, text, union_all

from mediation import clock
from mediation.applications import queries as applications
from mediation.cases.models import Agreement, Case, FollowUp
from mediation.cases.states import MEDIATED_TRANSFER_REASONS, TRANSFER_REASONS
from mediation.directory.centres import by_time_zone, region_centres
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
# PostgreSQL's memory for grouping a month's cases: see _planned_for_months.
GROUPING_MEMORY = "64MB"


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
    """A month of centres in one time zone: local dates and the UTC instants of their local
    midnights."""

    def __init__(self, centres: list[Centre], first: date, last: date):
        zone = ZoneInfo(centres[0].timezone)
        self.centre_ids = [centre.id for centre in centres]
        self.first, self.last = first, last
        self.start = datetime.combine(first, time(), zone).astimezone(UTC)
        self.end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)

    def of_centres(self, column=Case.centre_id):
        ids = self.centre_ids
        return column == ids[0] if len(ids) == 1 else column.in_(ids)

    def received_in(self):
        """The cases the centres received in the month: registered there, or moved (移送)
        to one from another centre, on the date they came (a case moved away counts for the
        centre it went to, from the move's date, and no longer for the one it left)."""
        return and_(
            self.of_centres(),
            Case.received_at >= self.start - MARGIN,
            Case.received_at < self.end + MARGIN,
            Case.received_on.between(self.first, self.last),
        )

    def concluded_in(self):
        return and_(
            self.of_centres(),
            Case.concluded_at >= self.start - MARGIN,
            Case.concluded_at < self.end + MARGIN,
            Case.concluded_on.between(self.first, self.last),
        )

    def routed_in(self):
        return and_(
            self.of_centres(),
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


def _is_mediated(outcome: str | None, reason: str | None) -> bool:
    """Whether a conclusion counts in the success rate's denominator: an agreement, or a
    transfer after mediation was tried. Decided from a group's keys, not row by row in SQL."""
    return outcome == "agreed" or (outcome == "transferred" and reason in MEDIATED_TRANSFER_REASONS)


class _Month:
    """A month's cases grouped finely, by centre first, one query per kind of date
    (received, concluded, routed) per time zone: every figure and breakdown is then summed
    from these groups, so each of the month's rows is read once, not once per breakdown."""

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
                    Case.centre_id,
                    Case.category_code,
                    Case.channel_code,
                    func.count(),
                    func.sum(Case.amount),
                    _count_if(Case.risk_level.in_(("high", "critical"))),
                )
                .where(period.received_in())
                .group_by(Case.centre_id, Case.category_code, Case.channel_code)
            ).all()
            concluded = db.session.execute(
                select(
                    Case.centre_id,
                    *self.CONCLUDED_KEYS,
                    func.count(),
                    func.count().filter(Case.concluded_on <= Case.deadline_on),
                    func.coalesce(func.sum(_days()), 0),
                    func.sum(Case.agreed_amount),
                )
                .where(period.concluded_in())
                .group_by(Case.centre_id, *self.CONCLUDED_KEYS)
            )
            self.concluded += [_concluded_group(row[:7], *row[7:]) for row in concluded]
            self.routed += db.session.execute(
                select(Case.centre_id, Case.organization_id, Case.mediator_id, func.count())
                .where(period.routed_in())
                .group_by(Case.centre_id, Case.organization_id, Case.mediator_id)
            ).all()

    def _totals(self, period: _Period) -> None:
        """The same rows as the detailed groups, with the keys a comparison needs no more
        than None: one group per outcome and reason."""
        for centre_id, received in db.session.execute(
            select(Case.centre_id, func.count())
            .where(period.received_in())
            .group_by(Case.centre_id)
        ):
            self.received.append((centre_id, None, None, received, 0, 0))
        for centre_id, outcome, reason, count in db.session.execute(
            select(Case.centre_id, Case.outcome, Case.transfer_reason, func.count())
            .where(period.concluded_in())
            .group_by(Case.centre_id, Case.outcome, Case.transfer_reason)
        ):
            keys = (centre_id, outcome, reason, None, None, None, None)
            self.concluded.append(_concluded_group(keys, count))

    def count(self, counts: dict[int, Counter]) -> None:
        """Add the month's figures to each centre's counts."""
        for centre_id, _category, _channel, count, amount, high_risk in self.received:
            centre = counts[centre_id]
            centre["received"] += count
            centre["amount_in_dispute"] += Decimal(str(amount or 0))
            centre["high_risk_received"] += high_risk
        for row in self.concluded:
            centre_id, outcome, reason = row[:3]
            count, mediated, on_time, days, agreed_amount = row[7:]
            centre = counts[centre_id]
            centre["concluded"] += count
            centre[outcome] += count
            centre["mediated"] += mediated
            centre["on_time"] += on_time
            centre["days"] += round(days)
            if outcome == "agreed":
                centre["amount_agreed"] += Decimal(str(agreed_amount or 0))
            if outcome == "transferred":
                centre[f"reason:{reason}"] += count
        for centre_id, *_keys, count in self.routed:
            counts[centre_id]["routed"] += count

    def received_by(self, position: int) -> dict:
        """{category or channel (0 or 1): [received]}"""
        totals: dict = {}
        for row in self.received:
            totals.setdefault(row[position + 1], [0])[0] += row[3]
        return totals

    def concluded_by(self, position: int) -> dict:
        """{key at `position` of CONCLUDED_KEYS: [count, agreed, mediated, days]}"""
        totals: dict = {}
        for row in self.concluded:
            key = row[position + 1]
            if key is None:
                continue
            count, mediated, _on_time, days, _amount = row[7:]
            sums = totals.setdefault(key, [0, 0, 0, 0])
            sums[0] += count
            sums[1] += count if row[1] == "agreed" else 0
            sums[2] += mediated
            sums[3] += round(days)
        return totals

    def routed_by(self, position: int) -> dict:
        """{organisation or mediator (0 or 1): [assigned]}"""
        totals: dict = {}
        for row in self.routed:
            if row[position + 1] is not None:
                totals.setdefault(row[position + 1], [0])[0] += row[3]
        return totals


def _concluded_group(keys: tuple, count: int, by_deadline=0, days=0, agreed_amount=None):
    """A group of concluded cases as the figures read it: (centre id, *CONCLUDED_KEYS,
    count, mediated, on time, days, amount agreed). Whether it was mediated follows from its
    outcome and reason, so the whole group is or none of it; its cases concluded by their
    deadline are on time only then."""
    mediated = _is_mediated(keys[1], keys[2])
    return (
        *keys,
        count,
        count if mediated else 0,
        by_deadline if mediated else 0,
        days,
        agreed_amount,
    )


def _per_centre(period: _Period, model, columns: tuple, condition) -> list[tuple]:
    """(centre id, *columns) for each centre of the period with rows of `model` (a table
    carrying its case's centre) that meet `condition`, read on its (centre_id, date) index."""
    return db.session.execute(
        select(model.centre_id, *columns)
        .where(condition, period.of_centres(model.centre_id))
        .group_by(model.centre_id)
    ).all()


def _count_by_centre(*conditions) -> dict[int, int]:
    return dict(
        db.session.execute(
            select(Case.centre_id, func.count()).where(*conditions).group_by(Case.centre_id)
        ).all()
    )


def _pending_at_end(period: _Period) -> dict[int, int]:
    """Per centre, cases received by the end of the month and not concluded by then (so a
    month's pending are the month before's, plus those received, less those concluded).
    Counted from the side of the month's end that holds fewer of the centres' cases: after a
    recent month, the cases still open and those concluded since; after an old one, those
    received by then less those concluded by then. Each way reads one index over its side
    only."""
    if _mostly_before(period):
        return _open_or_concluded_since(period)
    return _received_less_concluded(period)


def _mostly_before(period: _Period) -> bool:
    """Whether the month ends late enough in the centres' history (from their first case to
    now) that the cases after it are fewer than twice those before it, which the other way
    counts twice. A guess from the dates: either way gives the same figure."""
    # Each centre's first case is one probe of its (centre_id, received_at) index: a minimum
    # over several centres at once reads every case they hold.
    firsts = union_all(
        *(
            select(func.min(Case.received_at).label("first")).where(Case.centre_id == centre_id)
            for centre_id in period.centre_ids
        )
    ).subquery()
    first = db.session.scalar(select(func.min(firsts.c.first)))
    if first is None:
        return False
    return clock.now() - period.end < 2 * (period.end - first)


def _open_or_concluded_since(period: _Period) -> dict[int, int]:
    """Received by the month's last day, and open or concluded after it, from the index of
    conclusion dates (which carries the date received)."""
    received_by_end = and_(period.of_centres(), Case.received_on <= period.last)
    pending = Counter(_count_by_centre(received_by_end, Case.concluded_at.is_(None)))
    pending.update(
        _count_by_centre(
            received_by_end,
            Case.concluded_at >= period.end - MARGIN,
            Case.concluded_on > period.last,
        )
    )
    return pending


def _received_less_concluded(period: _Period) -> dict[int, int]:
    """Those received by then less those concluded by then (a case concludes after it came to
    its centre: only an open case can be moved). Each is counted on its index, and only the
    rows near the end are read for their local dates."""
    last, surely_before = period.last, period.end - MARGIN

    def by_end(at, on) -> Counter:
        counts = Counter(_count_by_centre(period.of_centres(), at < surely_before))
        counts.update(
            _count_by_centre(
                period.of_centres(), at >= surely_before, at < period.end + MARGIN, on <= last
            )
        )
        return counts

    pending = by_end(Case.received_at, Case.received_on)
    pending.subtract(by_end(Case.concluded_at, Case.concluded_on))
    return pending


def _obligations_due(period: _Period, last: date) -> list[tuple]:
    """Per centre, obligations due from the period's first day to `last`, and those met on
    time: (centre id, due, on time)."""
    performed_on_time = and_(
        Obligation.fulfilled_on.is_not(None), Obligation.fulfilled_on <= Obligation.due_on
    )
    return _per_centre(
        period,
        Obligation,
        (func.count(), _count_if(performed_on_time)),
        Obligation.due_on.between(period.first, last),
    )


def performance_so_far(month: str, centres: list[Centre], today: date) -> dict:
    """For a month not yet over, the voluntary performance rate of `centres` over the
    obligations due up to `today` only: those due later this month cannot have been met on
    time yet."""
    first, last = parse_month(month)
    due = on_time = 0
    for period in _periods(centres, first):
        for _centre_id, period_due, period_on_time in _obligations_due(period, min(today, last)):
            due, on_time = due + period_due, on_time + period_on_time
    return {
        "obligations_due": due,
        "fulfilled_on_time": on_time,
        "performance_rate": rate(on_time, due),
    }


def _other_figures(period: _Period, counts: dict[int, Counter]) -> None:
    """The figures not read from the month's case groups, added to each centre's counts."""
    first, last = period.first, period.last
    for centre_id, confirmed in _per_centre(
        period, Agreement, (func.count(),), Agreement.confirmed_on.between(first, last)
    ):
        counts[centre_id]["judicial_confirmations"] += confirmed
    for centre_id, due, on_time in _obligations_due(period, last):
        counts[centre_id]["obligations_due"] += due
        counts[centre_id]["fulfilled_on_time"] += on_time
    for centre_id, issued in db.session.execute(
        select(IntegrityRecord.centre_id, func.count())
        .where(
            period.of_centres(IntegrityRecord.centre_id),
            IntegrityRecord.kind == "positive",
            IntegrityRecord.created_on.between(first, last),
        )
        .group_by(IntegrityRecord.centre_id)
    ):
        counts[centre_id]["certificates_issued"] += issued
    for centre_id, pending in _pending_at_end(period).items():
        counts[centre_id]["pending_end"] += pending
    satisfied_visit = _count_if(FollowUp.is_satisfied.is_(True))
    for centre_id, visits, satisfied in _per_centre(
        period, FollowUp, (func.count(), satisfied_visit), FollowUp.visited_on.between(first, last)
    ):
        counts[centre_id]["follow_ups"] += visits
        counts[centre_id]["satisfied"] += satisfied
    for centre_id, (received, accepted) in applications.month_counts(
        period.centre_ids, first, last
    ).items():
        counts[centre_id]["applications_received"] += received
        counts[centre_id]["applications_accepted"] += accepted


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


def _rolled_up(counts: dict[int, Counter]) -> Counter:
    """The centres' counts added up: numerators and denominators, from which `_summary`
    takes the rates."""
    total: Counter = Counter()
    for centre_counts in counts.values():
        total.update(centre_counts)
    return total


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


def _periods(centres: list[Centre], first: date) -> list[_Period]:
    """The month of `centres`, one period per time zone among them."""
    last = shift_month(first, 1) - timedelta(days=1)
    return [_Period(group, first, last) for group in by_time_zone(centres)]


def _compared(centres: list[Centre], first: date) -> dict:
    counts: dict[int, Counter] = defaultdict(Counter)
    _Month(_periods(centres, first), detailed=False).count(counts)
    summary = _summary(_rolled_up(counts))
    return {key: summary[key] for key in COMPARED_KEYS}


def _month_figures(month: str, centres: list[Centre]) -> tuple[dict, dict[int, Counter]]:
    """SPEC 4's figures for `month` of `centres` together (without month and scope), and each
    centre's counts they are added up from."""
    first, _last = parse_month(month)
    periods = _periods(centres, first)
    counts: dict[int, Counter] = defaultdict(Counter)
    with _planned_for_months():
        month_cases = _Month(periods)
        month_cases.count(counts)
        for period in periods:
            _other_figures(period, counts)
        previous_month = _compared(centres, shift_month(first, -1))
        same_month_last_year = _compared(centres, shift_month(first, -12))
    total = _rolled_up(counts)
    figures = {
        "summary": _summary(total),
        "transferred_by_reason": {code: total[f"reason:{code}"] for code in TRANSFER_REASONS},
        "by_category": _by_code(month_cases, 0, "category"),
        "by_channel": _by_code(month_cases, 1, "channel"),
        "by_organization": _by_organization(month_cases),
        "by_mediator": _by_mediator(month_cases),
        "previous_month": previous_month,
        "same_month_last_year": same_month_last_year,
    }
    return figures, counts


@contextmanager
def _planned_for_months():
    """On PostgreSQL, for the statements inside (this transaction only): more memory, and no
    JIT compilation. A month's concluded cases are grouped by seven keys; the planner, which
    cannot know that the UTC and the local date ranges select the same cases, expects a
    fraction of them and sorts them in its default memory (4 MB), spilling to disk, where a
    region's month needs more. And a region's largest counts pass the cost past which it
    compiles a statement, which takes longer than the compiled statement saves."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text(f"SET LOCAL work_mem = '{GROUPING_MEMORY}'"))
        db.session.execute(text("SET LOCAL jit = off"))
    yield
    if postgresql:
        db.session.execute(text("SET LOCAL work_mem TO DEFAULT"))
        db.session.execute(text("SET LOCAL jit TO DEFAULT"))


def month_stats(month: str, centre: Centre | None) -> dict:
    """SPEC 4's figures for `month` ("YYYY-MM") of one centre, or of all when None."""
    figures, _counts = _month_figures(month, _centres(centre))
    return {"month": month, "centre": centre.code if centre is not None else None, **figures}


def region_stats(month: str, region_code: str) -> dict:
    """SPEC 4's figures for `month` of the centres of a division (SPEC 10), with `by_centre`:
    each centre's code, name and summary. The region's counts are its centres' counts added
    up, its rates taken from the summed numerators and denominators."""
    centres = region_centres(region_code)
    figures, counts = _month_figures(month, centres) if centres else (_empty_figures(), {})
    return {
        "month": month,
        "centre": None,
        "region": region_code,
        **figures,
        "by_centre": [
            {
                "centre": centre.code,
                "name": centre.name,
                "summary": _summary(counts.get(centre.id, Counter())),
            }
            for centre in centres
        ],
    }


def _empty_figures() -> dict:
    nothing = _summary(Counter())
    return {
        "summary": nothing,
        "transferred_by_reason": dict.fromkeys(TRANSFER_REASONS, 0),
        "by_category": [],
        "by_channel": [],
        "by_organization": [],
        "by_mediator": [],
        "previous_month": {key: nothing[key] for key in COMPARED_KEYS},
        "same_month_last_year": {key: nothing[key] for key in COMPARED_KEYS},
    }


def monthly_series(month: str, centres: list[Centre], months: int = 12) -> list[dict]:
    """Received and concluded per month for the `months` months ending with `month`, for the
    page's chart: two indexed counts per month and time zone."""
    first, _ = parse_month(month)
    groups = by_time_zone(centres)
    series = []
    for offset in range(months - 1, -1, -1):
        start = shift_month(first, -offset)
        end = shift_month(start, 1) - timedelta(days=1)
        received = concluded = 0
        for period in (_Period(group, start, end) for group in groups):
            received += db.session.scalar(select(func.count()).where(period.received_in()))
            concluded += db.session.scalar(select(func.count()).where(period.concluded_in()))
        series.append({"month": month_key(start), "received": received, "concluded": concluded})
    return series
