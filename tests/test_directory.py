"""The directory pages: organisations, mediators, mediation periods, routing rules, the
working-day calendar and the deadline settings, each for one centre."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.cases.models import Case
from mediation.cases.triage import suggested_organizations
from mediation.directory.calendar import add_working_days
from mediation.directory.models import (
    CalendarDay,
    Centre,
    CentreCategory,
    CentreSettings,
    Mediator,
    Organization,
    RoutingRule,
)
from mediation.directory.settings import mediation_days
from mediation.extensions import db as _db
from tests.conftest import recorded_statements

# The pages that take a form (POST) besides showing one.
FORM_PAGES = {
    "/admin/organizations/new",
    "/admin/mediators/new",
    "/admin/settings/",
    "/admin/categories/",
    "/admin/routing/",
    "/admin/calendar/",
}
PAGES = [
    "/admin/organizations/",
    "/admin/organizations/new",
    "/admin/mediators/",
    "/admin/mediators/new",
    "/admin/settings/",
    "/admin/categories/",
    "/admin/routing/",
    "/admin/calendar/",
]


@pytest.fixture
def in_db(app):
    """in_db(fn): fn() inside a fresh app context, committed; for setting up and looking.
    Objects it returns are detached with what they had loaded."""

    def run(fn):
        with app.app_context():
            result = fn()
            _db.session.flush()
            _db.session.expunge_all()
            _db.session.commit()
            return result

    return run


@pytest.fixture
def make_organization(in_db, make_centre):
    def make(name="西湖区人民调解委员会", centre="330106", kind="people", is_active=True) -> int:
        centre_id = make_centre(code=centre).id

        def add():
            organization = Organization(
                centre_id=centre_id, name=name, kind=kind, is_active=is_active
            )
            _db.session.add(organization)
            _db.session.flush()
            return organization.id

        return in_db(add)

    return make


@pytest.fixture
def make_mediator(in_db):
    def make(organization_id: int, name="王调解", max_caseload=20, user_id=None) -> int:
        def add():
            organization = _db.session.get(Organization, organization_id)
            mediator = Mediator(
                centre_id=organization.centre_id,
                organization=organization,
                name=name,
                max_caseload=max_caseload,
                user_id=user_id,
            )
            _db.session.add(mediator)
            _db.session.flush()
            return mediator.id

        return in_db(add)

    return make


def audit_entries(in_db, action: str) -> list[AuditEntry]:
    return in_db(lambda: _db.session.scalars(select(AuditEntry).filter_by(action=action)).all())


def count(in_db, model) -> int:
    return in_db(lambda: _db.session.scalar(select(func.count()).select_from(model)))


# --- who may open the pages ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_staff_and_mediators_are_refused_every_directory_page(
    client, login, role, make_organization, make_mediator
):
    organization_id = make_organization()
    mediator_id = make_mediator(organization_id)
    login(role)
    edit_pages = [
        f"/admin/organizations/{organization_id}/edit",
        f"/admin/mediators/{mediator_id}/edit",
    ]
    for url in edit_pages:
        assert client.get(url).status_code == 403, url
        assert client.post_form(url, {"name": "改名"}).status_code == 403, url
    for url in PAGES:
        assert client.get(url).status_code == 403, url
        if url in FORM_PAGES:
            assert client.post_form(url, {}).status_code == 403, url
    assert client.post_form("/admin/routing/1/delete").status_code == 403
    assert client.post_form("/admin/calendar/2026-10-01/delete").status_code == 403


def test_centre_admin_opens_every_directory_page(client, login):
    login("admin")
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "西湖区社会矛盾纠纷调处化解中心" in response.get_data(as_text=True)


def test_centre_admin_gets_404_for_another_centres_objects(
    client, login, make_centre, make_organization, make_mediator, in_db
):
    other = make_centre(code="330108", name="滨江区矛调中心", abbreviation="滨江")
    organization_id = make_organization(name="滨江调委会", centre="330108")
    mediator_id = make_mediator(organization_id)

    def rule_and_day():
        rule = RoutingRule(
            centre_id=other.id, category_code="family", organization_id=organization_id
        )
        _db.session.add_all(
            [rule, CalendarDay(centre_id=other.id, day=date(2026, 10, 1), is_workday=False)]
        )
        _db.session.flush()
        return rule.id

    rule_id = in_db(rule_and_day)
    login("admin")
    assert client.get(f"/admin/organizations/{organization_id}/edit").status_code == 404
    assert client.get(f"/admin/mediators/{mediator_id}/edit").status_code == 404
    assert client.post_form(f"/admin/routing/{rule_id}/delete").status_code == 404
    for url in PAGES:
        assert client.get(f"{url}?centre={other.id}").status_code == 404, url
    assert (
        client.post_form(f"/admin/calendar/2026-10-01/delete?centre={other.id}").status_code == 404
    )
    assert "滨江调委会" not in client.get("/admin/organizations/").get_data(as_text=True)
    assert count(in_db, RoutingRule) == 1 and count(in_db, CalendarDay) == 1


def test_global_admin_picks_the_centre(client, login, make_centre, make_organization):
    make_organization(name="西湖调委会", centre="330106")
    organization_id = make_organization(name="滨江调委会", centre="330108")
    other = make_centre(code="330108")
    login("admin", centre=None)
    first = client.get("/admin/organizations/").get_data(as_text=True)
    assert "西湖调委会" in first and "滨江调委会" not in first
    assert 'name="centre"' in first  # the picker
    picked = client.get(f"/admin/organizations/?centre={other.id}").get_data(as_text=True)
    assert "滨江调委会" in picked and "西湖调委会" not in picked
    assert f"/admin/organizations/new?centre={other.id}" in picked
    # Another centre's objects open directly, and lead back to that centre's list.
    edit = client.get(f"/admin/organizations/{organization_id}/edit").get_data(as_text=True)
    assert 'value="滨江调委会"' in edit and f"/admin/organizations/?centre={other.id}" in edit


# --- organisations ---------------------------------------------------------------------------


def test_admin_creates_and_edits_an_organisation(client, login, in_db):
    login("admin")
    response = client.post_form(
        "/admin/organizations/new",
        {
            "name": "西湖区物业纠纷人民调解委员会",
            "kind": "people",
            "phone": "0571-87001234",
            "address": "文三路 1 号",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    organization = in_db(lambda: _db.session.scalar(select(Organization)))
    assert (organization.kind, organization.phone, organization.is_active) == (
        "people",
        "0571-87001234",
        True,
    )
    [created] = audit_entries(in_db, "organization.create")
    assert created.centre_id == organization.centre_id
    assert created.details["name"] == "西湖区物业纠纷人民调解委员会"

    response = client.post_form(
        f"/admin/organizations/{organization.id}/edit",
        {
            "name": "西湖区物业纠纷人民调解委员会",
            "kind": "professional",
            "phone": "",
            "address": "",
        },
    )
    assert response.status_code == 302
    saved = in_db(lambda: _db.session.get(Organization, organization.id))
    assert saved.kind == "professional" and not saved.is_active
    [updated] = audit_entries(in_db, "organization.update")
    assert updated.details["kind"] == ["people", "professional"]
    assert updated.details["is_active"] == [True, False]
    page = client.get("/admin/organizations/").get_data(as_text=True)
    assert "行业性专业性调解组织" in page and "已停用" in page


def test_duplicate_organisation_name_is_refused_and_the_input_kept(
    client, login, make_organization, in_db
):
    make_organization(name="西湖区人民调解委员会")
    login("admin")
    page = client.post_form(
        "/admin/organizations/new",
        {"name": "西湖区人民调解委员会", "kind": "people", "address": "保留的地址"},
    ).get_data(as_text=True)
    assert "本中心已有名为 西湖区人民调解委员会 的调解组织" in page
    assert 'value="保留的地址"' in page
    assert count(in_db, Organization) == 1
    assert audit_entries(in_db, "organization.create") == []


def test_organisation_kind_must_be_known(client, login, in_db):
    login("admin")
    page = client.post_form(
        "/admin/organizations/new", {"name": "某调解组织", "kind": "secret"}
    ).get_data(as_text=True)
    assert "is-invalid" in page
    assert count(in_db, Organization) == 0


# --- mediators -------------------------------------------------------------------------------


def mediator_form(organization_id: int, **overrides) -> dict:
    form = {
        "name": "李调解",
        "organization": str(organization_id),
        "specialties": ["family", "neighbour"],
        "phone": "13812345678",
        "max_caseload": "15",
        "user": "",
        "is_active": "y",
    }
    form.update(overrides)
    return form


def test_admin_creates_a_mediator_with_specialties_and_a_login(
    client, login, make_organization, make_user, in_db
):
    organization_id = make_organization()
    mediator_user = make_user("mediator", username="li-mediator")
    login("admin")
    form_page = client.get("/admin/mediators/new").get_data(as_text=True)
    assert "li-mediator" in form_page and "婚姻家庭" in form_page
    response = client.post_form(
        "/admin/mediators/new", mediator_form(organization_id, user=str(mediator_user.id))
    )
    assert response.status_code == 302

    def load():
        mediator = _db.session.scalar(select(Mediator))
        return mediator.name, [c.code for c in mediator.specialties], mediator.user_id, mediator

    name, specialties, user_id, mediator = in_db(load)
    assert (name, specialties, user_id) == ("李调解", ["family", "neighbour"], mediator_user.id)
    [entry] = audit_entries(in_db, "mediator.create")
    assert entry.centre_id == mediator.centre_id
    assert entry.details["specialties"] == ["family", "neighbour"]

    page = client.get("/admin/mediators/").get_data(as_text=True)
    assert "李调解" in page and "婚姻家庭、邻里纠纷" in page and "li-mediator" in page
    assert "0 / 15" in page


def test_admin_edits_a_mediator(client, login, make_organization, make_mediator, in_db):
    first = make_organization(name="甲调委会")
    second = make_organization(name="乙调委会")
    mediator_id = make_mediator(first)
    login("admin")
    edit_page = client.get(f"/admin/mediators/{mediator_id}/edit").get_data(as_text=True)
    assert 'value="王调解"' in edit_page
    response = client.post_form(
        f"/admin/mediators/{mediator_id}/edit",
        mediator_form(second, name="王调解", specialties=["labour"], is_active=""),
    )
    assert response.status_code == 302
    [entry] = audit_entries(in_db, "mediator.update")
    assert entry.details["organization"] == ["甲调委会", "乙调委会"]
    assert entry.details["specialties"] == [[], ["labour"]]
    assert entry.details["is_active"] == [True, False]


def test_a_login_linked_to_another_mediator_is_not_offered_nor_accepted(
    client, login, make_organization, make_mediator, make_user, in_db
):
    organization_id = make_organization()
    taken = make_user("mediator", username="taken-login")
    make_mediator(organization_id, name="已有账号的调解员", user_id=taken.id)
    login("admin")
    assert "taken-login" not in client.get("/admin/mediators/new").get_data(as_text=True)
    page = client.post_form(
        "/admin/mediators/new", mediator_form(organization_id, user=str(taken.id))
    ).get_data(as_text=True)
    assert "is-invalid" in page and 'value="李调解"' in page
    assert count(in_db, Mediator) == 1


def test_bad_mediator_input_shows_a_message_and_writes_nothing(
    client, login, make_organization, in_db
):
    organization_id = make_organization()
    other_centre_org = make_organization(name="滨江调委会", centre="330108")
    login("admin")
    page = client.post_form(
        "/admin/mediators/new", mediator_form(organization_id, phone="12345")
    ).get_data(as_text=True)
    assert "请输入 11 位手机号码" in page
    page = client.post_form(
        "/admin/mediators/new", mediator_form(organization_id, max_caseload="-1")
    ).get_data(as_text=True)
    assert "最大在办案件数" in page and "0 至 999" in page
    page = client.post_form("/admin/mediators/new", mediator_form(other_centre_org)).get_data(
        as_text=True
    )
    assert "is-invalid" in page
    assert count(in_db, Mediator) == 0
    assert audit_entries(in_db, "mediator.create") == []


def add_case(centre_id, mediator_id, organization_id, seq, state="assigned"):
    _db.session.add(
        Case(
            centre_id=centre_id,
            number=f"西湖调〔2026〕{seq}号",
            year=2026,
            seq=seq,
            state=state,
            channel_code="walk_in",
            category_code="family",
            registered_on=date(2026, 3, 2),
            received_at=clock.now(),
            received_on=date(2026, 3, 2),
            triage_due_on=date(2026, 3, 5),
            organization_id=organization_id,
            mediator_id=mediator_id,
        )
    )


def test_mediator_list_shows_open_caseload_with_a_fixed_number_of_queries(
    app, client, login, make_organization, make_mediator, in_db
):
    organization_id = make_organization()
    busy = make_mediator(organization_id, name="忙碌调解员", max_caseload=2)
    idle = make_mediator(organization_id, name="空闲调解员")
    centre_id = in_db(lambda: _db.session.get(Organization, organization_id).centre_id)

    def cases():
        add_case(centre_id, busy, organization_id, 1, "assigned")
        add_case(centre_id, busy, organization_id, 2, "mediating")
        add_case(centre_id, idle, organization_id, 3, "registered")

    in_db(cases)
    login("admin")

    def statements_for_list():
        with recorded_statements(app) as statements:
            page = client.get("/admin/mediators/").get_data(as_text=True)
        return page, len(statements)

    page, few = statements_for_list()
    assert "2 / 2" in page and "0 / 20" in page
    for n in range(5):
        make_mediator(organization_id, name=f"调解员{n}")
    _page, many = statements_for_list()
    assert many == few


# --- mediation periods -----------------------------------------------------------------------


def periods_form(**overrides) -> dict:
    from mediation.directory.terms import CATEGORIES

    form = dict.fromkeys(CATEGORIES, "30")
    form.update(overrides)
    return form


def test_admin_sets_a_mediation_period(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    assert "默认" in client.get("/admin/categories/").get_data(as_text=True)
    assert client.post_form("/admin/categories/", periods_form(family="45")).status_code == 302
    assert in_db(lambda: mediation_days(centre_id, "family")) == 45
    [entry] = audit_entries(in_db, "category.update")
    assert entry.details == {"family": [30, 45]} and entry.centre_id == centre_id
    # Back to the default: the centre follows the default again.
    client.post_form("/admin/categories/", periods_form())
    assert count(in_db, CentreCategory) == 0
    assert in_db(lambda: mediation_days(centre_id, "family")) == 30


def test_a_period_outside_1_to_365_days_is_refused(client, login, in_db):
    login("admin")
    page = client.post_form("/admin/categories/", periods_form(family="45", labour="0")).get_data(
        as_text=True
    )
    assert "调解时限为 1 至 365 天" in page
    assert 'value="45"' in page
    assert count(in_db, CentreCategory) == 0
    assert audit_entries(in_db, "category.update") == []


# --- routing rules ---------------------------------------------------------------------------


def test_routing_rules_feed_the_triage_suggestions(client, login, make_organization, in_db):
    general = make_organization(name="综合调委会")
    family = make_organization(name="婚姻家庭调委会")
    street = make_organization(name="翠苑街道调委会")
    login("admin")
    for organization_id, street_name, rank in [
        (general, "", 2),
        (family, "", 1),
        (street, "翠苑街道", 1),
    ]:
        response = client.post_form(
            "/admin/routing/",
            {
                "category": "family",
                "street": street_name,
                "organization": str(organization_id),
                "rank": str(rank),
            },
        )
        assert response.status_code == 302
    centre_id = in_db(lambda: _db.session.get(Organization, general).centre_id)

    def suggested(street_name):
        return [o.name for o in suggested_organizations(centre_id, "family", street_name)]

    assert in_db(lambda: suggested("文新街道")) == ["婚姻家庭调委会", "综合调委会"]
    assert in_db(lambda: suggested("翠苑街道")) == [
        "翠苑街道调委会",
        "婚姻家庭调委会",
        "综合调委会",
    ]
    assert len(audit_entries(in_db, "routing.create")) == 3
    page = client.get("/admin/routing/").get_data(as_text=True)
    assert "任意街道" in page and "翠苑街道" in page


def test_duplicate_routing_rule_is_refused(client, login, make_organization, in_db):
    organization_id = make_organization()
    login("admin")
    form = {"category": "family", "street": "", "organization": str(organization_id), "rank": "1"}
    client.post_form("/admin/routing/", form)
    page = client.post_form("/admin/routing/", {**form, "rank": "2"}).get_data(as_text=True)
    assert "已在该纠纷类型和街道的规则中" in page
    assert count(in_db, RoutingRule) == 1
    assert len(audit_entries(in_db, "routing.create")) == 1


def test_admin_removes_a_routing_rule(client, login, make_organization, in_db):
    organization_id = make_organization()
    login("admin")
    client.post_form(
        "/admin/routing/",
        {"category": "labour", "street": "", "organization": str(organization_id), "rank": "1"},
    )
    rule_id = in_db(lambda: _db.session.scalar(select(RoutingRule.id)))
    assert client.get(f"/admin/routing/{rule_id}/delete").status_code == 405
    assert client.post_form(f"/admin/routing/{rule_id}/delete").status_code == 302
    assert count(in_db, RoutingRule) == 0
    [entry] = audit_entries(in_db, "routing.delete")
    assert entry.details["category"] == "labour"


# --- the working-day calendar ----------------------------------------------------------------


def test_a_holiday_moves_the_working_day_count(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    # Monday 28 Sept 2026 + 3 working days is Thursday 1 Oct, until 1 Oct is a holiday.
    assert in_db(lambda: add_working_days(centre_id, date(2026, 9, 28), 3)) == date(2026, 10, 1)
    response = client.post_form(
        "/admin/calendar/", {"day": "2026-10-01", "kind": "holiday", "note": "国庆节"}
    )
    assert response.status_code == 302 and "year=2026" in response.headers["Location"]
    assert in_db(lambda: add_working_days(centre_id, date(2026, 9, 28), 3)) == date(2026, 10, 2)
    [entry] = audit_entries(in_db, "calendar.create")
    assert entry.target == "2026-10-01" and entry.details == {"is_workday": False, "note": "国庆节"}
    page = client.get("/admin/calendar/?year=2026").get_data(as_text=True)
    assert "国庆节" in page and "法定节假日" in page


def test_an_adjusted_working_day_counts_as_a_working_day(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    # Friday 25 Sept 2026 + 1 working day: Monday 28 Sept, or Sunday 27 Sept when it is on.
    assert in_db(lambda: add_working_days(centre_id, date(2026, 9, 25), 1)) == date(2026, 9, 28)
    client.post_form("/admin/calendar/", {"day": "2026-09-27", "kind": "workday", "note": "调休"})
    assert in_db(lambda: add_working_days(centre_id, date(2026, 9, 25), 1)) == date(2026, 9, 27)


@pytest.mark.parametrize(
    ("day", "kind", "message"),
    [
        ("2026-10-03", "holiday", "节假日应在工作日"),  # a Saturday
        ("2026-10-08", "workday", "调休上班日应在周六或周日"),  # a Thursday
        ("2026-10-01", "holiday", "已在日历中"),  # entered already
    ],
)
def test_wrong_calendar_days_are_refused(client, login, make_centre, in_db, day, kind, message):
    centre_id = make_centre().id
    in_db(
        lambda: _db.session.add(
            CalendarDay(centre_id=centre_id, day=date(2026, 10, 1), is_workday=False)
        )
    )
    login("admin")
    page = client.post_form(
        "/admin/calendar/", {"day": day, "kind": kind, "note": "保留的备注"}
    ).get_data(as_text=True)
    assert message in page and 'value="保留的备注"' in page
    assert count(in_db, CalendarDay) == 1
    assert audit_entries(in_db, "calendar.create") == []


def test_admin_removes_a_calendar_day(client, login, make_centre, in_db):
    centre_id = make_centre().id
    in_db(
        lambda: _db.session.add(
            CalendarDay(centre_id=centre_id, day=date(2026, 10, 1), is_workday=False)
        )
    )
    login("admin")
    assert client.post_form("/admin/calendar/2026-10-02/delete").status_code == 404
    assert client.post_form("/admin/calendar/not-a-date/delete").status_code == 404
    response = client.post_form("/admin/calendar/2026-10-01/delete")
    assert response.status_code == 302
    assert count(in_db, CalendarDay) == 0
    assert len(audit_entries(in_db, "calendar.delete")) == 1


# --- the calendar: ranges, a CSV import, the reminder on the dashboard -------------------------


def calendar_days(in_db) -> dict[date, bool]:
    return in_db(
        lambda: dict(_db.session.execute(select(CalendarDay.day, CalendarDay.is_workday)).all())
    )


def test_a_holiday_range_adds_each_weekday_and_names_the_weekend_days_left_out(
    client, login, make_centre, in_db
):
    centre_id = make_centre().id
    login("admin")
    # 国庆 2026: Thursday 1 to Wednesday 7 October, with Saturday 3 and Sunday 4 off anyway.
    response = client.post_form(
        "/admin/calendar/",
        {"day": "2026-10-01", "until": "2026-10-07", "kind": "holiday", "note": "国庆节"},
    )
    assert response.status_code == 302 and "year=2026" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已添加法定节假日" in page and "2026年10月7日" in page
    assert "以下周六、周日本来就休息，未添加：2026年10月3日和2026年10月4日" in page
    added = [date(2026, 10, d) for d in (1, 2, 5, 6, 7)]
    assert calendar_days(in_db) == dict.fromkeys(added, False)
    assert page.count("国庆节") >= 5
    assert [e.target for e in audit_entries(in_db, "calendar.create")] == [
        d.isoformat() for d in added
    ]
    # Wednesday 30 Sept + 1 working day is Thursday 8 Oct.
    assert in_db(lambda: add_working_days(centre_id, date(2026, 9, 30), 1)) == date(2026, 10, 8)


def test_a_working_day_range_adds_each_weekend_day(client, login, make_centre, in_db):
    make_centre()
    login("admin")
    response = client.post_form(
        "/admin/calendar/",
        {"day": "2026-10-09", "until": "2026-10-11", "kind": "workday", "note": "国庆调休"},
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已添加调休上班日" in page
    assert "以下周一至周五本来就上班，未添加：2026年10月9日" in page
    assert calendar_days(in_db) == {date(2026, 10, 10): True, date(2026, 10, 11): True}


@pytest.mark.parametrize(
    ("until", "kind", "message"),
    [
        ("2026-09-30", "holiday", "截止日期早于起始日期"),
        ("2026-11-01", "holiday", "日期范围最长 31 天"),
        ("2026-10-04", "workday", None),  # Saturday and Sunday: fine
        ("2026-10-02", "workday", "该范围内全是周一至周五，本来就上班"),
    ],
)
def test_a_wrong_range_is_refused_beside_the_last_day(
    client, login, make_centre, in_db, until, kind, message
):
    make_centre()
    login("admin")
    start = "2026-10-03" if message is None else "2026-10-01"
    response = client.post_form(
        "/admin/calendar/", {"day": start, "until": until, "kind": kind, "note": "保留"}
    )
    if message is None:
        assert response.status_code == 302
        return
    page = response.get_data(as_text=True)
    assert message in page and 'id="until-error"' in page
    assert f'value="{until}"' in page and 'value="保留"' in page
    assert calendar_days(in_db) == {}


def test_a_range_is_all_or_nothing_and_lists_every_day_entered_already(
    client, login, make_centre, in_db
):
    centre_id = make_centre().id
    in_db(
        lambda: _db.session.add_all(
            [
                CalendarDay(centre_id=centre_id, day=date(2026, 10, 1), is_workday=False),
                CalendarDay(centre_id=centre_id, day=date(2026, 10, 2), is_workday=False),
            ]
        )
    )
    login("admin")
    page = client.post_form(
        "/admin/calendar/",
        {"day": "2026-09-30", "until": "2026-10-07", "kind": "holiday", "note": "国庆节"},
    ).get_data(as_text=True)
    assert "2026年10月1日 已在日历中" in page and "2026年10月2日 已在日历中" in page
    assert 'value="2026-09-30"' in page and 'value="2026-10-07"' in page
    assert len(calendar_days(in_db)) == 2
    assert audit_entries(in_db, "calendar.create") == []


def upload_calendar(client, data: bytes, name="2027.csv", url="/admin/calendar/import"):
    return client.post_form(
        url, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


CALENDAR_CSV_ZH = (
    "日期,类型,备注\r\n"
    "2027-01-01,节假日,元旦\r\n"
    "2027-01-02,节假日,元旦\r\n"  # a Saturday: off anyway
    "2027/2/20,调休上班,春节调休\r\n"
    "2027年2月8日,节假日,春节\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        CALENDAR_CSV_ZH.encode(),
        b"\xef\xbb\xbf" + CALENDAR_CSV_ZH.encode(),
        CALENDAR_CSV_ZH.encode("gb18030"),
        (
            b"date,kind,note\r\n2027-01-01,holiday,New Year\r\n2027-01-02,holiday,\r\n"
            b"2027-02-20,workday,\r\n2027-02-08,Holiday,\r\n"
        ),
    ],
    ids=["utf-8", "utf-8 with BOM", "gb18030", "english headers"],
)
def test_admin_imports_a_years_holidays_from_a_csv(client, login, make_centre, in_db, data):
    make_centre()
    login("admin")
    response = upload_calendar(client, data)
    assert response.status_code == 302 and "year=2027" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "日历已导入：法定节假日 2 天，调休上班日 1 天" in page
    assert "以下周六、周日本来就休息，未添加：2027年1月2日" in page
    assert calendar_days(in_db) == {
        date(2027, 1, 1): False,
        date(2027, 2, 8): False,
        date(2027, 2, 20): True,
    }
    [entry] = audit_entries(in_db, "calendar.import")
    assert entry.target == "2027.csv"
    assert entry.details["workdays"] == ["2027-02-20"]


def test_a_calendar_csv_with_problems_adds_nothing_and_names_each_row(
    client, login, make_centre, in_db
):
    centre_id = make_centre().id
    in_db(
        lambda: _db.session.add(
            CalendarDay(centre_id=centre_id, day=date(2027, 5, 3), is_workday=False)
        )
    )
    login("admin")
    data = (
        "日期,类型,备注\r\n"
        "2027-01-01,节假日,元旦\r\n"
        "2027-02-30,节假日,\r\n"
        "2027-02-08,休息,\r\n"
        "2027-02-09,调休上班,\r\n"
        "2027-01-01,节假日,\r\n"
        "2027-05-03,节假日,\r\n"
        "明年元旦,节假日,\r\n"
    ).encode()
    page = upload_calendar(client, data).get_data(as_text=True)
    for problem in (
        "第 3 行：日期 2027-02-30 不存在：该月只有 28 天。",
        "第 4 行：无法识别类型“休息”，请填写“节假日”或“调休上班”。",
        "第 5 行：调休上班日应在周六或周日",
        "第 6 行：2027年1月1日 已在第 2 行出现。",
        "第 7 行：2027年5月3日 已在日历中",
        "第 8 行：日期格式应为 YYYY-MM-DD",
    ):
        assert problem in page, problem
    assert "第 2 行：" not in page
    assert 'id="file-error"' in page
    assert calendar_days(in_db) == {date(2027, 5, 3): False}
    assert audit_entries(in_db, "calendar.import") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00\x81", "既不是 UTF-8 也不是 GB18030"),
        ("备注\r\n元旦\r\n".encode(), "缺少“日期 (date)”列"),
        ("日期,类型\r\n".encode(), "文件中没有日期"),
    ],
)
def test_an_unreadable_calendar_csv_is_refused_beside_the_field(
    client, login, make_centre, data, message
):
    make_centre()
    login("admin")
    page = upload_calendar(client, data).get_data(as_text=True)
    assert message in page and "invalid-feedback" in page


def test_the_example_csv_downloads_and_imports(client, login, make_centre, in_db):
    make_centre()
    login("admin")
    page = client.get("/admin/calendar/").get_data(as_text=True)
    assert "/admin/calendar/example.csv" in page
    example = client.get("/admin/calendar/example.csv")
    assert example.status_code == 200 and example.mimetype == "text/csv"
    text = example.get_data().decode("utf-8-sig")
    assert text.splitlines()[0] == "日期,类型,备注"
    assert upload_calendar(client, example.get_data()).status_code == 302
    days = calendar_days(in_db)
    assert len(days) == 23 and days[date(2025, 10, 11)] is True
    assert in_db(lambda: add_working_days(make_centre().id, date(2025, 9, 30), 1)) == date(
        2025, 10, 9
    )


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_calendar_import_and_example_are_for_administrators(client, login, make_centre, role):
    make_centre()
    login(role)
    assert client.get("/admin/calendar/example.csv").status_code == 403
    assert upload_calendar(client, CALENDAR_CSV_ZH.encode()).status_code == 403


def test_another_centres_admin_cannot_import_into_its_calendar(client, login, make_centre, in_db):
    own = make_centre()
    other = make_centre(code="330108", name="滨江区矛调中心", abbreviation="滨江")
    login("admin")
    url = f"/admin/calendar/import?centre={other.id}"
    assert upload_calendar(client, CALENDAR_CSV_ZH.encode(), url=url).status_code == 404
    assert upload_calendar(client, CALENDAR_CSV_ZH.encode()).status_code == 302
    centres = in_db(lambda: set(_db.session.scalars(select(CalendarDay.centre_id))))
    assert centres == {own.id}


# 1 November 2026, 00:30 in Shanghai is still 31 October in UTC.
FIRST_OF_NOVEMBER = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)


def test_from_november_admins_are_asked_for_next_years_calendar(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    with clock.frozen_at(FIRST_OF_NOVEMBER - timedelta(hours=1)):
        assert "2027 年" not in client.get("/cases/dashboard").get_data(as_text=True)
    with clock.frozen_at(FIRST_OF_NOVEMBER):
        for url in ("/cases/dashboard", "/"):
            page = client.get(url).get_data(as_text=True)
            assert "工作日历尚未录入 2027 年的节假日和调休上班日" in page, url
            assert 'href="/admin/calendar/?year=2027"' in page and "录入 2027 年工作日历" in page
    in_db(
        lambda: _db.session.add(
            CalendarDay(centre_id=centre_id, day=date(2027, 1, 1), is_workday=False)
        )
    )
    with clock.frozen_at(FIRST_OF_NOVEMBER + timedelta(days=40)):
        assert "工作日历尚未录入" not in client.get("/cases/dashboard").get_data(as_text=True)


def test_staff_are_not_asked_for_the_calendar(client, login, make_centre):
    make_centre()
    login("staff")
    with clock.frozen_at(FIRST_OF_NOVEMBER):
        assert "工作日历尚未录入" not in client.get("/cases/dashboard").get_data(as_text=True)


def test_a_global_admin_is_asked_for_the_chosen_centres_calendar(client, login, make_centre):
    centre = make_centre()
    login("admin", centre=None)
    with clock.frozen_at(FIRST_OF_NOVEMBER):
        page = client.get(f"/cases/dashboard?centre={centre.id}").get_data(as_text=True)
    assert f'href="/admin/calendar/?year=2027&amp;centre={centre.id}"' in page


# --- settings --------------------------------------------------------------------------------


def settings_form(**overrides) -> dict:
    form = {
        "triage_days": "3",
        "triage_days_high_risk": "1",
        "warning_days": "5",
        "extensions_allowed": "y",
        "extension_max_days": "30",
    }
    form.update(overrides)
    return form


def test_admin_saves_the_settings_creating_the_row(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert 'value="3"' in page  # the defaults, before any row exists
    for endpoint in ("/admin/categories/", "/admin/routing/", "/admin/calendar/"):
        assert endpoint in page
    response = client.post_form(
        "/admin/settings/", settings_form(triage_days="5", extensions_allowed="")
    )
    assert response.status_code == 302
    saved = in_db(lambda: _db.session.get(CentreSettings, centre_id))
    assert (saved.triage_days, saved.extensions_allowed) == (5, False)
    [entry] = audit_entries(in_db, "settings.update")
    assert entry.details == {"triage_days": [3, 5], "extensions_allowed": [True, False]}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"triage_days": "0"}, "请输入 1 至 30 之间的天数"),
        ({"triage_days": "2", "triage_days_high_risk": "3"}, "高风险案件的分流时限不能长于"),
        ({"extension_max_days": "400"}, "请输入 0 至 365 之间的天数"),
        ({"warning_days": "abc"}, "is-invalid"),
    ],
)
def test_bad_settings_are_refused(client, login, in_db, overrides, message):
    login("admin")
    page = client.post_form("/admin/settings/", settings_form(**overrides)).get_data(as_text=True)
    assert message in page
    assert count(in_db, CentreSettings) == 0
    assert audit_entries(in_db, "settings.update") == []


def test_pages_are_reachable_for_a_global_admin_without_centres(client, login, in_db):
    login("admin", centre=None)
    assert count(in_db, Centre) == 0
    response = client.get("/admin/settings/")
    assert response.status_code == 302 and "/admin/centres/" in response.headers["Location"]


def test_admin_edits_the_incentive_measures_one_per_line(client, login, make_centre, in_db):
    centre_id = make_centre().id
    login("admin")
    page = client.get("/admin/settings/").get_data(as_text=True)
    assert 'name="incentive_measures"' in page and "优先调解服务" in page
    measures = "诉讼费用减免\n\n  信用贷款利率优惠 \n"
    response = client.post_form("/admin/settings/", settings_form(incentive_measures=measures))
    assert response.status_code == 302
    saved = in_db(lambda: _db.session.get(CentreSettings, centre_id))
    assert saved.incentive_measures == "诉讼费用减免\n信用贷款利率优惠"
    [entry] = audit_entries(in_db, "settings.update")
    assert entry.details["incentive_measures"][1] == "诉讼费用减免\n信用贷款利率优惠"


@pytest.mark.parametrize(
    ("measures", "message"),
    [
        ("\n".join(f"措施{n}" for n in range(11)), "最多列出 10 项"),
        ("诉" * 51, "最多 50 个字符"),
    ],
)
def test_too_many_or_too_long_measures_are_refused(client, login, in_db, measures, message):
    login("admin")
    page = client.post_form(
        "/admin/settings/", settings_form(incentive_measures=measures)
    ).get_data(as_text=True)
    assert "is-invalid" in page and message in page
    assert measures.splitlines()[-1] in page  # the input is kept
    assert count(in_db, CentreSettings) == 0
    assert audit_entries(in_db, "settings.update") == []
