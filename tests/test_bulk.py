"""The bulk writer writes what the workflow's session applier would have written.

Both write the changes the workflow decides; these tests keep the two appliers equal. The
same ledger goes into two centres: one through the import (the bulk writer), one replayed
move by move through `workflow`'s session applier (tests/workflow_replay.py). Every row of
every table must agree, ids and random codes aside. The ledger has a case for each path:
open, routed, withdrawn before and after routing, each transfer reason, agreements without
obligations, open, performed early, on time, late, very late and never, judicial
confirmations before and after a default, organisations among the parties, a high amount,
and registrations over New Year with a holiday and a working Sunday (numbering per year,
triage due dates by the calendar).
"""

import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from mediation import clock
from mediation.cases.models import (
    Agreement,
    Case,
    CaseCounter,
    CaseEvent,
    Extension,
    FollowUp,
    MediationSession,
    Transfer,
)
from mediation.cases.workflow import MOVES, Actor
from mediation.demo.cases import SCENARIOS, SEED, CaseGenerator
from mediation.demo.data import load_demo, staff_user
from mediation.demo.scale import BulkReplay
from mediation.directory.models import CalendarDay, CentreCategory, Mediator, Organization
from mediation.extensions import db as _db
from mediation.integrity.models import Certificate, IntegrityRecord, Obligation
from mediation.ledger import importer
from mediation.ledger.importer import check_ledger, import_ledger
from mediation.notify import outbox
from tests.case_factory import centre_for, user_for
from tests.ledger_rows import row, to_csv
from tests.workflow_replay import replay

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
ORG, MEDIATOR = "城东人民调解委员会", "李调解"
ROUTED = {"organization": ORG, "mediator": MEDIATOR}


def agreed(ref, **values) -> dict:
    base = {
        "registered_on": "2025-05-06",
        "assigned_on": "2025-05-07",
        "outcome": "agreed",
        "concluded_on": "2025-06-02",
        "agreement_amount": "8000",
        **ROUTED,
    }
    return row(ref, **{**base, **values})


def transferred(ref, reason, routed=True, **values) -> dict:
    base = {
        "registered_on": "2025-05-06",
        "outcome": "transferred",
        "transfer_reason": reason,
        "concluded_on": "2025-05-20",
        **({**ROUTED, "assigned_on": "2025-05-07"} if routed else {}),
    }
    return row(ref, **{**base, **values})


LEDGER = [
    row("open", registered_on="2025-12-31", amount="2000000", category="lending"),
    row("routed", registered_on="2026-01-01", assigned_on="2026-01-05", **ROUTED),
    row("lent", registered_on="2026-01-05", assigned_on="2026-01-06", category="lending", **ROUTED),
    row("withdrawn-early", outcome="withdrawn", concluded_on="2025-03-04"),
    row(
        "withdrawn-late",
        assigned_on="2025-03-04",
        outcome="withdrawn",
        concluded_on="2025-03-10",
        **ROUTED,
    ),
    transferred("unsuitable", "unsuitable", routed=False),
    transferred("refused", "respondent_refused", routed=False),
    transferred("failed", "failed"),
    transferred("party", "party_request", applicant="杭州某某有限公司、王五"),
    transferred("expired", "deadline_expired", concluded_on="2025-07-15"),
    agreed("no-obligation"),
    agreed("open-obligation", due_on="2026-07-01"),
    agreed("early", due_on="2025-06-30", fulfilled_on="2025-06-20", confirmed_on="2025-06-10"),
    agreed("on-time", due_on="2025-06-30", fulfilled_on="2025-06-30", respondent="某某物业公司"),
    agreed("late", due_on="2025-06-30", fulfilled_on="2025-07-10"),
    agreed("very-late", due_on="2025-06-30", fulfilled_on="2025-08-15"),
    agreed("unmet", due_on="2025-06-30", confirmed_on="2025-07-05", agreement_amount=""),
]


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def prepare(code: str):
    centre = centre_for(code)
    organization = Organization(centre_id=centre.id, name=ORG, kind="people")
    _db.session.add(organization)
    _db.session.flush()
    _db.session.add(Mediator(centre_id=centre.id, organization_id=organization.id, name=MEDIATOR))
    _db.session.add(CentreCategory(centre_id=centre.id, category_code="lending", mediation_days=45))
    _db.session.add(CalendarDay(centre_id=centre.id, day=date(2026, 1, 2), is_workday=False))
    _db.session.add(CalendarDay(centre_id=centre.id, day=date(2026, 1, 4), is_workday=True))
    _db.session.flush()
    return centre


def snapshot(centre, key="ledger_ref") -> dict:
    """Everything written for a centre's cases, by ledger ref (or number), with ids turned
    into what they point at (a party's position, an organisation's name)."""
    result = {}
    for case in _db.session.scalars(select(Case).where(Case.centre_id == centre.id)):
        _db.session.refresh(case)
        positions = {p.id: p.position for p in case.parties}
        obligations = _rows(Obligation, case, "id", "agreement_id")
        result[getattr(case, key)] = {
            # The version counts flushes, which differ by design (one insert here, one
            # update per move there); the optimistic lock needs only that it moves.
            "case": _directory_names(_columns(case, "id", "centre_id", "number", "version")),
            # Replayed history has no access codes (nobody was ever given one): see below.
            "parties": [
                _columns(p, "id", "case_id", "access_code_hash", "access_code_issued_at")
                for p in case.parties
            ],
            "events": [
                {**e, "details": {k: v for k, v in e["details"].items() if k != "number"}}
                for e in _rows(CaseEvent, case, "id")
            ],
            "sessions": _rows(MediationSession, case, "id"),
            "extensions": [
                {**e, "consents": sorted(e["consents"].values())}
                for e in _rows(Extension, case, "id")
            ],
            "follow_ups": _rows(FollowUp, case, "id"),
            "transfer": _rows(Transfer, case, "id"),
            "agreement": _rows(Agreement, case, "id"),
            "obligations": [
                {
                    **o,
                    "obligor_id": positions[o["obligor_id"]],
                    "obligee_id": positions[o["obligee_id"]],
                }
                for o in obligations
            ],
            "records": _records(case, positions),
        }
    return result


def _directory_names(columns: dict) -> dict:
    """Organisation and mediator ids → names: each centre has its own rows."""
    for key, model in (
        ("organization_id", Organization),
        ("concluded_organization_id", Organization),
        ("mediator_id", Mediator),
        ("concluded_mediator_id", Mediator),
    ):
        if columns[key] is not None:
            columns[key] = _db.session.get(model, columns[key]).name
    return columns


def _records(case, positions) -> list[dict]:
    records = _db.session.scalars(
        select(IntegrityRecord)
        .where(IntegrityRecord.case_id == case.id)
        .order_by(IntegrityRecord.id)
    )
    result = []
    for record in records:
        item = _columns(record, "id", "case_id", "centre_id", "dedupe_key", "obligation_id")
        item["party_id"] = positions[record.party_id]
        item["dedupe"] = record.dedupe_key.split(":")[0]
        certificate = _db.session.scalar(select(Certificate).filter_by(record_id=record.id))
        if certificate is not None:
            item["certificate"] = _columns(
                certificate, "id", "record_id", "centre_id", "number", "verification_code"
            )
            key = item["certificate"]["holder_key"]  # a person without an ID: its party
            if key.startswith("party:"):
                item["certificate"]["holder_key"] = f"party:{positions[int(key[6:])]}"
            assert certificate.number.endswith(f"-{record.id:06d}")
            assert len(certificate.verification_code) == 8
        result.append(item)
    return result


def _columns(obj, *ignored) -> dict:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns if c.key not in ignored}


def _rows(model, case, *ignored) -> list[dict]:
    """The case's rows of `model`; a row's centre as whether it is the case's (each centre of
    the comparison has its own id)."""
    objects = _db.session.scalars(select(model).where(model.case_id == case.id).order_by(model.id))
    rows = [_columns(o, "case_id", *ignored) for o in objects]
    for columns in rows:
        if "centre_id" in columns:
            columns["centre_id"] = columns["centre_id"] == case.centre_id
    return rows


def test_the_import_writes_what_the_workflow_would_have_written(db, monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 4)  # written in chunks, as big ledgers are
    data = to_csv(LEDGER)
    reference = prepare("330108")
    ledger = check_ledger(reference, data)
    assert not ledger.problems and len(ledger.rows) == len(LEDGER)
    staff = user_for(reference, "staff")
    # In the order the import replays them: of registration, then the ledger's.
    in_order = sorted(ledger.rows, key=lambda r: (r.registered_on, r.line))
    replay(reference, in_order, Actor.ledger_import(staff))
    _db.session.commit()

    centre = prepare("330106")
    result = import_ledger(centre, data, user=user_for(centre, "staff"))
    assert result.ok, result.problems
    _db.session.commit()

    expected, actual = snapshot(reference), snapshot(centre)
    assert sorted(actual) == sorted(expected) == sorted(r["ref"] for r in LEDGER)
    for ref in expected:
        for part in expected[ref]:
            # actor_id and registered_by_id differ: each centre has its own staff user.
            assert _same_user(actual[ref][part]) == _same_user(expected[ref][part]), (ref, part)
    # The ledger covers what it claims to: every state an import can leave a case in.
    states = {c["case"]["state"] for c in actual.values()}
    assert states == {
        "registered",
        "assigned",
        "withdrawn",
        "transferred",
        "agreed",
        "fulfilled",
        "defaulted",
    }
    kinds = [r["kind"] for c in actual.values() for r in c["records"]]
    assert sorted(kinds) == ["negative", "negative", "positive", "positive"]


def _same_user(value):
    """Ids that differ by nature (each centre has its own staff user) read alike, when they
    are there at all; and so do transactions."""
    if isinstance(value, list):
        return [_same_user(v) for v in value]
    if isinstance(value, dict):
        return {
            k: (
                "<user>"
                if k in ("actor_id", "registered_by_id", "recorded_by_id") and v
                else _same_user(v)
            )
            for k, v in _same_transaction(value).items()
        }
    return value


def _same_transaction(value):
    """An event's txid (PostgreSQL: the transaction that wrote it) reads alike, when it is
    there at all: each write is its own transaction."""
    if isinstance(value, list):
        return [_same_transaction(v) for v in value]
    if isinstance(value, dict):
        return {k: "<transaction>" if k == "txid" and v else v for k, v in value.items()}
    return value


def test_numbers_continue_the_counter_and_stay_gapless(db):
    centre = prepare("330106")
    first = import_ledger(centre, to_csv(LEDGER[:2]))
    assert first.ok
    _db.session.commit()
    second = import_ledger(centre, to_csv(LEDGER[2:]))
    assert second.ok
    _db.session.commit()
    numbers = _db.session.execute(
        select(Case.year, Case.seq, Case.number)
        .where(Case.centre_id == centre.id)
        .order_by(Case.year, Case.seq)
    ).all()
    by_year = {}
    for year, seq, number in numbers:
        by_year.setdefault(year, []).append(seq)
        assert number == f"{centre.abbreviation}调〔{year}〕{seq}号"
    assert by_year == {2025: list(range(1, 16)), 2026: [1, 2]}


def test_a_write_the_database_refuses_fails_the_import_and_writes_nothing(db, monkeypatch):
    """A refusal of the database while rows are written in bulk (here a counter set back, so
    the numbers are issued again) fails the import as an IntegrityError on either engine."""
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 4)
    centre = prepare("330106")
    assert import_ledger(centre, to_csv(LEDGER[:6])).ok
    _db.session.commit()
    _db.session.execute(update(CaseCounter).values(last_seq=0))
    _db.session.commit()
    more = [{**item, "ref": f"again-{item['ref']}"} for item in LEDGER[:6]]
    with pytest.raises(IntegrityError):
        import_ledger(centre, to_csv(more))
    _db.session.rollback()
    refs = _db.session.scalars(select(Case.ledger_ref).where(Case.centre_id == centre.id))
    assert sorted(refs) == sorted(item["ref"] for item in LEDGER[:6])


def test_the_demo_generator_writes_what_the_workflow_would_have_written(db):
    """`flask demo generate` (the planner's timelines through the bulk writer) against
    `flask demo load` (the same timelines through the workflow), for every scenario."""
    centre = load_demo()
    _db.session.commit()

    def plan():
        generator = CaseGenerator(centre, staff_user(), clock.now(), random.Random(SEED))
        drafts = generator.plan(len(SCENARIOS) * 4)
        drafts.sort(key=lambda draft: draft.steps[0].at)
        return generator, drafts

    generator, drafts = plan()
    with outbox.suppressed():
        for draft in drafts:
            generator.replay(draft)
    _db.session.flush()
    expected = snapshot(centre, key="number")
    _db.session.rollback()

    generator, drafts = plan()
    replay = BulkReplay(generator)
    for draft in drafts:
        replay.run(draft)
    replay.writer.flush()
    actual = snapshot(centre, key="number")

    assert len(actual) == len(expected) == len(drafts)
    assert sorted(actual) == sorted(expected)
    for number in expected:
        for part in expected[number]:
            same = _same_transaction
            assert same(actual[number][part]) == same(expected[number][part]), (number, part)
    actions = {e["action"] for c in actual.values() for e in c["events"]}
    # A move (移送) needs a second centre: the generator fills one.
    assert actions == set(MOVES) - {"record_filing", "new_access_code", "move"}
