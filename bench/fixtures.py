"""What the benchmark prepares in, and checks on, the run copy, through the app's own models:
known access codes, the cases to visit, deadlines made due, a ledger file, and afterwards
whether registration under load kept its promises."""

import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select, update

from mediation import create_app
from mediation.applications.decisions import ApplicationData, submit_application
from mediation.auth.models import ThrottleHit
from mediation.cases.access_codes import hash_access_code, new_access_code
from mediation.cases.identity import is_valid_resident_id
from mediation.cases.models import Case, CaseCounter, Party
from mediation.cases.states import IN_MEDIATION
from mediation.cases.workflow import PartyData
from mediation.demo.data import DEMO_CENTRE, DEMO_REGION, MEDIATORS
from mediation.directory.calendar import local_today
from mediation.directory.centres import add_centre, centre_by_code
from mediation.directory.terms import CATEGORIES, CHANNELS
from mediation.extensions import db

# Signs the bench's sessions and keys the access codes it sets; the server gets the same.
SECRET_KEY = "bench-secret-not-for-production"
CENTRE_CODE = DEMO_CENTRE[0]
REGION = DEMO_REGION


def bench_app(database_url: str) -> Flask:
    return create_app("production", SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY=SECRET_KEY)


def demo_centre():
    centre = centre_by_code(CENTRE_CODE)
    if centre is None:
        raise RuntimeError(f"the bench database has no demo centre {CENTRE_CODE}")
    return centre


def add_bench_centre(code: str, name: str, abbreviation: str) -> str:
    """A centre for the bench's own writes (on a base worked on in place: the undo removes
    it); its code."""
    add_centre(code, name, abbreviation)
    db.session.commit()
    return code


def _random_cases(count: int, other_than: int | None = None) -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            select(Case.id, Case.number)
            .where(Case.centre_id == demo_centre().id, Case.id != other_than)
            .order_by(func.random())
            .limit(count)
        )
    )


def random_case_ids(count: int) -> list[int]:
    return [case_id for case_id, _number in _random_cases(count)]


def issue_access_codes(count: int) -> list[tuple[str, str]]:
    """Gives the first party of `count` cases a known access code (stored hashed, as the app
    does); the (case number, code) pairs. The first is the party's case page's: the demo
    centre's first case being performed (agreed: its obligations and the button to confirm
    them), the same case on every base built from the same generation, so that the page's
    figure compares from one run to the next; the others are random."""
    first = db.session.execute(
        select(Case.id, Case.number)
        .where(Case.centre_id == demo_centre().id, Case.state == "agreed")
        .order_by(Case.id)
        .limit(1)
    ).one()
    cases = dict([tuple(first), *_random_cases(count - 1, other_than=first.id)])
    first_parties = db.session.execute(
        select(Party.case_id, func.min(Party.id))
        .where(Party.case_id.in_(cases))
        .group_by(Party.case_id)
        .order_by(Party.case_id != first.id)
    )
    pairs, changes = [], []
    for case_id, party_id in first_parties:
        code = new_access_code()
        pairs.append((cases[case_id], code))
        changes.append({"id": party_id, "access_code_hash": hash_access_code(cases[case_id], code)})
    db.session.execute(update(Party), changes)
    db.session.commit()
    return pairs


def submit_applications(count: int) -> list[tuple[str, str]]:
    """`count` online applications to the demo centre, through the app's own function (their
    codes hashed as the app does); the (application number, code) pairs."""
    centre = demo_centre()
    pairs = []
    for n in range(count):
        parties = [
            PartyData("applicant", "person", "申请人", "11010519491231002X", None, f"139{n:08d}"),
            PartyData("respondent", "person", "被申请人"),
        ]
        data = ApplicationData(centre, parties, "neighbour", "", "邻里纠纷。", "调解。")
        # Each as from its own client and mobile: the day's limits do not apply here.
        submitted = submit_application(data, [], f"bench-{n}", f"bench-application-{n}")
        pairs.append((submitted.application.number, submitted.code))
    db.session.commit()
    return pairs


def previous_month() -> str:
    """The last complete month in the demo centre's time zone, as YYYY-MM."""
    first_of_this_month = local_today(demo_centre()).replace(day=1)
    return f"{first_of_this_month - timedelta(days=1):%Y-%m}"


def make_deadlines_due(fraction: float) -> int:
    """Moves the deadline of `fraction` of the cases in mediation (at least one) to two days
    ago, so the next deadline sweep transfers them; how many."""
    centre = demo_centre()
    in_mediation = Case.state.in_([state.value for state in IN_MEDIATION])
    count = db.session.scalar(select(func.count()).where(Case.centre_id == centre.id, in_mediation))
    due = select(Case.id).where(Case.centre_id == centre.id, in_mediation).order_by(Case.id)
    ids = list(db.session.scalars(due.limit(max(1, math.ceil(count * fraction)))))
    past = local_today(centre) - timedelta(days=2)
    db.session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(deadline_on=past)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return len(ids)


# --- checks after the load ------------------------------------------------------------------


def registered_with_prefix(prefix: str) -> int:
    return db.session.scalar(select(func.count()).where(Case.intake_token.like(f"{prefix}%")))


def imported_with_prefix(prefix: str) -> int:
    return db.session.scalar(select(func.count()).where(Case.ledger_ref.like(f"{prefix}%")))


def duplicate_case_numbers() -> int:
    duplicates = (
        select(Case.centre_id, Case.number)
        .group_by(Case.centre_id, Case.number)
        .having(func.count() > 1)
    )
    return db.session.scalar(select(func.count()).select_from(duplicates.subquery()))


def numbering_gaps() -> list[str]:
    """Each centre and year whose case numbers are not exactly 1…last issued."""
    issued = (
        select(Case.centre_id, Case.year, func.count(), func.min(Case.seq), func.max(Case.seq))
        .group_by(Case.centre_id, Case.year)
        .subquery()
    )
    rows = db.session.execute(
        select(CaseCounter.centre_id, CaseCounter.year, CaseCounter.last_seq, *issued.c[2:]).join(
            issued,
            (issued.c.centre_id == CaseCounter.centre_id) & (issued.c.year == CaseCounter.year),
        )
    )
    return [
        f"centre {centre_id} year {year}: {count} cases, numbers {low}–{high}, counter {last}"
        for centre_id, year, last, count, low, high in rows
        if not (low == 1 and high == count == last)
    ]


def failed_lookups() -> int:
    return db.session.scalar(select(func.count()).where(ThrottleHit.scope.like("portal%")))


# --- forms and files ------------------------------------------------------------------------


def resident_id() -> str:
    """A resident ID number that passes the checksum."""
    body = "33010619850307123"
    return next(body + check for check in "0123456789X" if is_valid_resident_id(body + check))


def intake_form(csrf_token: str) -> dict:
    """A valid intake form without its `submission` token: an applicant with an ID number and a
    mobile, a respondent with a name only."""
    return {
        "csrf_token": csrf_token,
        "channel": "walk_in",
        "category": "neighbour",
        "street": "西溪街道",
        "address": "文三路 100 号",
        "amount": "12000.00",
        "people_involved": "2",
        "risk_level": "low",
        "summary": "邻居装修噪音及漏水纠纷，双方协商未果。",
        "claims": "赔偿漏水损失。",
        "parties-0-role": "applicant",
        "parties-0-kind": "person",
        "parties-0-name": "王小明",
        "parties-0-id_number": resident_id(),
        "parties-0-phone": "13800001234",
        "parties-0-address": "文三路 100 号 301 室",
        "parties-1-role": "respondent",
        "parties-1-kind": "person",
        "parties-1-name": "李大海",
    }


LEDGER_HEADER = (
    "ref",
    "registered_on",
    "channel",
    "category",
    "applicant",
    "respondent",
    "amount",
    "summary",
    "organization",
    "mediator",
    "assigned_on",
    "outcome",
    "transfer_reason",
    "concluded_on",
    "agreement_amount",
    "due_on",
    "fulfilled_on",
)


def write_ledger(path: Path, rows: int, prefix: str) -> None:
    """A valid ledger (SPEC 5) of `rows` historical cases of the demo centre's organisations
    and mediators: half agreed (most performed on time), transfers after failed mediation,
    withdrawals, diversions to court, and some still open."""
    generator = random.Random(8)
    first_day, channels, categories = date(2020, 1, 1), list(CHANNELS), list(CATEGORIES)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(LEDGER_HEADER)
        for number in range(rows):
            registered = first_day + timedelta(days=generator.randrange(5 * 365))
            mediator = generator.choice(MEDIATORS)
            row = {
                "ref": f"{prefix}{number:07d}",
                "registered_on": registered.isoformat(),
                "channel": generator.choice(channels),
                "category": generator.choice(categories),
                "applicant": f"申请人{number}",
                "respondent": f"被申请人{number}",
                "amount": f"{generator.randrange(1000, 500000)}.00",
                "summary": "台账导入的历史案件",
                **_ledger_outcome(number % 10, registered, mediator),
            }
            writer.writerow([row.get(name, "") for name in LEDGER_HEADER])


def _ledger_outcome(kind: int, registered: date, mediator) -> dict:
    assigned = {
        "organization": mediator.organization,
        "mediator": mediator.name,
        "assigned_on": (registered + timedelta(days=2)).isoformat(),
    }
    concluded = (registered + timedelta(days=12)).isoformat()
    if kind < 5:
        due = registered + timedelta(days=40)
        performed = {"fulfilled_on": (due - timedelta(days=kind)).isoformat()} if kind else {}
        return {
            **assigned,
            "outcome": "agreed",
            "concluded_on": concluded,
            "agreement_amount": "8000.00",
            "due_on": due.isoformat(),
            **performed,
        }
    if kind < 7:
        return {
            **assigned,
            "outcome": "transferred",
            "transfer_reason": "failed",
            "concluded_on": concluded,
        }
    if kind == 7:
        return {**assigned, "outcome": "withdrawn", "concluded_on": concluded}
    if kind == 8:
        diverted = {"outcome": "transferred", "transfer_reason": "unsuitable"}
        return {**diverted, "concluded_on": concluded}
    return {}
