"""`flask demo load`: cases replayed through the workflow, consistent with what the jobs do.

Loading takes a few seconds, so one test loads and checks every property of the result.
"""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from mediation import clock
from mediation.auth.models import User
from mediation.cases.identity import is_valid_credit_code, is_valid_resident_id
from mediation.cases.models import Case, CaseEvent, MediationSession, Party, Transfer
from mediation.cases.states import IN_MEDIATION, TRANSFER_REASONS, State
from mediation.directory.calendar import local_today
from mediation.directory.models import CalendarDay, Centre, Mediator, Organization, RoutingRule
from mediation.directory.terms import ORGANIZATION_KINDS
from mediation.integrity.models import Obligation


def load(app, *args):
    result = app.test_cli_runner().invoke(args=["demo", "load", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_load_replays_cases_consistent_with_the_workflow_and_the_jobs(app):
    output = load(app, "--cases", "120")
    assert "120" in output and "demo-mediator2" in output
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        centre = session.scalar(select(Centre).filter_by(code="330106"))
        today = local_today(centre)
        cases = session.scalars(select(Case).filter_by(centre_id=centre.id)).all()
        assert len(cases) == 120

        assert {c.state for c in cases} == {s.value for s in State}
        assert set(session.scalars(select(Transfer.reason))) == set(TRANSFER_REASONS)

        events = defaultdict(list)
        for event in session.scalars(select(CaseEvent).order_by(CaseEvent.id)):
            events[event.case_id].append(event)
        now = clock.now()
        for case in cases:
            history = events[case.id]
            assert history[0].action == "register", case.number
            times = [event.at for event in history]
            assert times == sorted(times) and times[-1] <= now, case.number
            assert history[-1].to_state == case.state, case.number

        for case in cases:
            if case.state in IN_MEDIATION:
                assert case.deadline_on >= today, case.number
        for obligation in session.scalars(
            select(Obligation).join(Case).where(Case.state == State.AGREED)
        ):
            assert obligation.fulfilled_on is not None or obligation.due_on >= today

        registered = [c.registered_on for c in cases]
        assert max(registered) - min(registered) > timedelta(days=366)
        assert min(registered) >= today - timedelta(days=550)

        mediators = {m.user_id: m for m in session.scalars(select(Mediator)) if m.user_id}
        for username in ("demo-mediator", "demo-mediator2"):
            user = session.scalar(select(User).filter_by(username=username))
            mediator = mediators[user.id]
            open_cases = [c for c in cases if c.mediator_id == mediator.id]
            assert any(c.state in IN_MEDIATION for c in open_cases), username
        assert session.scalar(
            select(func.count()).select_from(MediationSession).where(MediationSession.held_at > now)
        )

        ids = session.scalars(select(Party.id_number).where(Party.id_number.is_not(None))).all()
        assert ids and all(is_valid_resident_id(number) for number in ids)
        codes = session.scalars(select(Party.credit_code).where(Party.credit_code.is_not(None)))
        assert all(is_valid_credit_code(code) for code in codes)

        kinds = set(session.scalars(select(Organization.kind)))
        assert kinds == set(ORGANIZATION_KINDS)
        assert session.scalar(select(func.count()).select_from(RoutingRule)) > 15
        spring_festival = session.get(CalendarDay, (centre.id, today.replace(2026, 2, 16)))
        assert spring_festival is not None and not spring_festival.is_workday
        counts = [
            session.scalar(select(func.count()).select_from(model))
            for model in (Case, CaseEvent, Organization, Mediator, RoutingRule, CalendarDay)
        ]

    again = load(app)
    assert "未添加案件" in again
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert counts == [
            session.scalar(select(func.count()).select_from(model))
            for model in (Case, CaseEvent, Organization, Mediator, RoutingRule, CalendarDay)
        ]


def test_the_demo_history_sends_no_notices(app):
    from sqlalchemy import func, select

    from mediation.notify.models import OutboxMessage

    result = app.test_cli_runner().invoke(args=["demo", "load", "--cases", "20"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_demo_has_a_second_centre_in_its_region_and_a_regional_login(app, client):
    output = load(app, "--cases", "20")
    assert "demo-region" in output and "demo-staff-bj" in output
    with app.app_context():
        session = app.extensions["sqlalchemy"].session
        neighbour = session.scalar(select(Centre).filter_by(code="330108"))
        assert session.scalar(select(func.count()).where(Case.centre_id == neighbour.id)) == 5
        region = session.scalar(select(User).filter_by(username="demo-region"))
        assert (region.role, region.region_code) == ("regional_admin", "3301")
    signed_in = client.post_form(
        "/login", {"username": "demo-region", "password": "demo-pass-2026"}
    )
    assert signed_in.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "西湖区社会矛盾纠纷调处化解中心" in home and "滨江区社会矛盾纠纷调处化解中心" in home
