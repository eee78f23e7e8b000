"""Demo cases: disputes over the last 18 months, replayed through the workflow.

Each case is planned as a timeline first (register, route, sessions, agreement, …, each at its
own moment before now) and then replayed through `mediation.cases.workflow` under
`clock.frozen_at`, so its events, milestone dates and deadlines are the ones the product would
have written itself. Cases end where the scheduled jobs would leave them: no open case is past
its mediation deadline (it was expired) and no agreed case has an obligation past due (it was
defaulted). Random, but seeded: the same day gives the same demo.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from mediation import clock
from mediation.auth.models import User
from mediation.cases.identity import (
    CREDIT_CHARS,
    CREDIT_WEIGHTS,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
)
from mediation.cases.states import HIGH_RISKS, RISK_ORDER
from mediation.cases.workflow import (
    Actor,
    IntakeData,
    ObligationData,
    PartyData,
    act,
    decide_agree,
    decide_complete_transfer,
    decide_confirm,
    decide_correct,
    decide_default,
    decide_divert,
    decide_enforce,
    decide_expire,
    decide_extend,
    decide_fail,
    decide_follow_up,
    decide_fulfil,
    decide_reassign,
    decide_record_session,
    decide_request_litigation,
    decide_route,
    decide_withdraw,
    intake_data_of,
    register_case,
    suggest_risk,
)
from mediation.demo import data
from mediation.demo.data import Dispute
from mediation.directory.calendar import is_workday
from mediation.directory.models import CalendarDay, Centre, Mediator, Organization, RoutingRule
from mediation.directory.settings import mediation_days, settings_for
from mediation.extensions import db
from mediation.notify import outbox

SEED = 2026
HISTORY_DAYS = 548  # 18 months
BATCH_SIZE = 50
ATTEMPTS = 500

# Where the cases end, with their share of the demo (percent). Every one appears at least once.
SCENARIOS = (
    ("registered", 3),
    ("triage_overdue", 1),
    ("assigned", 4),
    ("mediating", 7),
    ("agreed", 6),
    ("fulfilled", 23),
    ("fulfilled_plain", 9),
    ("fulfilled_late", 2),
    ("defaulted", 3),
    ("enforced", 2),
    ("unsuitable", 2),
    ("respondent_refused", 3),
    ("failed", 12),
    ("party_request", 6),
    ("expired", 5),
    ("withdrawn", 6),
)
OPEN_SCENARIOS = ("assigned", "mediating")
CORRECTED_SHARE = 0.08  # cases whose party's mobile is put right after registration
COMPLETED_SHARE = 0.7  # transfers without a court that staff complete afterwards


class DoesNotFit(Exception):
    """A planned moment falls after now, or before the step it must follow: plan again."""


@dataclass
class Step:
    at: datetime
    action: str
    args: dict


@dataclass
class Draft:
    """One case being planned: its intake and the timeline of what happens to it."""

    dispute: Dispute
    intake: IntakeData
    mediator: Mediator  # who has the case in the end
    period: int
    tz: ZoneInfo
    words: dict  # what fills the dispute's texts once the registration date is known
    steps: list[Step] = field(default_factory=list)
    last: datetime | None = None
    deadline_on: date | None = None

    @property
    def last_day(self) -> date:
        return self.last.astimezone(self.tz).date()


class WorkCalendar:
    """The centre's working days, in memory: planning thousands of dates costs no query."""

    def __init__(self, exceptions: dict[date, bool]):
        self.exceptions = exceptions

    def is_workday(self, day: date) -> bool:
        return is_workday(day, self.exceptions)

    def on_or_after(self, day: date) -> date:
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def on_or_before(self, day: date) -> date:
        while not self.is_workday(day):
            day -= timedelta(days=1)
        return day

    def shift(self, day: date, days: int) -> date:
        """`days` working days after (or, when negative, before) `day`."""
        step = 1 if days >= 0 else -1
        for _ in range(abs(days)):
            day += timedelta(days=step)
            while not self.is_workday(day):
                day += timedelta(days=step)
        return day

    def between(self, first: date, last: date) -> list[date]:
        days = (last - first).days + 1
        return [
            d for d in (first + timedelta(n) for n in range(max(days, 0))) if self.is_workday(d)
        ]


def money(amount: Decimal) -> str:
    """52700 or 1234.50: yuan as an agreement writes them."""
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"


def add_demo_cases(centre: Centre, staff: User, count: int) -> int:
    """Plan and replay `count` cases for the demo centre; commits every BATCH_SIZE cases."""
    generator = CaseGenerator(centre, staff, clock.now(), random.Random(SEED))
    drafts = generator.plan(count)
    drafts.sort(key=lambda draft: draft.steps[0].at)
    # History is replayed, not lived: no SMS or notices for events long past.
    with outbox.suppressed():
        for index, draft in enumerate(drafts, start=1):
            generator.replay(draft)
            if index % BATCH_SIZE == 0:
                db.session.commit()
    db.session.commit()
    return len(drafts)


def scenario_counts(count: int) -> list[str]:
    """The scenario of each of `count` cases: every scenario at least once when count allows."""
    total = sum(share for _, share in SCENARIOS)
    counts = {name: max(1, round(share * count / total)) for name, share in SCENARIOS}
    counts["fulfilled"] += count - sum(counts.values())
    if counts["fulfilled"] < 1:
        return [name for name, _ in SCENARIOS][:count]
    return [name for name, _ in SCENARIOS for _ in range(counts[name])]


class CaseGenerator:
    def __init__(self, centre: Centre, staff: User, now: datetime, rng: random.Random):
        self.centre, self.now, self.rng = centre, now, rng
        self.tz = ZoneInfo(centre.timezone)
        self.today = now.astimezone(self.tz).date()
        self.staff = Actor.for_user(staff)
        self.calendar = WorkCalendar(
            dict(
                db.session.execute(
                    select(CalendarDay.day, CalendarDay.is_workday).filter_by(centre_id=centre.id)
                )
                .tuples()
                .all()
            )
        )
        self.settings = settings_for(centre.id)
        self.periods = {d.category: mediation_days(centre.id, d.category) for d in data.DISPUTES}
        self._load_directory()
        self.credit_codes: dict[str, str] = {}
        self.rulings: dict[int, int] = {}
        self.open_turn = 0

    # --- the directory --------------------------------------------------------------------

    def _load_directory(self) -> None:
        centre_id = self.centre.id
        mediators = db.session.scalars(
            select(Mediator).filter_by(centre_id=centre_id, is_active=True).order_by(Mediator.id)
        ).all()
        self.mediator_names = {m.name for m in mediators}
        self.by_organization: dict[int, list[Mediator]] = {}
        self.skills: dict[int, set[str]] = {}
        for mediator in mediators:
            self.by_organization.setdefault(mediator.organization_id, []).append(mediator)
            self.skills[mediator.id] = {c.code for c in mediator.specialties}
        rules = db.session.scalars(
            select(RoutingRule)
            .join(Organization)
            .where(RoutingRule.centre_id == centre_id, Organization.is_active)
            .order_by(RoutingRule.rank, RoutingRule.id)
        ).all()
        self.rules: dict[tuple[str, str], list[Organization]] = {}
        for rule in rules:
            if rule.organization_id in self.by_organization:
                self.rules.setdefault((rule.category_code, rule.street), []).append(
                    rule.organization
                )
        by_user = {m.user_id: m for m in mediators if m.user_id}
        self.users = {
            u.id: u for u in db.session.scalars(select(User).where(User.id.in_(list(by_user))))
        }
        ids = {user.username: user.id for user in self.users.values()}
        self.demo_mediators = [
            by_user[ids[login.username]] for login in data.DEMO_LOGINS if login.username in ids
        ]

    def organizations_for(self, category: str, street: str) -> list[Organization]:
        ordered = self.rules.get((category, street), []) + self.rules.get((category, ""), [])
        return list({organization.id: organization for organization in ordered}.values())

    def handler(self, category: str, street: str) -> Mediator:
        """A mediator of the organisation the routing rules suggest (now and then the second),
        a specialist in the category where there is one."""
        organizations = self.organizations_for(category, street)
        if not organizations:
            organizations = [m.organization for ms in self.by_organization.values() for m in ms]
        organization = organizations[0]
        if len(organizations) > 1 and self.rng.random() < 0.2:
            organization = organizations[1]
        mediators = self.by_organization[organization.id]
        specialists = [m for m in mediators if category in self.skills[m.id]] or mediators
        return self.rng.choice(specialists)

    def categories_of(self, mediator: Mediator) -> list[str]:
        """Categories whose routing rules send cases (from any street) to this mediator."""
        return [
            category
            for (category, street), organizations in self.rules.items()
            if not street
            and category in self.skills[mediator.id]
            and mediator.organization_id in {o.id for o in organizations}
        ]

    # --- planning -------------------------------------------------------------------------

    def plan(self, count: int) -> list[Draft]:
        drafts = []
        for scenario in scenario_counts(count):
            draft = self.draft(scenario)
            planner = getattr(self, f"_plan_{scenario}")
            for _ in range(ATTEMPTS):
                draft.steps, draft.last, draft.deadline_on = [], None, None
                try:
                    planner(draft)
                    self._check_left_as_the_jobs_leave_it(draft)
                    break
                except DoesNotFit:
                    continue
            else:
                raise RuntimeError(f"could not plan a demo case ending {scenario}")
            draft.steps.sort(key=lambda step: step.at)
            self._write(draft)
            drafts.append(draft)
        return drafts

    def _check_left_as_the_jobs_leave_it(self, draft: Draft) -> None:
        """The deadline sweep transfers an open case past its deadline and the obligation sweep
        defaults an agreed case with an obligation past due; a plan that leaves either is
        redone."""
        steps = sorted(draft.steps, key=lambda step: step.at)
        actions = [step.action for step in steps]
        ends = {"agree", "divert", "fail", "litigate", "expire", "withdraw"}
        if draft.deadline_on and draft.deadline_on < self.today and not ends & set(actions):
            raise DoesNotFit
        agree = next((step for step in steps if step.action == "agree"), None)
        if agree is None:
            return
        performed = {step.args["index"] for step in steps if step.action == "fulfil"}
        overdue = [
            index
            for index, item in enumerate(agree.args["obligations"])
            if index not in performed and item["due_on"] < self.today
        ]
        defaulted = "default" in actions and "fulfil" not in actions[actions.index("default") :]
        if overdue and not defaulted:
            raise DoesNotFit

    def draft(self, scenario: str) -> Draft:
        forced = None
        if scenario in OPEN_SCENARIOS and self.demo_mediators:
            turn, self.open_turn = self.open_turn, self.open_turn + 1
            if turn % 4 < len(self.demo_mediators):
                forced = self.demo_mediators[turn % 4]
        dispute = self._pick_dispute(forced)
        street = self._pick_street(dispute.category, forced)
        mediator = forced or self.handler(dispute.category, street)
        intake, words = self._intake(dispute, street)
        return Draft(
            dispute=dispute,
            intake=intake,
            mediator=mediator,
            period=self.periods[dispute.category],
            tz=self.tz,
            words=words,
        )

    def _pick_dispute(self, forced: Mediator | None) -> Dispute:
        disputes = data.DISPUTES
        if forced is not None:
            categories = self.categories_of(forced)
            disputes = [d for d in disputes if d.category in categories] or disputes
        return self.rng.choices(disputes, weights=[d.weight for d in disputes])[0]

    def _pick_street(self, category: str, forced: Mediator | None) -> str:
        streets = data.STREETS
        if forced is not None:
            # A street rule would send the case elsewhere.
            streets = [s for s in streets if (category, s) not in self.rules]
        return self.rng.choice(streets)

    # moments ------------------------------------------------------------------------------

    def moment(self, draft: Draft, day: date, hours: tuple[float, float] = (8.5, 17.5)) -> datetime:
        """A moment on `day` within `hours` (local), after the draft's last step, before now."""
        start = datetime.combine(day, time(), self.tz) + timedelta(hours=hours[0])
        end = datetime.combine(day, time(), self.tz) + timedelta(hours=hours[1])
        if draft.last is not None:
            floor = draft.last + timedelta(minutes=self.rng.randint(5, 40))
            if floor.astimezone(self.tz).date() > day:
                raise DoesNotFit
            start = max(start, floor)
            end = max(end, start + timedelta(minutes=30))
        span = int((end - start).total_seconds() // 60)
        moment = (start + timedelta(minutes=self.rng.randint(0, span))).astimezone(UTC)
        if moment >= self.now:
            raise DoesNotFit
        return moment

    def step(self, draft: Draft, day: date, action: str, hours=(8.5, 17.5), **args) -> datetime:
        at = self.moment(draft, day, hours)
        draft.steps.append(Step(at, action, args))
        draft.last = at
        return at

    def aside(self, draft: Draft, day: date, action: str, **args) -> None:
        """A step off the main line (confirmation, follow-up): any time on `day`, before now."""
        at = datetime.combine(day, time(), self.tz) + timedelta(
            minutes=self.rng.randint(9 * 60, 17 * 60)
        )
        if at >= self.now:
            raise DoesNotFit
        draft.steps.append(Step(at.astimezone(UTC), action, args))

    def days_ago(self, low: int, high: int) -> date:
        return self.today - timedelta(days=self.rng.randint(low, high))

    def latest_workday(self) -> date:
        """Today when it is a working day with office hours begun, else the one before."""
        now = self.now.astimezone(self.tz)
        if self.calendar.is_workday(self.today) and now.hour >= 10:
            return self.today
        return self.calendar.on_or_before(self.today - timedelta(days=1))

    def workdays_ago(self, low: int, high: int) -> date:
        return self.calendar.shift(self.latest_workday(), -self.rng.randint(low, high))

    def history_day(self, latest_days_ago: int) -> date:
        """A working day somewhere in the 18 months, at least `latest_days_ago` days ago."""
        return self.calendar.on_or_after(self.days_ago(latest_days_ago, HISTORY_DAYS))

    # building blocks ----------------------------------------------------------------------

    def register(self, draft: Draft, day: date) -> None:
        if day < self.today - timedelta(days=HISTORY_DAYS):
            raise DoesNotFit
        self.step(draft, day, "register")
        people = [i for i, p in enumerate(draft.intake.parties) if p.kind == "person"]
        if people and self.rng.random() < CORRECTED_SHARE:
            # A mobile mistyped or missing at the counter, put right the same day.
            party = self.rng.choice(people)
            self.step(draft, day, "correct", party=party, phone=self._mobile())

    def triage_due(self, draft: Draft, registered: date) -> date:
        intake = draft.intake
        risk = max(
            suggest_risk(intake.amount, intake.people_involved, intake.is_extreme),
            intake.risk_level,
            key=RISK_ORDER.index,
        )
        days = self.settings.triage_days
        if risk in HIGH_RISKS:
            days = self.settings.triage_days_high_risk
        return self.calendar.shift(registered, days)

    def route(self, draft: Draft, day: date, reassign: float = 0.08) -> None:
        """Route on `day`; now and then to someone else first, and reassigned soon after."""
        day = max(day, draft.last_day)
        first = draft.mediator
        if reassign and self.rng.random() < reassign:
            first = self._other_mediator(draft) or first
        self.step(draft, day, "route", organization=first.organization, mediator=first)
        draft.deadline_on = day + timedelta(days=draft.period)
        if first is not draft.mediator:
            later = self.calendar.shift(day, self.rng.randint(0, 2))
            reason = self.rng.choice(data.REASSIGN_REASONS)
            self.step(draft, later, "reassign", mediator=draft.mediator, reason=reason)

    def _other_mediator(self, draft: Draft) -> Mediator | None:
        """Someone the case was first routed to before going to its final mediator."""
        colleagues = [
            m
            for m in self.by_organization[draft.mediator.organization_id]
            if m is not draft.mediator
        ]
        if colleagues:
            return self.rng.choice(colleagues)
        for organization in self.organizations_for(draft.dispute.category, draft.intake.street):
            if organization.id != draft.mediator.organization_id:
                return self.rng.choice(self.by_organization[organization.id])
        return None

    def routed_from(self, day: date) -> date:
        """Registration a few working days before routing on `day`."""
        return self.calendar.shift(day, -self.rng.choice((0, 0, 1, 1, 1, 2, 3)))

    def sessions(
        self, draft: Draft, first: date, last: date, count: int, closing: tuple[str, ...] = ()
    ) -> None:
        """`count` sessions on working days between `first` and `last`; the last one's minutes
        from `closing` when given."""
        if count < 1:
            return
        first = max(first, draft.last_day)
        days = self.calendar.between(first, last)
        if not days:
            raise DoesNotFit
        chosen = sorted(self.rng.sample(days, min(count, len(days))))
        for number, day in enumerate(chosen):
            if number == len(chosen) - 1 and closing:
                minutes = self.rng.choice(closing)
            elif number == 0:
                minutes = self.rng.choice(data.SESSION_MINUTES_FIRST)
            else:
                minutes = self.rng.choice(data.SESSION_MINUTES_MIDDLE)
            held_at = self.moment(draft, day, (9, 15.5))
            draft.last = held_at + timedelta(minutes=60)
            self.step(
                draft,
                day,
                "session",
                hours=(9, 17.5),
                held_at=held_at,
                minutes=minutes,
                **self._session_place(draft),
            )

    def _session_place(self, draft: Draft) -> dict:
        names = [p.name for p in draft.intake.parties]
        attendance = "、".join(names) + "到场"
        if self.rng.random() < 0.15:
            return {"place": "", "is_online": True, "attendance": attendance + "（视频）"}
        place = self.rng.choice(data.SESSION_PLACES).format(
            street=draft.intake.street, organization=draft.mediator.organization.name
        )
        return {"place": place, "is_online": False, "attendance": attendance}

    def upcoming_session(self, draft: Draft) -> None:
        """A session fixed for the coming days, recorded now-ish: the dashboard shows it."""
        last = min(draft.deadline_on, self.today + timedelta(days=10))
        days = self.calendar.between(self.today + timedelta(days=1), last)
        if not days:
            return
        day = self.rng.choice(days)
        held_at = (
            datetime.combine(day, time(), self.tz)
            + timedelta(
                minutes=self.rng.choice(
                    (9 * 60, 9 * 60 + 30, 10 * 60, 14 * 60, 14 * 60 + 30, 15 * 60)
                )
            )
        ).astimezone(UTC)
        recorded = self.latest_workday()
        if recorded < draft.last_day:
            raise DoesNotFit
        place = self._session_place(draft)
        place["attendance"] = "已电话通知各方当事人到场"
        self.step(draft, recorded, "session", held_at=held_at, minutes="", **place)

    def extend(self, draft: Draft, day: date, days: int) -> None:
        if days > self.settings.extension_max_days:
            raise DoesNotFit
        self.step(
            draft,
            day,
            "extend",
            days=days,
            reason=self.rng.choice(data.EXTENSION_REASONS),
            consents=[self.rng.choice(data.CONSENTS) for _ in draft.intake.parties],
        )
        draft.deadline_on += timedelta(days=days)

    def mediation(self, draft: Draft, end: date, closing: tuple[str, ...], count=(1, 3)) -> None:
        """Register, route and hold sessions so that the last one falls on `end`."""
        route_day = self.calendar.on_or_before(
            end - timedelta(days=self.rng.randint(2, max(2, draft.period - 3)))
        )
        self.register(draft, self.routed_from(route_day))
        self.route(draft, route_day)
        self.sessions(
            draft,
            route_day + timedelta(days=1),
            end - timedelta(days=1),
            self.rng.randint(*count) - 1,
        )
        if draft.last_day >= end:
            raise DoesNotFit
        self.sessions(draft, end, end, 1, closing)

    def agreement(self, draft: Draft, dues: list[date], performed: list[date | None]) -> int:
        """Agree on the last session's day with obligations due on `dues`; then record each
        performance (None: not performed). Returns the number of obligations."""
        signed_on = draft.last_day
        obligations = self._obligations(draft, dues)
        # Several payers of one due date (driver and insurer) perform on their own days.
        performed = [performed[dues.index(item["due_on"])] for item in obligations]
        for index in range(len(dues), len(obligations)):
            if performed[index] is not None:
                earlier = performed[index] - timedelta(days=self.rng.randint(0, 2))
                performed[index] = max(signed_on, earlier)
        self.step(
            draft,
            signed_on,
            "agree",
            signed_on=signed_on,
            terms=self._terms(draft, obligations),
            obligations=obligations,
        )
        for index, performed_on in sorted(
            ((i, d) for i, d in enumerate(performed) if d is not None), key=lambda item: item[1]
        ):
            self.fulfil(draft, index, performed_on)
        return len(obligations)

    def fulfil(self, draft: Draft, index: int, performed_on: date) -> None:
        """Staff record a performance that day; or the obligee confirms it on the portal."""
        if self.rng.random() < 0.35:
            day = max(performed_on + timedelta(days=self.rng.randint(0, 2)), draft.last_day)
            self.step(
                draft,
                day,
                "fulfil",
                hours=(8, 22),
                index=index,
                performed_on=performed_on,
                by_party=True,
            )
        else:
            day = max(self.calendar.on_or_after(performed_on), draft.last_day)
            self.step(draft, day, "fulfil", index=index, performed_on=performed_on, by_party=False)

    def _obligations(self, draft: Draft, dues: list[date]) -> list[dict]:
        if not dues:
            return []
        dispute, parties = draft.dispute, draft.intake.parties
        applicants = [i for i, p in enumerate(parties) if p.role == "applicant"]
        respondents = [i for i, p in enumerate(parties) if p.role == "respondent"]
        obligee = applicants[0]
        if len(dues) > 1:  # instalments by the first payer
            payer = respondents[dispute.payers[0][0]]
            total = self._agreed_amount(draft)
            each = self._round(total / len(dues)) if total is not None else None
            if dispute.pay is not None:
                each = self._round(Decimal(self.rng.randint(*dispute.pay)))
            return [
                {
                    "obligor": payer,
                    "obligee": obligee,
                    "description": f"{dispute.obligation}（第{n}期）",
                    "amount": each if dispute.is_monetary else None,
                    "due_on": due,
                }
                for n, due in enumerate(dues, start=1)
            ]
        total = self._agreed_amount(draft)
        payers = [(i, s) for i, s in dispute.payers if i < len(respondents)]
        if not dispute.is_monetary or total is None:
            payers = payers[:1]
        return [
            {
                "obligor": respondents[index],
                "obligee": obligee,
                "description": dispute.obligation,
                "amount": self._round(total * Decimal(str(share)))
                if dispute.is_monetary and total is not None
                else None,
                "due_on": dues[0],
            }
            for index, share in payers
        ]

    def _agreed_amount(self, draft: Draft) -> Decimal | None:
        amount = draft.intake.amount
        if amount is None:
            return None
        return self._round(amount * Decimal(str(round(self.rng.uniform(0.55, 1.0), 2))))

    @staticmethod
    def _round(amount: Decimal) -> Decimal:
        step = Decimal(100) if amount >= 1000 else Decimal(10)
        return max(step, (amount / step).quantize(Decimal(1)) * step).quantize(Decimal("0.01"))

    def _terms(self, draft: Draft, obligations: list[dict]) -> str:
        if not obligations:
            return draft.dispute.settled
        parties = draft.intake.parties
        numbers = "一二三四五六七八九十"
        lines = []
        for n, item in enumerate(obligations):
            obligor, obligee = parties[item["obligor"]].name, parties[item["obligee"]].name
            due = item["due_on"]
            text = f"{numbers[n]}、{obligor}于{due.year}年{due.month}月{due.day}日前"
            description = item["description"]
            if description.startswith(("支付", "赔偿", "退还", "归还", "结清")):
                text += f"向{obligee}{description}"
            else:
                text += description
            if item["amount"] is not None:
                text += f"人民币{money(item['amount'])}元"
            lines.append(text + "；")
        lines.append(f"{numbers[len(obligations)]}、本协议履行完毕后，双方就本纠纷再无其他争议。")
        return "\n".join(lines)

    def confirmation(self, draft: Draft, signed_on: date, latest: date | None = None) -> None:
        """Judicial confirmation (司法确认) some days after signing."""
        day = self.calendar.on_or_after(signed_on + timedelta(days=self.rng.randint(3, 15)))
        if latest is not None and day > latest:
            day = self.calendar.on_or_before(latest)
        if day <= signed_on or day >= self.today:
            return
        self.aside(
            draft, day, "confirm", court=data.COURT, ruling=self._ruling(day.year), confirmed_on=day
        )

    def _ruling(self, year: int) -> str:
        seq = self.rulings.get(year, self.rng.randint(80, 200)) + self.rng.randint(1, 30)
        self.rulings[year] = seq
        return f"（{year}）浙0106民特{seq}号"

    def follow_up(self, draft: Draft, chance: float) -> None:
        if self.rng.random() >= chance:
            return
        day = self.calendar.on_or_after(draft.last_day + timedelta(days=self.rng.randint(3, 30)))
        if day >= self.today:
            return
        satisfied, note = self.rng.choice(data.FOLLOW_UP_NOTES)
        self.aside(draft, day, "follow_up", is_satisfied=satisfied, note=note)

    def night_after(self, draft: Draft, day: date, action: str) -> None:
        """The scheduler's sweep in the small hours after `day`."""
        self.step(draft, day + timedelta(days=1), action, hours=(0.1, 1.5))

    def complete_transfer(self, draft: Draft, transferred_on: date) -> None:
        """Most transfers without a court get theirs, and the record, in the days after."""
        day = self.calendar.shift(transferred_on, self.rng.randint(1, 3))
        if self.rng.random() < COMPLETED_SHARE and day <= self.latest_workday():
            self.step(draft, day, "complete_transfer", court=self.court(draft), facts="")

    def court(self, draft: Draft) -> str:
        return data.LABOUR_ARBITRATION if draft.dispute.category == "labour" else data.COURT

    # scenarios: each ends the case in one state -------------------------------------------

    def _plan_registered(self, draft: Draft) -> None:
        registered = self.workdays_ago(0, 1)
        if self.triage_due(draft, registered) < self.today:
            raise DoesNotFit
        self.register(draft, registered)

    def _plan_triage_overdue(self, draft: Draft) -> None:
        self.register(draft, self.workdays_ago(5, 10))

    def _plan_assigned(self, draft: Draft) -> None:
        route_day = self.workdays_ago(0, min(6, draft.period - 8))
        self.register(draft, self.routed_from(route_day))
        self.route(draft, route_day, reassign=0.15)

    def _plan_mediating(self, draft: Draft) -> None:
        if self.rng.random() < 0.3:
            self._mediating_extended(draft)
        else:
            route_day = self.calendar.on_or_before(self.days_ago(3, draft.period - 2))
            self.register(draft, self.routed_from(route_day))
            self.route(draft, route_day, reassign=0.15)
            self.sessions(draft, route_day + timedelta(days=1), self.today, self.rng.randint(1, 2))
        if self.rng.random() < (0.8 if draft.mediator.user_id else 0.5):
            self.upcoming_session(draft)

    def _mediating_extended(self, draft: Draft) -> None:
        route_day = self.calendar.on_or_before(self.days_ago(draft.period - 3, draft.period + 20))
        self.register(draft, self.routed_from(route_day))
        self.route(draft, route_day)
        original = draft.deadline_on
        extension_day = self.calendar.on_or_before(
            min(original, self.today) - timedelta(days=self.rng.randint(0, 3))
        )
        self.sessions(
            draft,
            route_day + timedelta(days=1),
            extension_day - timedelta(days=1),
            self.rng.randint(1, 2),
        )
        days = max(15, (self.today - original).days + self.rng.randint(5, 15))
        self.extend(draft, extension_day, days)
        if self.rng.random() < 0.5:
            self.sessions(draft, extension_day + timedelta(days=1), self.today, 1)

    def _plan_agreed(self, draft: Draft) -> None:
        signed_on = self.calendar.on_or_before(self.days_ago(1, 80))
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        if draft.dispute.installments or self.rng.random() < 0.3:
            dues = [signed_on + timedelta(days=30 * n) for n in range(1, self.rng.randint(3, 5))]
        else:
            dues = [self.today + timedelta(days=self.rng.randint(1, 45))]
        if dues[-1] <= self.today:
            raise DoesNotFit
        performed = [self._on_time(due, signed_on) if due < self.today else None for due in dues]
        if any(d is not None and d > self.today for d in performed):
            raise DoesNotFit
        self.agreement(draft, dues, performed)
        if self.rng.random() < 0.3:
            self.confirmation(draft, signed_on)

    def _on_time(self, due: date, signed_on: date) -> date:
        """A performance on time, now and then at least a week early (which earns more)."""
        early = self.rng.randint(7, 20) if self.rng.random() < 0.35 else self.rng.randint(0, 3)
        return max(signed_on, due - timedelta(days=early))

    def _dues(self, draft: Draft, signed_on: date) -> list[date]:
        if draft.dispute.installments and self.rng.random() < 0.6:
            return [signed_on + timedelta(days=30 * n) for n in range(1, self.rng.randint(3, 4))]
        return [signed_on + timedelta(days=self.rng.choice((0, 3, 7, 10, 15, 20, 30)))]

    def _plan_fulfilled(self, draft: Draft) -> None:
        signed_on = self.history_day(20)
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        dues = self._dues(draft, signed_on)
        performed = [self._on_time(due, signed_on) for due in dues]
        if performed[-1] >= self.today:
            raise DoesNotFit
        self.agreement(draft, dues, performed)
        if self.rng.random() < 0.25:
            self.confirmation(draft, signed_on)
        self.follow_up(draft, 0.45)

    def _plan_fulfilled_plain(self, draft: Draft) -> None:
        signed_on = self.history_day(3)
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        self.agreement(draft, [], [])
        self.follow_up(draft, 0.45)

    def _plan_fulfilled_late(self, draft: Draft) -> None:
        signed_on = self.history_day(40)
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        due = signed_on + timedelta(days=self.rng.choice((7, 15, 30)))
        obligations = self.agreement(draft, [due], [None])
        self.night_after(draft, due, "default")
        performed = self.calendar.on_or_after(due + timedelta(days=self.rng.randint(3, 25)))
        for index in range(obligations):
            self.fulfil(draft, index, max(performed, draft.last_day))
        self.follow_up(draft, 0.3)

    def _plan_defaulted(self, draft: Draft) -> None:
        due = self.days_ago(2, 60)
        if draft.dispute.installments and self.rng.random() < 0.5:
            signed_on = self.calendar.on_or_before(due - timedelta(days=60))
            dues = [signed_on + timedelta(days=30 * n) for n in (1, 2, 3)]
            performed = [self._on_time(dues[0], signed_on), None, None]
        else:
            signed_on = self.calendar.on_or_before(
                due - timedelta(days=self.rng.choice((7, 15, 30)))
            )
            dues, performed = [due], [None]
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        first_overdue = min(d for d, p in zip(dues, performed, strict=True) if p is None)
        if self.rng.random() < 0.4:
            self.confirmation(draft, signed_on, latest=first_overdue)
        self.agreement(draft, dues, performed)
        if first_overdue + timedelta(days=1) > self.today:
            raise DoesNotFit
        self.night_after(draft, first_overdue, "default")

    def _plan_enforced(self, draft: Draft) -> None:
        due = self.days_ago(30, 300)
        signed_on = self.calendar.on_or_before(due - timedelta(days=self.rng.choice((15, 30))))
        self.mediation(draft, signed_on, data.SESSION_MINUTES_AGREED)
        self.agreement(draft, [due], [None])
        self.confirmation(draft, signed_on, latest=due)
        self.night_after(draft, due, "default")
        enforce_day = self.calendar.on_or_after(due + timedelta(days=self.rng.randint(15, 45)))
        self.step(draft, enforce_day, "enforce", court=data.COURT, note=data.ENFORCEMENT_NOTE)

    def _plan_unsuitable(self, draft: Draft) -> None:
        self._divert(draft, "unsuitable", data.UNSUITABLE_NOTES)

    def _plan_respondent_refused(self, draft: Draft) -> None:
        self._divert(draft, "respondent_refused", data.REFUSED_NOTES)

    def _divert(self, draft: Draft, reason: str, notes: tuple[str, ...]) -> None:
        registered = self.history_day(3)
        self.register(draft, registered)
        self.step(
            draft,
            self.calendar.shift(registered, self.rng.randint(0, 2)),
            "divert",
            reason=reason,
            court=self.court(draft),
            note=self.rng.choice(notes),
        )

    def _plan_failed(self, draft: Draft) -> None:
        end = self.history_day(3)
        self.mediation(draft, end, data.SESSION_MINUTES_FAILED)
        day = self.calendar.shift(end, self.rng.choice((0, 0, 1, 2)))
        if day > draft.deadline_on:
            raise DoesNotFit
        self.step(draft, day, "fail", court=self.court(draft), facts="")
        self.follow_up(draft, 0.1)

    def _plan_party_request(self, draft: Draft) -> None:
        stage = self.rng.choice(("registered", "assigned", "mediating", "mediating"))
        if stage == "registered":
            registered = self.history_day(3)
            self.register(draft, registered)
            day = self.calendar.shift(registered, self.rng.randint(0, 2))
        else:
            end = self.history_day(3)
            if stage == "assigned":
                self.register(draft, self.routed_from(end))
                self.route(draft, end)
            else:
                self.mediation(draft, end, data.SESSION_MINUTES_FAILED, count=(1, 2))
            day = self.calendar.shift(end, self.rng.randint(0, 3))
            if day > draft.deadline_on:
                raise DoesNotFit
        parties = draft.intake.parties
        by_party = self.rng.random() < 0.75
        if by_party:
            applicants = [i for i, p in enumerate(parties) if p.role == "applicant"]
            party = applicants[0] if self.rng.random() < 0.7 else len(parties) - 1
            self.step(draft, day, "litigate", hours=(7, 23), party=party, court="", note="")
            self.complete_transfer(draft, day)
        else:
            note = self.rng.choice(data.LITIGATION_NOTES)
            self.step(draft, day, "litigate", party=None, court=self.court(draft), note=note)

    def _plan_expired(self, draft: Draft) -> None:
        route_day = self.history_day(draft.period + 35)
        self.register(draft, self.routed_from(route_day))
        self.route(draft, route_day)
        sessions = self.rng.choice((0, 1, 1, 2))
        if sessions:
            last = draft.deadline_on - timedelta(days=self.rng.randint(3, 10))
            self.sessions(draft, route_day + timedelta(days=1), last, sessions)
            if self.rng.random() < 0.3:
                self.extend(
                    draft,
                    self.calendar.on_or_before(draft.deadline_on - timedelta(days=1)),
                    self.rng.choice((10, 15, 20, 30)),
                )
        self.night_after(draft, draft.deadline_on, "expire")
        self.complete_transfer(draft, draft.deadline_on + timedelta(days=1))

    def _plan_withdrawn(self, draft: Draft) -> None:
        stage = self.rng.choice(("registered", "assigned", "mediating", "mediating"))
        end = self.history_day(3)
        if stage == "registered":
            self.register(draft, end)
        elif stage == "assigned":
            self.register(draft, self.routed_from(end))
            self.route(draft, end)
        else:
            self.mediation(draft, end, data.SESSION_MINUTES_MIDDLE, count=(1, 2))
        day = self.calendar.shift(end, self.rng.randint(0, 3))
        if draft.deadline_on and day > draft.deadline_on:
            raise DoesNotFit
        self.step(draft, day, "withdraw", reason=self.rng.choice(data.WITHDRAW_REASONS))

    # --- intake ---------------------------------------------------------------------------

    def _intake(self, dispute: Dispute, street: str) -> tuple[IntakeData, dict]:
        rng = self.rng
        parties = [self._party("applicant", kind) for kind in dispute.applicants]
        parties += [self._party("respondent", kind) for kind in dispute.respondents]
        amount = None
        if dispute.amount is not None:
            amount = self._round(Decimal(rng.randint(*dispute.amount)))
        people = rng.randint(*dispute.people)
        is_extreme = rng.random() < 0.03
        words = {
            "a": parties[0].name,
            "r": next(p.name for p in parties if p.role == "respondent"),
            "amount": f"{amount:.0f}" if amount is not None else "",
            "years_before": rng.randint(1, 4),
            "days_before": rng.randint(5, 120),
            "street": street,
            "n": people,
            "job": rng.choice(data.JOBS),
            "months": rng.randint(2, 6),
        }
        risk = "low"
        if rng.random() < 0.1:
            risk = "medium"
        elif rng.random() < 0.03:
            risk = "high"
        intake = IntakeData(
            channel_code=rng.choice(dispute.channels),
            category_code=dispute.category,
            parties=parties,
            amount=amount,
            street=street,
            address=f"杭州市西湖区{street}某某小区{rng.randint(1, 30)}幢{rng.randint(101, 2404)}室",
            people_involved=people,
            risk_level=risk,
            is_extreme=is_extreme,
        )
        return intake, words

    def _write(self, draft: Draft) -> None:
        """The dispute's texts, dated from the registration: the incident came before it."""
        registered = draft.steps[0].at.astimezone(self.tz).date()
        words = dict(draft.words)
        incident = registered - timedelta(days=words["days_before"])
        words["date"] = f"{incident.year}年{incident.month}月{incident.day}日"
        words["year"] = registered.year - words["years_before"]
        dispute, intake = draft.dispute, draft.intake
        intake.summary = dispute.summary.format(**words)
        if intake.is_extreme:
            intake.summary += "申请人情绪激动，扬言采取过激行为，需重点关注。"
        intake.claims = dispute.claims.format(**words)
        for step in draft.steps:
            if step.action in ("fail", "complete_transfer"):
                step.args["facts"] = dispute.facts.format(**words)

    def _party(self, role: str, kind: str) -> PartyData:
        rng = self.rng
        if kind != data.P:
            name, prefix = rng.choice(data.ORGANIZATION_PARTIES[kind])
            code = None
            if prefix is not None:
                if name not in self.credit_codes:
                    self.credit_codes[name] = self._credit_code(prefix)
                code = self.credit_codes[name]
            return PartyData(role=role, kind="organization", name=name, credit_code=code)
        is_male = rng.random() < 0.55
        given = data.GIVEN_MALE if is_male else data.GIVEN_FEMALE
        name = ""
        while not name or name in self.mediator_names:
            name = rng.choice(data.SURNAMES) + "".join(
                rng.choice(given) for _ in range(rng.choice((1, 2, 2)))
            )
        return PartyData(
            role=role,
            kind="person",
            name=name,
            id_number=self._resident_id(is_male) if rng.random() < 0.7 else None,
            phone=self._mobile() if rng.random() < 0.8 else None,
            address=f"杭州市西湖区{rng.choice(data.STREETS)}" if rng.random() < 0.5 else "",
        )

    def _resident_id(self, is_male: bool) -> str:
        rng = self.rng
        regions = data.ID_REGIONS
        region = rng.choices([r for r, _ in regions], weights=[w for _, w in regions])[0]
        born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 54 * 365))
        sequence = rng.randint(0, 99) * 10 + rng.choice(
            (1, 3, 5, 7, 9) if is_male else (0, 2, 4, 6, 8)
        )
        body = f"{region}{born:%Y%m%d}{sequence:03d}"
        total = sum(int(digit) * weight for digit, weight in zip(body, ID_WEIGHTS, strict=True))
        return body + ID_CHECK_CHARS[total % 11]

    def _credit_code(self, prefix: str) -> str:
        """GB 32100: registration authority and kind, region, organisation code, check."""
        rng = self.rng
        organization = "MA" + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(7)
        )
        body = f"{prefix}330106{organization}"
        total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(body, CREDIT_WEIGHTS, strict=True))
        return body + CREDIT_CHARS[(31 - total % 31) % 31]

    def _mobile(self) -> str:
        return f"{self.rng.choice(data.MOBILE_PREFIXES)}{self.rng.randint(0, 99_999_999):08d}"

    # --- replaying through the workflow ---------------------------------------------------

    def replay(self, draft: Draft) -> None:
        """Register the case and replay its steps through the workflow, in the session."""
        register, *steps = draft.steps
        with clock.frozen_at(register.at):
            case = register_case(self.centre, draft.intake, self.staff, at=register.at).case
        StepReplay(self, _in_the_session).run(case, steps)


def _in_the_session(case, decide: Callable, *args, at: datetime, **options) -> None:
    """A move decided and written for one case in the session, at its own moment."""
    with clock.frozen_at(at):
        act(case, decide, *args, at=at, **options)


class StepReplay:
    """The planner's steps of a case as workflow decisions, each written by `write(case,
    decide, *args, at=…, **options)`: into the session (`flask demo load`) or as rows by the
    bulk writer (`flask demo generate`). `case` is a Case or the bulk writer's case."""

    def __init__(self, generator: "CaseGenerator", write: Callable):
        self.staff, self.users, self.write = generator.staff, generator.users, write
        self.scheduler = Actor.scheduler()

    def run(self, case, steps: list) -> None:
        for step in steps:
            getattr(self, f"_{step.action}")(case, step.at, **step.args)

    def _handler(self, case) -> Actor:
        """The mediator's login, if they have one, else the staff member."""
        user_id = case.mediator.user_id
        user = self.users.get(user_id) if user_id else None
        return Actor.for_user(user) if user is not None else self.staff

    def _route(self, case, at, organization, mediator) -> None:
        self.write(case, decide_route, organization, mediator, self.staff, at=at)

    def _reassign(self, case, at, mediator, reason) -> None:
        self.write(case, decide_reassign, mediator, reason, self.staff, at=at)

    def _session(self, case, at, held_at, place, is_online, attendance, minutes) -> None:
        self.write(
            case,
            decide_record_session,
            held_at,
            self._handler(case),
            place=place,
            is_online=is_online,
            attendance=attendance,
            minutes=minutes,
            at=at,
        )

    def _extend(self, case, at, days, reason, consents) -> None:
        given = {party.id: consent for party, consent in zip(case.parties, consents, strict=True)}
        self.write(case, decide_extend, days, given, self._handler(case), reason=reason, at=at)

    def _agree(self, case, at, signed_on, terms, obligations) -> None:
        owed = [
            ObligationData(
                obligor_id=case.parties[item["obligor"]].id,
                obligee_id=case.parties[item["obligee"]].id,
                description=item["description"],
                due_on=item["due_on"],
                amount=item["amount"],
            )
            for item in obligations
        ]
        self.write(case, decide_agree, signed_on, terms, owed, self._handler(case), at=at)

    def _fulfil(self, case, at, index, performed_on, by_party) -> None:
        obligation = case.agreement.obligations[index]
        actor = self.staff
        if by_party:
            obligee = next(p for p in case.parties if p.id == obligation.obligee_id)
            actor = Actor.for_party(obligee)
        self.write(case, decide_fulfil, obligation, performed_on, actor, at=at)

    def _confirm(self, case, at, court, ruling, confirmed_on) -> None:
        self.write(case, decide_confirm, court, ruling, confirmed_on, self.staff, at=at)

    def _default(self, case, at) -> None:
        self.write(case, decide_default, self.scheduler, at=at)

    def _enforce(self, case, at, court, note) -> None:
        self.write(case, decide_enforce, court, self.staff, note=note, at=at)

    def _divert(self, case, at, reason, court, note) -> None:
        self.write(case, decide_divert, reason, court, self.staff, note=note, at=at)

    def _fail(self, case, at, court, facts) -> None:
        documents = data.TRANSFER_DOCUMENTS
        self.write(case, decide_fail, court, facts, self._handler(case), documents=documents, at=at)

    def _litigate(self, case, at, party, court, note) -> None:
        if party is not None:
            actor, on_behalf_of = Actor.for_party(case.parties[party]), None
        else:  # the party asked at the counter; staff record it for the applicant
            actor = self.staff
            on_behalf_of = next(p for p in case.parties if p.role == "applicant")
        self.write(
            case,
            decide_request_litigation,
            actor,
            court=court,
            note=note,
            on_behalf_of=on_behalf_of,
            at=at,
        )

    def _correct(self, case, at, party, phone) -> None:
        data = intake_data_of(case)
        data.parties[party].phone = phone
        self.write(case, decide_correct, data, self.staff, at=at)

    def _complete_transfer(self, case, at, court, facts) -> None:
        self.write(case, decide_complete_transfer, court, facts, self.staff, at=at)

    def _expire(self, case, at) -> None:
        self.write(case, decide_expire, self.scheduler, at=at)

    def _withdraw(self, case, at, reason) -> None:
        self.write(case, decide_withdraw, reason, self.staff, at=at)

    def _follow_up(self, case, at, is_satisfied, note) -> None:
        self.write(case, decide_follow_up, is_satisfied, note, self.staff, at=at)
