"""The workflow of SPEC 3.2, without the web client.

The matrix tests every action × state × actor against the SPEC table written out below by
hand (not read back from `workflow.MOVES`); the other tests cover the guards and the dates.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow
from mediation.cases.access_codes import code_matches
from mediation.cases.models import Case, CaseEvent, Extension, Party
from mediation.cases.states import State
from mediation.cases.workflow import (
    Actor,
    ObligationData,
    StaleCase,
    WorkflowError,
    allowed_actions,
)
from mediation.directory.calendar import local_date
from mediation.directory.models import CentreSettings, Mediator, Organization
from mediation.extensions import db as extension_db
from mediation.integrity.models import Obligation
from tests.case_factory import COURT, build_case, centre_for, mediator_for, user_for
from tests.conftest import empty_tables

SHANGHAI = ZoneInfo("Asia/Shanghai")


def cst(year, month, day, hour=10, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


R, A, M = State.REGISTERED, State.ASSIGNED, State.MEDIATING
AG, F, D = State.AGREED, State.FULFILLED, State.DEFAULTED
T, W = State.TRANSFERRED, State.WITHDRAWN

# SPEC 3.2: action → (from-states, to-state (None: unchanged), roles). The rest come from the
# prose: follow-up visits after a conclusion, the court's filing number after a transfer,
# staff regenerating a party's access code, and SPEC 3.9's corrections (staff until the case
# concludes, an administrator after: see CORRECTED_BY_ADMINS) and completed transfers.
SPEC_MOVES = {
    "route": ({R}, A, {"staff"}),
    "divert": ({R}, T, {"staff"}),
    "reassign": ({A, M}, None, {"staff"}),
    "record_session": ({A, M}, M, {"mediator", "staff"}),
    "extend": ({A, M}, None, {"mediator", "staff"}),
    "agree": ({M}, AG, {"mediator", "staff"}),  # with one obligation
    "fail": ({A, M}, T, {"mediator", "staff"}),
    "request_litigation": ({R, A, M}, T, {"party", "staff"}),
    "expire": ({A, M}, T, {"scheduler"}),
    "withdraw": ({R, A, M}, W, {"staff"}),
    "confirm": ({AG, F, D}, None, {"staff"}),
    "fulfil": ({AG, D}, F, {"staff", "party"}),  # the case's only obligation
    "default": ({AG}, D, {"scheduler"}),
    "enforce": ({D}, T, {"staff"}),
    "follow_up": ({AG, F, D, T, W}, None, {"staff"}),
    "record_filing": ({T}, None, {"staff"}),
    "new_access_code": (set(State), None, {"staff"}),
    "correct": ({R, A, M}, None, {"staff"}),
    "complete_transfer": ({T}, None, {"staff"}),
    # SPEC 10: to another centre before the conclusion, to be triaged there afresh.
    "move": ({R, A, M}, R, {"staff"}),
}
CONCLUDED = {AG, F, D, T, W}
ADMINS = {"admin", "global_admin"}

# Who acts → the role they hold on the case under test; None: the case is not theirs.
ACTORS = {
    "staff": "staff",
    "admin": "staff",
    "global_admin": "staff",
    "assigned_mediator": "mediator",
    "other_mediator": None,
    "other_centre_staff": None,
    "party": "party",
    "other_case_party": None,
    "scheduler": "scheduler",
}

WORLD_TIME = cst(2026, 3, 2, 9)  # a Monday
# What a session that has been held needs recorded (SPEC 3.2).
HELD = {"attendance": "双方当事人到场", "minutes": "双方陈述意见"}
ACT_TIME = WORLD_TIME + timedelta(hours=2)


def is_allowed(action: str, state: State, actor_kind: str) -> bool:
    sources, _target, roles = SPEC_MOVES[action]
    if action == "correct" and state in CONCLUDED:
        return actor_kind in ADMINS
    return state in sources and ACTORS[actor_kind] in roles


def test_the_table_has_a_row_for_every_action():
    assert set(workflow.MOVES) == set(SPEC_MOVES) | {"register"}


# --- the matrix -----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fixed_clock():
    with clock.frozen_at(WORLD_TIME):
        yield


@pytest.fixture(scope="class")
def world(app):
    """One committed case in every state, and everyone who might act on them. Each test acts
    inside its own transaction, which the `db` fixture rolls back."""
    with app.app_context(), clock.frozen_at(WORLD_TIME):
        cases = {state: build_case(state) for state in State}
        centre = centre_for()
        other_case = build_case()
        other_mediator = mediator_for(centre, "赵调解", username="mediator-zhao")
        world = SimpleNamespace(
            cases={state: case.id for state, case in cases.items()},
            users={
                "staff": user_for(centre, "staff").id,
                "admin": user_for(centre, "admin").id,
                "global_admin": user_for(None, "admin").id,
                "assigned_mediator": cases[M].mediator.user_id,
                "other_mediator": other_mediator.user_id,
                "other_centre_staff": user_for(centre_for("330105"), "staff").id,
            },
            other_case_party=other_case.applicants[0].id,
            other_mediator=other_mediator.id,
            other_obligation=cases[AG].agreement.obligations[0].id,
        )
        extension_db.session.commit()
        yield world
        extension_db.session.remove()
        empty_tables()


def actor_for(db, kind: str, case: Case, world) -> Actor:
    if kind == "scheduler":
        return Actor.scheduler()
    if kind == "party":
        return Actor.for_party(case.applicants[0])  # the obligee of the one obligation
    if kind == "other_case_party":
        return Actor.for_party(db.session.get(Party, world.other_case_party))
    return Actor.for_user(db.session.get(User, world.users[kind]))


def noon_after(day) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(12), SHANGHAI)


def _obligation(db, case: Case, world) -> Obligation:
    if case.agreement is not None:
        return case.agreement.obligations[0]
    return db.session.get(Obligation, world.other_obligation)


def perform(db, action: str, case: Case, actor: Actor, world):
    """The action with valid input, so only the table and the actor decide."""
    today = local_date(clock.now(), case.centre)
    mediator = case.mediator or mediator_for(case.centre)
    if action == "route":
        return workflow.route_case(case, mediator.organization, mediator, actor)
    if action == "divert":
        return workflow.divert_case(case, "unsuitable", COURT, actor)
    if action == "reassign":
        other = db.session.get(Mediator, world.other_mediator)
        return workflow.reassign_case(case, other, "原调解员回避", actor)
    if action == "record_session":
        return workflow.record_session(case, clock.now(), actor, place="第二调解室", **HELD)
    if action == "extend":
        consents = {party.id: "当面同意" for party in case.parties}
        return workflow.extend_deadline(case, 10, consents, actor)
    if action == "agree":
        owed = ObligationData(
            case.respondents[0].id, case.applicants[0].id, "赔偿", today + timedelta(days=30)
        )
        return workflow.agree_case(case, today, "赔偿三千元", [owed], actor)
    if action == "fail":
        return workflow.fail_case(case, COURT, "事实无争议", actor)
    if action == "request_litigation":
        party = case.applicants[0] if actor.kind != "party" else None
        return workflow.request_litigation(case, actor, on_behalf_of=party)
    if action == "expire":
        at = noon_after(case.deadline_on) if case.deadline_on else None
        return workflow.expire_case(case, actor, at=at)
    if action == "withdraw":
        return workflow.withdraw_case(case, "申请人撤回", actor)
    if action == "confirm":
        return workflow.confirm_agreement(case, COURT, "（2026）浙0106民特1号", today, actor)
    if action == "fulfil":
        return workflow.fulfil_obligation(case, _obligation(db, case, world), today, actor)
    if action == "default":
        agreement = case.agreement
        at = noon_after(agreement.obligations[0].due_on) if agreement else None
        return workflow.default_case(case, actor, at=at)
    if action == "enforce":
        return workflow.enforce_agreement(case, COURT, actor)
    if action == "follow_up":
        return workflow.record_follow_up(case, True, "满意", actor)
    if action == "record_filing":
        return workflow.record_court_filing(case, "（2026）浙0106民初88号", actor)
    if action == "new_access_code":
        return workflow.regenerate_access_code(case, case.parties[0], actor)
    if action == "correct":
        data = workflow.intake_data_of(case)
        data.parties[1].phone = "13900001111"
        return workflow.correct_case(case, data, actor)
    if action == "complete_transfer":
        return workflow.complete_transfer(case, "杭州市中级人民法院", "事实无争议", actor)
    if action == "move":
        return workflow.move_case(case, centre_for("330105"), "属拱墅区管辖", actor)
    raise AssertionError(f"no way to perform {action}")


def events_of(db, case: Case) -> list[CaseEvent]:
    return db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
    ).all()


class TestMatrix:
    @pytest.fixture(autouse=True)
    def _clean_database(self):
        """The class shares one world, emptied once at its end (overrides conftest's)."""
        yield

    @pytest.mark.parametrize("actor_kind", list(ACTORS))
    @pytest.mark.parametrize("state", list(State))
    @pytest.mark.parametrize("action", list(SPEC_MOVES))
    def test_move(self, db, world, action, state, actor_kind):
        with clock.frozen_at(ACT_TIME):
            case = db.session.get(Case, world.cases[state])
            actor = actor_for(db, actor_kind, case, world)
            before = len(events_of(db, case))
            version = case.version

            if not is_allowed(action, state, actor_kind):
                with pytest.raises(WorkflowError) as refusal:
                    perform(db, action, case, actor, world)
                assert str(refusal.value)
                assert not db.session.new and not db.session.dirty, "a refusal changed data"
                db.session.flush()
                assert case.state == state
                assert len(events_of(db, case)) == before
                return

            perform(db, action, case, actor, world)
            db.session.flush()

        target = SPEC_MOVES[action][1] or state
        assert case.state == target
        assert case.version > version  # a concurrent edit of the case now conflicts
        events = events_of(db, case)
        assert len(events) == before + 1
        event = events[-1]
        assert (event.action, event.from_state, event.to_state) == (action, state, target)
        assert event.actor_kind == actor.kind
        assert event.actor_id == (actor.user.id if actor.user else None)
        assert event.actor_name == actor.name

    @pytest.mark.parametrize("actor_kind", list(ACTORS))
    @pytest.mark.parametrize("state", list(State))
    def test_allowed_actions(self, db, world, state, actor_kind):
        case = db.session.get(Case, world.cases[state])
        listed = allowed_actions(case, actor_for(db, actor_kind, case, world))
        expected = {action for action in SPEC_MOVES if is_allowed(action, state, actor_kind)}
        assert len(listed) == len(set(listed))
        assert set(listed) == expected

    @pytest.mark.parametrize("actor_kind", list(ACTORS))
    def test_register(self, db, world, actor_kind):
        case = db.session.get(Case, world.cases[R])
        actor = actor_for(db, actor_kind, case, world)
        data = workflow.IntakeData("walk_in", "family", _two_parties())
        if ACTORS[actor_kind] != "staff":
            with pytest.raises(WorkflowError):
                workflow.register_case(case.centre, data, actor)
            return
        with clock.frozen_at(ACT_TIME):
            registered = workflow.register_case(case.centre, data, actor).case
        (event,) = events_of(db, registered)
        assert (event.action, event.from_state, event.to_state) == ("register", None, R)
        assert event.actor_id == actor.user.id
        assert registered.registered_by_id == actor.user.id


def _two_parties():
    return [
        workflow.PartyData("applicant", "person", "王五"),
        workflow.PartyData("respondent", "organization", "某某物业公司"),
    ]


# --- registration and access codes ----------------------------------------------------------


def test_registration_gives_every_party_a_working_access_code(db, make_case):
    case = make_case()
    assert set(case.access_codes) == {party.id for party in case.parties}
    for party in case.parties:
        code = case.access_codes[party.id]
        assert code_matches(case.number, code, party.access_code_hash)
    first, second = case.parties
    assert not code_matches(case.number, case.access_codes[first.id], second.access_code_hash)


def test_registration_needs_an_applicant_and_a_respondent(db, make_case):
    case = make_case()
    staff = Actor.for_user(case.registered_by)
    only_applicants = [workflow.PartyData("applicant", "person", "王五")]
    with pytest.raises(WorkflowError):
        workflow.register_case(
            case.centre, workflow.IntakeData("walk_in", "family", only_applicants), staff
        )


def test_a_regenerated_access_code_replaces_the_old_one(db, make_case):
    case = make_case("mediating")
    party = case.parties[1]
    old = case.access_codes[party.id]
    new = workflow.regenerate_access_code(case, party, Actor.for_user(case.registered_by))
    assert new != old
    assert code_matches(case.number, new, party.access_code_hash)
    assert not code_matches(case.number, old, party.access_code_hash)


# --- conclusion -----------------------------------------------------------------------------


def test_conclusion_is_the_agreement_and_enforcement_does_not_move_it(db, make_case):
    case = make_case("mediating", at=cst(2026, 3, 2))
    staff = Actor.for_user(case.registered_by)
    owed = ObligationData(
        case.respondents[0].id, case.applicants[0].id, "赔偿", cst(2026, 3, 10).date()
    )
    agreed_at = cst(2026, 3, 5, 23, 30)  # 15:30 UTC: the local date is still 5 March
    workflow.agree_case(case, cst(2026, 3, 5).date(), "赔偿", [owed], staff, at=agreed_at)
    assert case.state == AG
    assert (case.concluded_at, case.concluded_on, case.outcome) == (
        agreed_at,
        cst(2026, 3, 5).date(),
        "agreed",
    )
    assert case.concluded_mediator_id == case.mediator_id
    workflow.default_case(case, Actor.scheduler(), at=cst(2026, 3, 11))
    workflow.confirm_agreement(
        case, COURT, "（2026）浙0106民特2号", cst(2026, 3, 11).date(), staff, at=cst(2026, 3, 11)
    )
    workflow.enforce_agreement(case, COURT, staff, at=cst(2026, 3, 20))
    db.session.commit()  # the conclusion constraints hold in the database
    db.session.expire_all()

    assert case.state == T
    assert (case.concluded_at, case.outcome, case.transfer_reason) == (agreed_at, "agreed", None)
    assert case.transfer.reason == "enforcement"


@pytest.mark.parametrize(
    "act, state, outcome, transfer_reason",
    [
        (
            lambda case, staff, at: workflow.withdraw_case(case, "撤回", staff, at=at),
            W,
            "withdrawn",
            None,
        ),
        (
            lambda case, staff, at: workflow.fail_case(case, COURT, "事实", staff, at=at),
            T,
            "transferred",
            "failed",
        ),
        (
            lambda case, staff, at: workflow.agree_case(case, at.date(), "互谅", [], staff, at=at),
            F,
            "agreed",
            None,
        ),
    ],
    ids=["withdrawn", "transferred", "fulfilled"],
)
def test_conclusion_is_set_on_first_entry_and_never_moves(
    db, make_case, act, state, outcome, transfer_reason
):
    case = make_case("mediating", at=cst(2026, 3, 2))
    staff = Actor.for_user(case.registered_by)
    concluded_at = cst(2026, 3, 9, 1, 30)  # 8 March 17:30 UTC
    act(case, staff, concluded_at)
    assert case.state == state
    assert case.concluded_at == concluded_at
    assert case.concluded_on == cst(2026, 3, 9).date()
    assert (case.outcome, case.transfer_reason) == (outcome, transfer_reason)

    with clock.frozen_at(cst(2026, 4, 1)):
        workflow.record_follow_up(case, False, "不满意", staff)
        workflow.regenerate_access_code(case, case.parties[0], staff)
        if state == T:
            workflow.record_court_filing(case, "（2026）浙0106民初9号", staff)
    db.session.commit()
    db.session.expire_all()
    assert (case.concluded_at, case.outcome) == (concluded_at, outcome)


def test_open_cases_are_not_concluded(db, make_case):
    for state in (R, A, M):
        case = make_case(state)
        assert (case.concluded_at, case.concluded_on, case.outcome) == (None, None, None)


# --- agreement and performance --------------------------------------------------------------


def agree_with(case, staff, *due_days, at=None):
    at = at or clock.now()
    signed_on = local_date(at, case.centre)
    owed = [
        ObligationData(
            case.respondents[0].id,
            case.applicants[0].id,
            f"第{n}期",
            signed_on + timedelta(days=days),
            Decimal("1000.00"),
        )
        for n, days in enumerate(due_days, start=1)
    ]
    return workflow.agree_case(case, signed_on, "分期支付", owed, staff, at=at)


def test_agreement_without_obligations_is_fulfilled(db, make_case):
    case = make_case("mediating")
    workflow.agree_case(
        case,
        local_date(clock.now(), case.centre),
        "互相谅解",
        [],
        Actor.for_user(case.registered_by),
    )
    assert case.state == F
    assert case.outcome == "agreed"
    assert events_of(db, case)[-1].to_state == F


def test_performing_the_last_obligation_fulfils_the_case(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    first, second = agree_with(case, staff, 10, 20).obligations
    today = local_date(clock.now(), case.centre)

    workflow.fulfil_obligation(case, second, today, staff)
    assert case.state == AG
    workflow.fulfil_obligation(case, first, today, staff)
    assert case.state == F
    assert [e.to_state for e in events_of(db, case)[-2:]] == [AG, F]


def test_only_the_obligee_may_confirm_performance(db, make_case):
    case = make_case("agreed")
    obligation = case.agreement.obligations[0]
    today = local_date(clock.now(), case.centre)
    obligor = Actor.for_party(obligation.obligor)
    with pytest.raises(WorkflowError) as refusal:
        workflow.fulfil_obligation(case, obligation, today, obligor)
    assert refusal.value.field == "obligation"
    assert obligation.fulfilled_on is None and case.state == AG

    workflow.fulfil_obligation(case, obligation, today, Actor.for_party(obligation.obligee))
    assert obligation.fulfilled_on == today and case.state == F


def test_only_obligees_are_offered_to_confirm_performance(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    applicant, respondent = case.applicants[0], case.respondents[0]
    today = local_date(clock.now(), case.centre)
    owed = [
        ObligationData(respondent.id, applicant.id, "付款", today + timedelta(days=5)),
        ObligationData(applicant.id, respondent.id, "撤回投诉", today + timedelta(days=5)),
    ]
    first, second = workflow.agree_case(case, today, "互负义务", owed, staff).obligations
    assert "fulfil" in allowed_actions(case, Actor.for_party(applicant))
    assert "fulfil" in allowed_actions(case, Actor.for_party(respondent))

    workflow.fulfil_obligation(case, first, today, Actor.for_party(applicant))
    assert "fulfil" not in allowed_actions(case, Actor.for_party(applicant))
    assert "fulfil" in allowed_actions(case, Actor.for_party(respondent))
    assert "fulfil" in allowed_actions(case, staff)


def test_an_obligation_is_performed_once_and_only_in_its_own_case(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    first, _second = agree_with(case, staff, 10, 20).obligations
    other = make_case("agreed")
    today = local_date(clock.now(), case.centre)
    workflow.fulfil_obligation(case, first, today, staff)
    with pytest.raises(WorkflowError):
        workflow.fulfil_obligation(case, first, today, staff)
    with pytest.raises(WorkflowError):
        workflow.fulfil_obligation(case, other.agreement.obligations[0], today, staff)
    assert other.agreement.obligations[0].fulfilled_on is None


def test_default_only_once_an_obligation_is_overdue(db, make_case):
    case = make_case("agreed", at=cst(2026, 3, 2))
    obligation = case.agreement.obligations[0]
    due = obligation.due_on
    scheduler = Actor.scheduler()
    with pytest.raises(WorkflowError):
        workflow.default_case(case, scheduler, at=datetime.combine(due, time(23), SHANGHAI))
    assert case.state == AG and obligation.defaulted_at is None

    defaulted_at = datetime.combine(due + timedelta(days=1), time(0, 5), SHANGHAI)
    workflow.default_case(case, scheduler, at=defaulted_at)
    assert case.state == D
    assert obligation.defaulted_at == defaulted_at


# --- extension, reassignment, expiry --------------------------------------------------------


def consents_of(case, missing=()):
    return {p.id: "" if p.name in missing else "电话同意" for p in case.parties}


def test_extension_needs_every_partys_consent(db, make_case):
    case = make_case("mediating")
    deadline = case.deadline_on
    staff = Actor.for_user(case.registered_by)
    with pytest.raises(WorkflowError, match="李四"):
        workflow.extend_deadline(case, 10, consents_of(case, missing=["李四"]), staff)
    with pytest.raises(WorkflowError):
        workflow.extend_deadline(case, 10, {case.parties[0].id: "同意"}, staff)
    assert case.deadline_on == deadline and case.extension_days == 0
    assert db.session.scalar(select(func.count()).select_from(Extension)) == 0


def test_extension_moves_the_deadline_and_asks_for_a_new_warning(db, make_case):
    case = make_case("mediating", at=cst(2026, 3, 2))
    mediator = Actor.for_user(db.session.get(User, case.mediator.user_id))
    case.warned_at = cst(2026, 3, 27)
    deadline = case.deadline_on
    extension = workflow.extend_deadline(case, 12, consents_of(case), mediator, reason="需鉴定")
    assert case.deadline_on == deadline + timedelta(days=12)
    assert case.extension_days == 12
    assert case.warned_at is None
    assert (extension.previous_deadline_on, extension.deadline_on) == (deadline, case.deadline_on)
    assert set(extension.consents) == {str(p.id) for p in case.parties}


def test_extensions_stay_within_the_allowance(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    deadline = case.deadline_on
    workflow.extend_deadline(case, 20, consents_of(case), staff)
    for days in (11, 0, -1):
        with pytest.raises(WorkflowError):
            workflow.extend_deadline(case, days, consents_of(case), staff)
    workflow.extend_deadline(case, 10, consents_of(case), staff)
    assert case.deadline_on == deadline + timedelta(days=30)
    assert "extend" not in allowed_actions(case, staff)
    with pytest.raises(WorkflowError):
        workflow.extend_deadline(case, 1, consents_of(case), staff)


def test_the_centre_settings_decide_the_allowance(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    settings = CentreSettings(centre_id=case.centre_id, extension_max_days=15)
    db.session.add(settings)
    with pytest.raises(WorkflowError):
        workflow.extend_deadline(case, 16, consents_of(case), staff)
    workflow.extend_deadline(case, 15, consents_of(case), staff)

    settings.extension_max_days, settings.extensions_allowed = 60, False
    assert "extend" not in allowed_actions(case, staff)
    with pytest.raises(WorkflowError):
        workflow.extend_deadline(case, 1, consents_of(case), staff)
    assert case.extension_days == 15


def test_reassignment_keeps_the_deadline(db, make_case):
    case = make_case("mediating", at=cst(2026, 3, 2))
    staff = Actor.for_user(case.registered_by)
    deadline, routed_on = case.deadline_on, case.routed_on
    lawyers = Organization(centre_id=case.centre_id, name="西湖律师调解工作室", kind="lawyer")
    other = Mediator(centre_id=case.centre_id, organization=lawyers, name="陈律师")
    db.session.add_all([lawyers, other])
    db.session.flush()

    with pytest.raises(WorkflowError):
        workflow.reassign_case(case, other, "  ", staff)
    with pytest.raises(WorkflowError):
        workflow.reassign_case(case, case.mediator, "换人", staff)
    workflow.reassign_case(case, other, "原调解员回避", staff, at=cst(2026, 3, 20))
    assert (case.mediator, case.organization) == (other, lawyers)
    assert (case.deadline_on, case.routed_on) == (deadline, routed_on)
    assert case.state == M


def test_no_mediator_of_another_centre_or_inactive(db, make_case):
    case = make_case("registered")
    staff = Actor.for_user(case.registered_by)
    foreign = mediator_for(centre_for("330105"), "孙调解", username=None)
    with pytest.raises(WorkflowError):
        workflow.route_case(case, foreign.organization, foreign, staff)
    idle = mediator_for(case.centre, "钱调解", username=None)
    idle.is_active = False
    with pytest.raises(WorkflowError):
        workflow.route_case(case, idle.organization, idle, staff)
    assert case.state == R and case.mediator_id is None


def test_expiry_comes_only_after_the_deadline(db, make_case):
    case = make_case("assigned", at=cst(2026, 3, 2))
    assert case.deadline_on == cst(2026, 4, 1).date()
    scheduler = Actor.scheduler()
    with pytest.raises(WorkflowError):
        workflow.expire_case(case, scheduler, at=cst(2026, 4, 1, 23, 59))
    workflow.extend_deadline(case, 5, consents_of(case), Actor.for_user(case.registered_by))
    with pytest.raises(WorkflowError):
        workflow.expire_case(case, scheduler, at=cst(2026, 4, 6, 23, 59))
    assert case.state == A

    workflow.expire_case(case, scheduler, at=cst(2026, 4, 7, 0, 1))
    assert case.state == T
    assert (case.transfer_reason, case.transfer.reason) == ("deadline_expired", "deadline_expired")
    assert case.transfer.transferred_on == cst(2026, 4, 7).date()


# --- concurrent edits -----------------------------------------------------------------------


def test_a_stale_form_is_refused(db, make_case):
    case = make_case("mediating")
    staff = Actor.for_user(case.registered_by)
    seen = case.version
    workflow.record_session(case, clock.now(), staff, is_online=True, expected_version=seen, **HELD)
    assert case.version == seen + 1
    with pytest.raises(StaleCase):
        workflow.withdraw_case(case, "撤回", staff, expected_version=seen)
    assert case.state == M


def _in_another_session(app, case_id, change):
    """Run `change(case)` in a second app context (another request) and commit it."""
    with app.app_context():
        change(extension_db.session.get(Case, case_id))
        extension_db.session.commit()


def _load_and_release(db, case_id) -> Case:
    """Load the case as a form would, then end the transaction but keep what was read."""
    db.session().expire_on_commit = False
    case = db.session.get(Case, case_id)
    _ = (case.parties, case.centre, case.mediator, case.agreement, case.registered_by)
    if case.agreement:
        _ = [o.fulfilled_on for o in case.agreement.obligations]
    db.session.commit()
    return case


def test_two_sessions_editing_one_case_the_second_flush_fails(app, db, make_case):
    case_id = make_case("assigned").id
    mine = _load_and_release(db, case_id)
    staff = Actor.for_user(mine.registered_by)

    _in_another_session(
        app,
        case_id,
        lambda case: workflow.withdraw_case(case, "撤回", Actor.for_user(case.registered_by)),
    )
    with pytest.raises(StaleDataError):
        workflow.record_session(mine, clock.now(), staff, place="第三调解室", **HELD)
    db.session.rollback()
    assert db.session.get(Case, case_id).state == W


def test_performing_two_obligations_at_once_cannot_leave_the_case_agreed(app, db, make_case):
    case = make_case("mediating")
    agree_with(case, Actor.for_user(case.registered_by), 5, 10)
    db.session.commit()
    case_id = case.id
    mine = _load_and_release(db, case_id)
    first, second = mine.agreement.obligations
    today = local_date(clock.now(), mine.centre)

    def fulfil_second(case):
        staff = Actor.for_user(case.registered_by)
        workflow.fulfil_obligation(case, case.agreement.obligations[1], today, staff)

    _in_another_session(app, case_id, fulfil_second)
    with pytest.raises(StaleDataError):
        workflow.fulfil_obligation(mine, first, today, Actor.for_user(mine.registered_by))


def test_staff_record_which_party_asked_to_go_to_court(db):
    case = build_case("assigned")
    staff = Actor.for_user(user_for(case.centre, "staff"))
    with pytest.raises(WorkflowError):
        workflow.request_litigation(case, staff)
    event = workflow.request_litigation(case, staff, on_behalf_of=case.respondents[0])
    assert case.state == State.TRANSFERRED and case.transfer_reason == "party_request"
    assert event.details["party"] == case.respondents[0].name
