"""SPEC 3.3 deadlines on the working-day calendar, and the risk suggestion of SPEC 3.1."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mediation.cases import workflow
from mediation.cases.workflow import Actor, suggest_risk
from mediation.directory.models import CalendarDay, CentreCategory, CentreSettings
from tests.case_factory import centre_for, mediator_for

SHANGHAI = ZoneInfo("Asia/Shanghai")

# 2026 as the State Council published it: National Day and Mid-Autumn 1-8 October off, with
# Sunday 20 September and Saturday 10 October worked; New Year 1-3 January off, Sunday
# 4 January worked.
HOLIDAYS_2026 = [date(2026, 1, 1), date(2026, 1, 2)] + [date(2026, 10, d) for d in range(1, 9)]
WORKED_WEEKENDS_2026 = [date(2026, 1, 4), date(2026, 9, 20), date(2026, 10, 10)]


@pytest.fixture
def calendar(db):
    centre = centre_for()
    for day in HOLIDAYS_2026:
        db.session.add(CalendarDay(centre_id=centre.id, day=day, is_workday=False, note="假日"))
    for day in WORKED_WEEKENDS_2026:
        db.session.add(CalendarDay(centre_id=centre.id, day=day, is_workday=True, note="调休"))
    db.session.commit()
    return centre


def local(year, month, day, hour=10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    "registered_at, registered_on, due_on",
    [
        (local(2026, 3, 2), date(2026, 3, 2), date(2026, 3, 5)),  # Monday → Thursday
        (local(2026, 3, 5), date(2026, 3, 5), date(2026, 3, 10)),  # Thursday, over a weekend
        (local(2026, 3, 7), date(2026, 3, 7), date(2026, 3, 11)),  # registered on a Saturday
        (local(2026, 1, 29), date(2026, 1, 29), date(2026, 2, 3)),  # into the next month
        (local(2026, 9, 30), date(2026, 9, 30), date(2026, 10, 12)),  # National Day, 10-10 worked
        (local(2026, 9, 19), date(2026, 9, 19), date(2026, 9, 22)),  # Sunday 20 September worked
        (local(2025, 12, 31), date(2025, 12, 31), date(2026, 1, 6)),  # New Year, 1-4 worked
        # 2026-01-31 17:00 UTC is already Sunday 1 February in Shanghai.
        (datetime(2026, 1, 31, 17, tzinfo=UTC), date(2026, 2, 1), date(2026, 2, 4)),
        (datetime(2026, 1, 31, 15, 59, tzinfo=UTC), date(2026, 1, 31), date(2026, 2, 4)),
    ],
)
def test_triage_is_due_three_working_days_after_registration(
    calendar, make_case, registered_at, registered_on, due_on
):
    case = make_case(at=registered_at)
    assert case.registered_on == registered_on
    assert case.triage_due_on == due_on


@pytest.mark.parametrize(
    "registered_at, due_on",
    [
        (local(2026, 3, 6), date(2026, 3, 9)),  # Friday → Monday
        (local(2026, 9, 30), date(2026, 10, 9)),  # the first working day after the holiday
        (local(2026, 10, 9), date(2026, 10, 10)),  # Saturday 10 October is worked
    ],
)
def test_high_risk_triage_is_due_the_next_working_day(calendar, make_case, registered_at, due_on):
    assert make_case(at=registered_at, risk_level="high").triage_due_on == due_on
    assert make_case(at=registered_at, is_extreme=True).triage_due_on == due_on


def test_the_triage_allowance_is_a_setting(calendar, make_case, db):
    db.session.add(CentreSettings(centre_id=calendar.id, triage_days=5, triage_days_high_risk=2))
    db.session.commit()
    assert make_case(at=local(2026, 3, 2)).triage_due_on == date(2026, 3, 9)
    assert make_case(at=local(2026, 3, 2), risk_level="critical").triage_due_on == date(2026, 3, 4)


def test_another_centres_calendar_does_not_count(calendar, make_case):
    # 330105 keeps no holidays: 1 and 2 October are working days there.
    assert make_case(centre="330105", at=local(2026, 9, 30)).triage_due_on == date(2026, 10, 5)


def test_the_registration_year_is_the_local_year(make_case):
    case = make_case(at=datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
    assert (case.registered_on, case.year) == (date(2026, 1, 1), 2026)
    assert case.number == "西湖调〔2026〕1号"


def test_the_mediation_deadline_is_the_routing_date_plus_the_period(make_case):
    # Routed 2026-01-31 17:00 UTC = 1 February in Shanghai; 30 calendar days later.
    case = make_case("assigned", at=datetime(2026, 1, 31, 17, tzinfo=UTC))
    assert case.routed_on == date(2026, 2, 1)
    assert case.deadline_on == date(2026, 3, 3)


def test_a_centre_may_set_its_own_period_for_a_category(db, make_case):
    centre = centre_for()
    db.session.add(CentreCategory(centre_id=centre.id, category_code="labour", mediation_days=45))
    db.session.commit()
    labour = make_case("assigned", at=local(2026, 11, 20), category_code="labour")
    family = make_case("assigned", at=local(2026, 11, 20), category_code="family")
    elsewhere = make_case(
        "assigned", centre="330105", at=local(2026, 11, 20), category_code="labour"
    )
    assert labour.deadline_on == date(2027, 1, 4)
    assert family.deadline_on == date(2026, 12, 20)
    assert elsewhere.deadline_on == date(2026, 12, 20)


def test_routing_sets_the_deadline_from_the_routing_not_the_registration(db, make_case):
    case = make_case(at=local(2026, 3, 2))
    mediator = mediator_for(case.centre)
    staff = Actor.for_user(case.registered_by)
    workflow.route_case(case, mediator.organization, mediator, staff, at=local(2026, 3, 4, 23))
    assert (case.routed_on, case.deadline_on) == (date(2026, 3, 4), date(2026, 4, 3))


# --- risk -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, people, extreme, risk",
    [
        (None, 1, False, "low"),
        (Decimal("999999.99"), 9, False, "low"),
        (Decimal("1000000.00"), 1, False, "medium"),
        (Decimal("5"), 10, False, "high"),
        (Decimal("2000000"), 30, False, "high"),
        (None, 1, True, "critical"),
        (Decimal("2000000"), 30, True, "critical"),
    ],
)
def test_risk_is_suggested_from_the_facts(amount, people, extreme, risk):
    assert suggest_risk(amount, people, extreme) == risk


@pytest.mark.parametrize(
    "chosen, facts, risk",
    [
        ("high", {}, "high"),  # staff raise it
        ("medium", {"amount": Decimal("1000000")}, "medium"),
        ("low", {"amount": Decimal("1000000")}, "medium"),  # cannot lower below the facts
        ("medium", {"people_involved": 12}, "high"),
        ("low", {"is_extreme": True}, "critical"),
        ("critical", {"people_involved": 12}, "critical"),
    ],
)
def test_staff_may_raise_the_risk_but_not_lower_it(make_case, chosen, facts, risk):
    assert make_case(risk_level=chosen, **facts).risk_level == risk
