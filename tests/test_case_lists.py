"""The case list, the queues, the mediator's dashboard and bulk actions."""

import re
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from mediation import clock
from mediation.audit.models import AuditEntry
from mediation.auth.models import User
from mediation.cases import workflow as wf
from mediation.cases.models import Case, CaseEvent, MediationSession
from mediation.directory.models import Centre, Mediator, Organization
from mediation.extensions import db as _db
from tests.conftest import recorded_statements

# Monday 2 March 2026, 10:00 in Shanghai.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
CASE_LINK = re.compile(r'href="/cases/(\d+)"')


@pytest.fixture
def world(app, make_centre, make_user):
    """Centre A (西湖) with two organisations' mediators, one of them with a login; centre B
    (拱墅) with its own mediator. Returns ids and the usernames."""
    make_centre()
    make_centre(code="330105", name="拱墅区社会矛盾纠纷调处化解中心", abbreviation="拱墅")
    staff = make_user("staff")
    staff_b = make_user("staff", centre="330105")
    mediator_user = make_user("mediator")
    with app.app_context():
        centre_a = _db.session.scalar(select(Centre).filter_by(code="330106"))
        centre_b = _db.session.scalar(select(Centre).filter_by(code="330105"))
        people = Organization(centre_id=centre_a.id, name="西湖人民调解委员会", kind="people")
        traffic = Organization(
            centre_id=centre_a.id, name="交通事故调解委员会", kind="professional"
        )
        other = Organization(centre_id=centre_b.id, name="拱墅人民调解委员会", kind="people")
        _db.session.add_all([people, traffic, other])
        _db.session.flush()
        wang = Mediator(
            centre_id=centre_a.id,
            organization_id=people.id,
            name="王调解",
            user_id=mediator_user.id,
        )
        zhao = Mediator(centre_id=centre_a.id, organization_id=traffic.id, name="赵调解")
        qian = Mediator(centre_id=centre_b.id, organization_id=other.id, name="钱调解")
        _db.session.add_all([wang, zhao, qian])
        _db.session.commit()
        return SimpleNamespace(
            centre_a=centre_a.id,
            centre_b=centre_b.id,
            people=people.id,
            traffic=traffic.id,
            other=other.id,
            wang=wang.id,
            zhao=zhao.id,
            qian=qian.id,
            staff=staff.id,
            staff_b=staff_b.id,
        )


@pytest.fixture
def new_case(app, world):
    """new_case(applicant="张三", respondent="李四", at=T0, centre="a", route_to=None,
    **intake) registers a case through the workflow (and routes it) and returns its id."""

    def make(
        applicant="张三",
        respondent="李四",
        at=T0,
        centre="a",
        route_to=None,
        route_at=None,
        **intake,
    ):
        intake.setdefault("channel_code", "walk_in")
        intake.setdefault("category_code", "neighbour")
        with app.app_context():
            staff = _db.session.get(User, world.staff if centre == "a" else world.staff_b)
            actor = wf.Actor.for_user(staff)
            centre_row = _db.session.get(Centre, getattr(world, f"centre_{centre}"))
            data = wf.IntakeData(
                parties=[
                    wf.PartyData("applicant", "person", applicant),
                    wf.PartyData("respondent", "person", respondent),
                ],
                **intake,
            )
            case = wf.register_case(centre_row, data, actor, at=at).case
            if route_to is not None:
                mediator = _db.session.get(Mediator, route_to)
                wf.route_case(case, mediator.organization, mediator, actor, at=route_at or at)
            _db.session.commit()
            return case.id

    return make


def listed(client, url="/cases/", **params) -> list[int]:
    response = client.get(url, query_string=params)
    assert response.status_code == 200
    return [int(i) for i in CASE_LINK.findall(response.get_data(as_text=True))]


def case_number(app, case_id: int) -> str:
    with app.app_context():
        return _db.session.get(Case, case_id).number


# --- list and filters -----------------------------------------------------------------------


def test_each_filter_narrows_the_list(client, login, world, new_case):
    family = new_case(category_code="family", channel_code="hotline")
    labour = new_case(category_code="labour", at=T0 + timedelta(days=3), route_to=world.wang)
    risky = new_case(
        risk_level="high", at=T0 + timedelta(days=10), channel_code="court", route_to=world.zhao
    )
    login("staff")
    assert set(listed(client)) == {family, labour, risky}
    assert listed(client, state="registered") == [family]
    assert listed(client, state="assigned") == [risky, labour]
    assert listed(client, category="labour") == [labour]
    assert listed(client, channel="hotline") == [family]
    assert listed(client, organization=world.traffic) == [risky]
    assert listed(client, mediator=world.wang) == [labour]
    assert listed(client, risk="high") == [risky]
    assert listed(client, registered_from="2026-03-05") == [risky, labour]
    assert listed(client, registered_to="2026-03-05") == [labour, family]
    assert listed(client, registered_from="2026-03-04", registered_to="2026-03-06") == [labour]
    page = client.get("/cases/", query_string={"state": "assigned", "mediator": world.wang})
    page = page.get_data(as_text=True)
    assert '<option value="assigned" selected>' in page
    assert f'<option value="{world.wang}" selected>王调解</option>' in page
    # Unknown values are ignored rather than failing.
    assert len(listed(client, state="nonsense", registered_from="yesterday")) == 3


def test_rows_show_parties_state_and_mediator(client, login, world, new_case):
    new_case(applicant="张三", respondent="杭州某物业公司", route_to=world.wang, risk_level="high")
    login("staff")
    page = client.get("/cases/").get_data(as_text=True)
    assert "张三" in page and "杭州某物业公司" in page
    assert "西湖调〔2026〕1号" in page
    assert "已委派" in page and "王调解" in page and "西湖人民调解委员会" in page
    assert "2026-04-01" in page or "2026/4/1" in page or "26/4/1" in page  # deadline
    assert "<script>" not in page


def test_sorting_oldest_and_by_deadline(client, login, world, new_case):
    first = new_case(at=T0)
    second = new_case(at=T0 + timedelta(days=1), route_to=world.wang, category_code="labour")
    third = new_case(at=T0 + timedelta(days=2), route_to=world.wang, category_code="family")
    login("staff")
    assert listed(client) == [third, second, first]
    assert listed(client, sort="oldest") == [first, second, third]
    # By deadline: the cases in mediation, soonest first.
    assert listed(client, sort="deadline") == [second, third]


def test_search_by_case_number_typed_on_a_phone(client, login, app, new_case):
    ids = [new_case(at=T0 + timedelta(minutes=i)) for i in range(12)]
    login("staff")
    assert listed(client, q=" 西湖调（2026） 2号 ") == [ids[1]]
    assert listed(client, q="西湖调[2026]2号") == [ids[1]]
    # Without 号 it is still that number, not every number it starts.
    assert listed(client, q="西湖调〔2026〕1") == [ids[0]]
    assert listed(client, q="11") == [ids[10]]


def test_search_by_party_name_prefix(client, login, new_case):
    zhang = new_case(applicant="张三")
    zhang_si = new_case(applicant="王五", respondent="张四")
    new_case(applicant="李张明", respondent="赵六")
    login("staff")
    assert listed(client, q="张") == [zhang_si, zhang]
    assert listed(client, q="张三") == [zhang]
    assert listed(client, q="%") == []
    assert listed(client, q="李张") != [] and listed(client, q="明") == []


def test_party_name_search_uses_the_name_index(app, db, world):
    """A name of two or more characters starts from the name index (one character, a
    common surname, is probed per case instead)."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite query plan")
    from mediation.cases.queries import CaseFilter, list_query

    staff = _db.session.scalar(select(User).filter_by(username="staff-330106"))
    statement, params = list_query(staff, CaseFilter(q="张三"), None, True, 25)
    compiled = statement.params(params).compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(_explain(compiled)).all()
    assert any("ix_party_name" in str(row) for row in plan), plan


def _explain(compiled):
    return text(f"EXPLAIN QUERY PLAN {compiled}")


# --- pagination -----------------------------------------------------------------------------


def _walk(client, first_url):
    """Follow "more results" links to the end: the ids of each page, and the last page."""
    pages, url = [], first_url
    while url:
        page = client.get(url).get_data(as_text=True)
        pages.append([int(i) for i in CASE_LINK.findall(page)])
        match = re.search(r'rel="next"\s+href="([^"]+)"', page)
        url = match.group(1).replace("&amp;", "&") if match else None
    return pages, page


@pytest.mark.parametrize("sort", ["newest", "oldest", "deadline"])
def test_keyset_pages_have_no_gaps_or_duplicates(app, client, login, world, new_case, sort):
    ids = []
    for i in range(7):
        # Pairs share the same registration time: the id breaks the tie.
        at = T0 + timedelta(hours=i // 2)
        ids.append(new_case(at=at, route_to=world.wang if i % 3 else None))
    app.config["CASE_LIST_PAGE_SIZE"] = 3
    try:
        login("staff")
        pages, last = _walk(client, f"/cases/?sort={sort}")
        with app.app_context():
            cases = {c.id: c for c in _db.session.scalars(select(Case))}
        if sort == "deadline":
            ids = [i for i in ids if cases[i].deadline_on]
        flat = [i for p in pages for i in p]
        assert [len(p) for p in pages] == [3, 3, 1] if sort != "deadline" else [3, 2]
        assert sorted(flat) == sorted(ids) and len(set(flat)) == len(ids)
        if sort == "newest":
            expected = sorted(ids, key=lambda i: (cases[i].registered_at, i), reverse=True)
        elif sort == "oldest":
            expected = sorted(ids, key=lambda i: (cases[i].registered_at, i))
        else:
            expected = sorted(
                ids, key=lambda i: (cases[i].deadline_on is None, cases[i].deadline_on or 0, i)
            )
        assert flat == expected
        # And back: "previous page" from the last page shows the page before again.
        match = re.search(r'rel="prev"\s+href="([^"]+)"', last)
        back = client.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
        assert [int(i) for i in CASE_LINK.findall(back)] == pages[-2]
        assert 'rel="next"' in back
    finally:
        app.config.pop("CASE_LIST_PAGE_SIZE")


def test_deadline_pages_put_cases_without_a_deadline_last(app, client, login, world, new_case):
    ids = [
        new_case(at=T0 + timedelta(minutes=i), route_to=world.wang if i % 2 else None)
        for i in range(5)
    ]
    with app.app_context():
        actor = wf.Actor.for_user(_db.session.get(User, world.staff))
        for case_id in ids:
            wf.withdraw_case(_db.session.get(Case, case_id), "撤回", actor)
        _db.session.commit()
    app.config["CASE_LIST_PAGE_SIZE"] = 1
    try:
        login("staff")
        pages, last = _walk(client, "/cases/?sort=deadline&state=withdrawn")
        assert [i for p in pages for i in p] == [ids[1], ids[3], ids[0], ids[2], ids[4]]
        back = []
        while (match := re.search(r'rel="prev"\s+href="([^"]+)"', last)) is not None:
            last = client.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
            back += [int(i) for i in CASE_LINK.findall(last)]
        assert back == [ids[2], ids[0], ids[3], ids[1]]
    finally:
        app.config.pop("CASE_LIST_PAGE_SIZE")


def test_a_malformed_cursor_shows_the_first_page(client, login, new_case):
    only = new_case()
    login("staff")
    assert listed(client, after="garbage") == [only]
    assert listed(client, before="x_y", sort="oldest") == [only]
    assert listed(client, after="-_1", sort="newest") == [only]


def test_list_page_runs_a_bounded_number_of_queries(app, client, login, world, new_case):
    def queries_for_list() -> int:
        with recorded_statements(app) as statements:
            assert client.get("/cases/").status_code == 200
        return len(statements)

    for i in range(5):
        new_case(at=T0 + timedelta(minutes=i), route_to=world.wang)
    login("staff")
    few = queries_for_list()
    for i in range(25):
        new_case(at=T0 + timedelta(hours=1, minutes=i), route_to=world.zhao)
    assert queries_for_list() == few
    assert few <= 12


# --- who sees what --------------------------------------------------------------------------


def test_mediator_sees_only_own_cases(app, client, login, world, new_case):
    mine = new_case(route_to=world.wang)
    new_case(route_to=world.zhao)
    new_case()
    login("mediator")
    assert listed(client) == [mine]
    assert listed(client, mediator=world.zhao) == []
    assert listed(client, q="张") == [mine]


def test_mediator_without_a_mediator_row_sees_nothing(client, login, new_case, make_user):
    new_case()
    make_user("mediator", username="newcomer")
    login("mediator", username="newcomer")
    assert listed(client) == []
    assert 'id="deadlines"' not in client.get("/cases/mine").get_data(as_text=True)


def test_other_centres_cases_are_invisible(client, login, world, new_case):
    own = new_case()
    other = new_case(centre="b", applicant="张其他")
    login("staff")
    assert listed(client) == [own]
    assert listed(client, q="张其") == []
    assert listed(client, centre=world.centre_b) == [own]  # not a global admin: ignored
    client.post_form("/logout")
    login("staff", centre="330105")
    assert listed(client) == [other]


def test_global_admin_sees_every_centre_and_can_pick_one(client, login, world, new_case):
    own = new_case()
    other = new_case(centre="b", at=T0 + timedelta(hours=1))
    login("admin", centre=None)
    assert listed(client) == [other, own]
    assert listed(client, centre=world.centre_b) == [other]
    page = client.get("/cases/dashboard", query_string={"centre": world.centre_b})
    assert "拱墅区社会矛盾纠纷调处化解中心" in page.get_data(as_text=True)


# --- dashboards -----------------------------------------------------------------------------


def _section(page: str, name: str) -> str:
    start = page.index(f'id="queue-{name}"')
    return page[start : page.index("</section>", start)]


def test_staff_dashboard_queues(app, client, login, world, new_case):
    overdue = new_case(at=T0, applicant="逾期分流")
    fresh = new_case(at=T0 + timedelta(days=9), applicant="新登记")
    near = new_case(at=T0, route_to=world.wang, applicant="将到期")  # deadline 1 April
    far = new_case(at=T0 + timedelta(days=20), route_to=world.zhao, applicant="期限尚远")
    risky = new_case(at=T0 + timedelta(days=1), applicant="高风险", people_involved=12)
    old_end = new_case(at=T0 - timedelta(days=60), applicant="早已办结")
    recent_end = new_case(at=T0, applicant="新近办结")
    with app.app_context():
        actor = wf.Actor.for_user(_db.session.get(User, world.staff))
        wf.withdraw_case(_db.session.get(Case, old_end), "申请人撤回", actor, at=T0 - timedelta(50))
        wf.withdraw_case(_db.session.get(Case, recent_end), "和解", actor, at=T0 + timedelta(20))
        _db.session.commit()
    login("staff")
    with clock.frozen_at(T0 + timedelta(days=28)):  # Monday 30 March, Shanghai
        page = client.get("/cases/dashboard").get_data(as_text=True)
    triage = _section(page, "triage")
    # By triage due date: high risk is due after one working day, the others after three.
    assert triage.index("高风险") < triage.index("逾期分流") < triage.index("新登记")
    assert "逾期" in triage  # the overdue mark
    assert ">3<" in triage.replace(" ", "").replace("\n", "")
    deadline = _section(page, "deadline")
    assert "将到期" in deadline and "期限尚远" not in deadline
    assert "queue=deadline" in deadline
    high = _section(page, "high_risk")
    assert "高风险" in high and "逾期分流" not in high
    concluded = _section(page, "concluded")
    assert "新近办结" in concluded and "早已办结" not in concluded
    # The "full list" links apply the same queue.
    with clock.frozen_at(T0 + timedelta(days=28)):
        assert listed(client, queue="deadline", sort="deadline") == [near]
        assert set(listed(client, queue="triage")) == {overdue, fresh, risky}
        assert listed(client, queue="concluded") == [recent_end]
        assert listed(client, queue="high_risk") == [risky]
    assert far


def test_deadline_window_follows_the_centre_setting(app, client, login, world, new_case):
    from mediation.directory.models import CentreSettings

    near = new_case(at=T0, route_to=world.wang, applicant="将到期")  # deadline 1 April
    with app.app_context():
        _db.session.add(CentreSettings(centre_id=world.centre_a, warning_days=1))
        _db.session.commit()
    login("staff")
    with clock.frozen_at(T0 + timedelta(days=28)):  # 30 March: 2 days left
        assert listed(client, queue="deadline") == []
    with clock.frozen_at(T0 + timedelta(days=29)):
        assert listed(client, queue="deadline") == [near]


def test_home_is_the_dashboard_for_each_role(client, login, world, new_case):
    new_case(applicant="首页可见")
    login("staff")
    page = client.get("/").get_data(as_text=True)
    assert 'id="queue-triage"' in page and "首页可见" in page
    client.post_form("/logout")
    login("mediator")
    page = client.get("/").get_data(as_text=True)
    assert 'id="deadlines"' in page and "首页可见" not in page


def test_mediator_dashboard(app, client, login, world, new_case):
    soon = new_case(at=T0, route_to=world.wang, applicant="期限近")
    later = new_case(at=T0 + timedelta(days=10), route_to=world.wang, applicant="期限远")
    new_case(at=T0, route_to=world.zhao, applicant="别人的")
    with app.app_context():
        actor = wf.Actor.for_user(_db.session.get(User, world.staff))
        case = _db.session.get(Case, later)
        wf.record_session(
            case,
            T0 + timedelta(days=30),
            actor,
            place="调解室一",
            attendance="双方到场",
            minutes="陈述",
        )
        _db.session.add(
            MediationSession(case_id=soon, held_at=T0 + timedelta(days=5), place="过去的")
        )
        _db.session.commit()
    login("mediator")
    with clock.frozen_at(T0 + timedelta(days=27)):  # 29 March
        page = client.get("/cases/mine").get_data(as_text=True)
    assert "别人的" not in page
    assert re.search(r'data-state="assigned">\s*1<', page)
    assert re.search(r'data-state="mediating">\s*1<', page)
    sessions = page[page.index('id="sessions"') : page.index('id="deadlines"')]
    assert "调解室一" in sessions and "过去的" not in sessions
    deadlines = page[page.index('id="deadlines"') :]
    assert deadlines.index("期限近") < deadlines.index("期限远")
    assert "3 天" in deadlines or "3 days" in deadlines


# --- bulk actions ---------------------------------------------------------------------------


def _events(app, action: str) -> list[CaseEvent]:
    with app.app_context():
        return list(_db.session.scalars(select(CaseEvent).filter_by(action=action)))


def test_bulk_route_routes_every_selected_case(app, client, login, world, new_case):
    ids = [new_case(at=T0 + timedelta(minutes=i)) for i in range(3)]
    login("staff")
    response = client.post_form(
        "/cases/bulk?state=registered",
        {"case_id": ids, "action": "route", "mediator": world.zhao},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/cases/?state=registered"
    with app.app_context():
        cases = _db.session.scalars(select(Case).where(Case.id.in_(ids))).all()
        assert {c.state for c in cases} == {"assigned"}
        assert {c.organization_id for c in cases} == {world.traffic}
        assert all(c.deadline_on for c in cases)
    assert sorted(e.case_id for e in _events(app, "route")) == sorted(ids)


def test_bulk_reassign(app, client, login, world, new_case):
    ids = [new_case(route_to=world.wang), new_case(route_to=world.wang)]
    login("staff")
    response = client.post_form(
        "/cases/bulk", {"case_id": ids, "action": "reassign", "mediator": world.zhao, "reason": ""}
    )
    assert response.status_code == 200 and not _events(app, "reassign")
    response = client.post_form(
        "/cases/bulk",
        {"case_id": ids, "action": "reassign", "mediator": world.zhao, "reason": "王调解休假"},
    )
    assert response.status_code == 302
    events = _events(app, "reassign")
    assert sorted(e.case_id for e in events) == sorted(ids)
    assert all(e.details["reason"] == "王调解休假" for e in events)


def test_bulk_with_one_refused_case_writes_nothing(app, client, login, world, new_case):
    good = new_case(at=T0)
    bad = new_case(at=T0 + timedelta(minutes=1), route_to=world.wang)
    login("staff")
    response = client.post_form(
        "/cases/bulk", {"case_id": [good, bad], "action": "route", "mediator": world.zhao}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert case_number(app, bad) in page
    assert "已委派" in page
    # The selection is kept.
    for case_id in (good, bad):
        assert re.search(rf'value="{case_id}"\s+form="bulk-form"[^>]*\s+checked', page)
    assert [e.case_id for e in _events(app, "route")] == [bad]
    with app.app_context():
        assert _db.session.get(Case, good).state == "registered"


def test_bulk_refuses_another_centres_case(app, client, login, world, new_case):
    own = new_case()
    other = new_case(centre="b")
    login("staff")
    response = client.post_form(
        "/cases/bulk", {"case_id": [own, other], "action": "route", "mediator": world.zhao}
    )
    assert response.status_code == 404
    response = client.post_form("/cases/bulk", {"case_id": [other], "action": "export"})
    assert response.status_code == 404
    assert not _events(app, "route")


def test_bulk_route_to_another_centres_mediator_is_refused(app, client, login, world, new_case):
    own = new_case()
    login("staff")
    response = client.post_form(
        "/cases/bulk", {"case_id": [own], "action": "route", "mediator": world.qian}
    )
    assert response.status_code == 200 and not _events(app, "route")


def test_bulk_without_a_selection(client, login, world):
    login("staff")
    response = client.post_form("/cases/bulk", {"action": "route", "mediator": world.zhao})
    assert response.status_code == 302
    assert client.post_form("/cases/bulk", {"case_id": [1], "action": "drop"}).status_code == 400


def test_csv_export_has_bom_and_rows(app, client, login, world, new_case):
    first = new_case(applicant="张三", respondent="=HYPERLINK(1)", route_to=world.wang)
    second = new_case(applicant="李四", at=T0 + timedelta(days=1))
    login("staff")
    response = client.post_form("/cases/bulk", {"case_id": [first, second], "action": "export"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("案号")
    assert case_number(app, first) in lines[1] and "王调解" in lines[1]
    assert "'=HYPERLINK(1)" in lines[1]
    assert "李四" in lines[2] and "待分流" in lines[2]
    number = case_number(app, first)
    with app.app_context():
        entry = _db.session.scalar(select(AuditEntry).filter_by(action="cases.export"))
        assert entry is not None and number in entry.details["cases"]


# --- roles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (None, {"index": 302, "dashboard": 302, "mine": 302, "bulk": 302}),
        ("staff", {"index": 200, "dashboard": 200, "mine": 403, "bulk": 200}),
        ("admin", {"index": 200, "dashboard": 200, "mine": 403, "bulk": 200}),
        ("mediator", {"index": 200, "dashboard": 403, "mine": 200, "bulk": 403}),
    ],
)
def test_roles_per_route(client, login, world, new_case, role, expected):
    case_id = new_case()
    if role:
        login(role)
    got = {
        "index": client.get("/cases/").status_code,
        "dashboard": client.get("/cases/dashboard").status_code,
        "mine": client.get("/cases/mine").status_code,
        "bulk": client.post_form(
            "/cases/bulk", {"case_id": [case_id], "action": "export"}
        ).status_code,
    }
    assert got == expected
    if role is None:
        assert "/login" in client.get("/cases/").headers["Location"]


def test_queue_counts_stop_past_the_cap(app, db, world, new_case, monkeypatch):
    """A queue counts at most cap + 1 cases (the page shows "1000+"), reading each state's
    and risk level's range in turn."""
    from mediation.cases import queries

    for i in range(4):
        new_case(at=T0 + timedelta(minutes=i), risk_level=("high", "critical")[i % 2])
    with app.app_context():
        centre = world.centre_a
        counts = {q.name: q.count for q in queries.staff_queues(centre)}
        assert counts["triage"] == counts["high_risk"] == 4
        monkeypatch.setattr(queries, "COUNT_CAP", 2)
        counts = {q.name: q.count for q in queries.staff_queues(centre)}
        assert counts["triage"] == counts["high_risk"] == 3


def test_queue_counts_follow_every_change_up_to_the_cap(app, db, world, new_case, monkeypatch):
    """Each dashboard counts its queues afresh: past the cap it shows "cap+", and a case
    that leaves a queue leaves its count on the next page."""
    from mediation.cases import queries

    ids = [new_case(at=T0 + timedelta(minutes=i)) for i in range(3)]
    monkeypatch.setattr(queries, "COUNT_CAP", 2)

    def queues():
        return {q.name: q for q in queries.staff_queues(world.centre_a)}

    def change(case_id, **values):
        _db.session.execute(update(Case).where(Case.id == case_id).values(**values))
        _db.session.commit()

    assert queues()["triage"].count == 3  # "2+"
    change(ids[0], state="withdrawn")
    change(ids[1], risk_level="high")
    shown = queues()
    assert shown["triage"].count == 2
    assert {case.id for case in shown["triage"].cases} == {ids[1], ids[2]}
    assert shown["high_risk"].count == 1
    change(ids[2], state="withdrawn")
    assert queues()["triage"].count == 1


# How each queue is sorted on the dashboard (SPEC 3.3: soonest due first; newest first).
QUEUE_ORDER = {
    "triage": (Case.triage_due_on, Case.id),
    "deadline": (Case.deadline_on, Case.id),
    "high_risk": (Case.id.desc(),),
    "concluded": (Case.concluded_at.desc(), Case.id.desc()),
}


def test_queues_read_per_state_give_the_plain_query_result(app, db, world, new_case):
    """Each queue, read one index range per state (and risk level) and merged, has the cases,
    order and count of the plain `IN` query; so have a mediator's deadlines."""
    from mediation.cases import queries
    from mediation.cases.states import IN_MEDIATION

    ids = [
        new_case(at=T0 + timedelta(hours=i), route_to=world.wang if i % 3 else None)
        for i in range(12)
    ]
    with app.app_context():
        for i, case in enumerate(_db.session.scalars(select(Case).where(Case.id.in_(ids)))):
            case.risk_level = ("high", "critical", "low", "high")[i % 4]
            if case.mediator_id is not None:
                case.state = "mediating" if i % 2 else "assigned"
                # Out of id order, with ties, some outside the warning window.
                case.deadline_on = T0.date() + timedelta(days=23 + (7 * i) % 13)
        _db.session.commit()
    with app.app_context(), clock.frozen_at(T0 + timedelta(days=28)):
        centre = world.centre_a
        for size in (1, 3, 20):
            queues = {queue.name: queue for queue in queries.staff_queues(centre, size=size)}
            for name in queries.QUEUES:
                conditions = [Case.centre_id == centre, queries.queue_condition(name)]
                plain = select(Case.id).where(*conditions).order_by(*QUEUE_ORDER[name])
                expected = list(_db.session.scalars(plain, queries.queue_dates(centre)))
                assert len(expected) >= 2 or name == "concluded", name
                got = queues[name]
                assert [case.id for case in got.cases] == expected[:size], (name, size)
                assert got.count == len(expected), name
                # A case in two queues has its parties' names in both.
                assert all(case.applicants == ["张三"] for case in got.cases), name
        mediator = _db.session.get(Mediator, world.wang)
        in_mediation = [s.value for s in IN_MEDIATION]
        plain = (
            select(Case.id)
            .where(Case.mediator_id == world.wang, Case.state.in_(in_mediation))
            .order_by(Case.deadline_on, Case.id)
        )
        expected = list(_db.session.scalars(plain))
        for limit in (1, 5, 100):
            got = queries.mediator_deadlines(mediator, limit=limit)
            assert [case.id for case in got] == expected[:limit]


def _cells(app):
    """cases/_cells.html as the pages import it, with the page's labels."""
    from mediation.cases.states import RISK_LEVELS, STATE_LABELS

    labels = {
        "states": {code: str(label) for code, label in STATE_LABELS.items()},
        "risks": {code: str(label) for code, label in RISK_LEVELS.items()},
    }
    return app.jinja_env.get_template("cases/_cells.html").make_module(labels)


def test_row_cells_read_alike_on_every_list(app):
    """The cells the list, the queues and the mediator's dashboard share (cases/_cells.html)."""
    row = SimpleNamespace(
        id=7,
        number="西湖调〔2026〕7号",
        state="mediating",
        risk_level="low",
        deadline_on=date(2026, 3, 2),
        applicants=["张三", "王五"],
        respondents=["<b>李四</b>"],
    )
    with app.test_request_context("/", base_url="http://intranet/mediation"):
        cells = _cells(app)
        assert cells.case_link(row) == (
            '<a href="/mediation/cases/7" class="text-nowrap">西湖调〔2026〕7号</a>'
        )
    with app.test_request_context("/"):
        cells = _cells(app)
        assert (
            cells.case_link(row) == '<a href="/cases/7" class="text-nowrap">西湖调〔2026〕7号</a>'
        )
        # The first party of each side, "et al." for the rest; names are escaped.
        versus = '<span class="text-muted">与</span>'
        assert cells.parties(row) == f"张三 等 {versus} &lt;b&gt;李四&lt;/b&gt;"
        assert cells.state_badge(row) == '<span class="badge text-bg-primary">调解中</span>'
        assert cells.risk_badge(row) == '<span class="text-muted">低</span>'
        row.risk_level = "high"
        assert cells.risk_badge(row) == '<span class="badge text-bg-danger">高</span>'
        # Overdue only after the deadline day and only while a mediator has the case.
        assert "已逾期" not in cells.deadline(row, date(2026, 3, 2))
        assert "已逾期" in cells.deadline(row, date(2026, 3, 3))
        row.state = "agreed"
        assert "已逾期" not in cells.deadline(row, date(2026, 3, 3))
        # Triage: due on the day shown, overdue the day after.
        row.triage_due_on = date(2026, 3, 2)
        assert cells.triage_due(row, date(2026, 3, 2)) == (
            '<span class="text-nowrap">分流期限 2026/3/2</span>'
        )
        assert "已逾期" in cells.triage_due(row, date(2026, 3, 3))
        row.deadline_on, row.respondents = None, []
        assert cells.deadline(row, date(2026, 3, 3)) == "—"
        assert cells.parties(row).endswith(f"{versus} —")
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        cells = _cells(app)
        row.state, row.deadline_on = "assigned", date(2026, 3, 2)
        assert cells.parties(row).startswith("张三 et al. ")
        assert "Overdue" in cells.deadline(row, date(2026, 3, 3))
        assert cells.risk_badge(row) == '<span class="badge text-bg-danger">High</span>'


def test_list_and_queue_rows_escape_what_they_show(app, client, login, world, new_case):
    """Every name a row shows is text, on the list and in each queue it is in."""
    new_case(at=T0, applicant="<script>alert(1)</script>", risk_level="high")
    new_case(at=T0, route_to=world.wang, respondent="<b>李四</b>")  # deadline 1 April
    with app.app_context():
        _db.session.get(Organization, world.people).name = "<i>西湖人民调解委员会</i>"
        _db.session.get(Mediator, world.wang).name = "<u>王调解</u>"
        _db.session.commit()
    login("staff")
    names = {
        "<script>alert(1)</script>": "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<b>李四</b>": "&lt;b&gt;李四&lt;/b&gt;",
        "<i>西湖人民调解委员会</i>": "&lt;i&gt;西湖人民调解委员会&lt;/i&gt;",
        "<u>王调解</u>": "&lt;u&gt;王调解&lt;/u&gt;",
    }
    with clock.frozen_at(T0 + timedelta(days=28)):  # Monday 30 March, Shanghai
        rows = client.get("/cases/").get_data(as_text=True)
        queues = client.get("/cases/dashboard").get_data(as_text=True)
    for name, escaped in names.items():
        assert name not in rows and escaped in rows
        assert name not in queues
    for queue, name in [
        ("triage", "<script>alert(1)</script>"),
        ("high_risk", "<script>alert(1)</script>"),
        ("deadline", "<b>李四</b>"),
        ("deadline", "<u>王调解</u>"),
    ]:
        assert names[name] in _section(queues, queue), (queue, name)


def test_the_signed_in_user_comes_with_settings_and_unread_count(
    app, client, login, world, new_case
):
    """One statement loads the signed-in user with their centre's settings and their unread
    notices: the dashboard and a case page ask for neither again."""
    case_id = new_case(route_to=world.wang)
    login("staff")
    for url in ("/cases/dashboard", f"/cases/{case_id}"):
        with recorded_statements(app) as statements:
            assert client.get(url).status_code == 200
        [user_query] = [s for s in statements if "login_session" in s]
        for table in ("centre_settings", "outbox_message"):
            assert [s for s in statements if table in s] == [user_query], (url, table)


def test_the_list_statement_is_kept_per_shape_with_every_value_a_parameter(app, world, make_user):
    """Two viewers, filters or places of the same shape share one statement, their values
    given as parameters; every change of shape (the viewer's scope, each filter set or not,
    how the search reads, the queue, the sort, the cursor, the direction, the page size)
    makes another statement."""
    from dataclasses import replace

    from mediation.cases import queries, search
    from mediation.cases.queries import CaseFilter, list_query

    admin = make_user("admin", centre=None)
    with app.app_context():
        staff, staff_b, mediator, admin = (
            _db.session.get(User, user_id)
            for user_id in (world.staff, world.staff_b, _user_id("mediator-330106"), admin.id)
        )
        base = CaseFilter()

        def query(user=staff, cursor=None, forward=True, size=25, **values):
            return list_query(user, replace(base, **values), cursor, forward, size)

        statement, params = query()
        other_centre, its_params = query(user=staff_b)
        assert other_centre is statement
        assert (params["scope_centre"], its_params["scope_centre"]) == (
            world.centre_a,
            world.centre_b,
        )
        (one, params_a), (two, params_b) = query(state="registered"), query(state="mediating")
        assert one is two and (params_a["state"], params_b["state"]) == ("registered", "mediating")
        (one, params_a), (two, params_b) = query(q="张三"), query(q="李四")
        assert one is two and params_a["q_like"] != params_b["q_like"]
        (one, params_a), (two, params_b) = query(q="2026 1"), query(q="2025 214")
        assert one is two and (params_a["q_seq"], params_b["q_seq"]) == (1, 214)

        when = datetime(2026, 3, 1, tzinfo=UTC)
        shapes = {
            "mediator's scope": query(user=mediator),
            "every centre": query(user=admin),
            "a chosen centre": query(user=admin, centre=world.centre_a),
            "registered from": query(registered_from=date(2026, 1, 1)),
            "registered to": query(registered_to=date(2026, 1, 1)),
            "a whole number": query(q="西湖调〔2026〕1号"),
            "a year and a number": query(q="2026 1"),
            "part of a number": query(q="2026"),
            "a surname": query(q="张"),
            "three characters of a name": query(q="张三丰"),
            "a mobile": query(q="13812345678"),
            "an ID number": query(q="11010519491231002X"),
            "a queue": query(queue="triage"),
            "the oldest first": query(sort="oldest"),
            "the deadline first": query(sort="deadline"),
            "after a case": query(cursor=(when, 5)),
            "before a case": query(cursor=(when, 5), forward=False),
            "past the dated cases": query(sort="deadline", cursor=(None, 5)),
            "a longer page": query(size=50),
            **{
                name: query(**{name: 1 if name in ("organization", "mediator") else "x"})
                for name in ("state", "category", "channel", "organization", "mediator", "risk")
            },
        }
        if _db.engine.dialect.name == "sqlite":
            # A search of parties that finds many reads the list in order instead.
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(search, "MANY_PARTIES", -1)
                shapes["a name many parties have"] = query(q="张三")
        statements = [statement] + [found for found, _params in shapes.values()]
        assert len({id(found) for found in statements}) == len(statements)

        # The count of what a search finds: one statement per shape of a first page and cap.
        def count(q, cap=1000, **values):
            shape, _params = queries._shape_and_params(
                staff, replace(base, q=q, **values), None, True, 0
            )
            return queries._count_statement(shape, cap)

        assert count("张三") is count("李四") and count("214") is count("42")
        counts = [count("张三"), count("214"), count("张三", cap=10), count("张三", state="x")]
        assert len({id(found) for found in counts}) == len(counts)


def _user_id(username: str) -> int:
    return _db.session.scalar(select(User.id).filter_by(username=username))


def test_the_deadline_shows_only_while_a_case_is_in_mediation(client, db, login, make_case):
    """An agreed, transferred or closed case has no mediation deadline left to meet: neither
    the list nor the case page shows one (the party's page neither: tests/test_portal.py)."""
    cases = {state: make_case(state) for state in ("mediating", "agreed", "transferred")}
    ids = {state: case.id for state, case in cases.items()}
    assert all(case.deadline_on for case in cases.values())
    db.session.rollback()
    login("staff")
    page = client.get("/cases/").get_data(as_text=True)
    for state, case_id in ids.items():
        row = re.search(rf'href="/cases/{case_id}".*?</tr>', page, re.S).group(0)
        cell = re.search(r'data-label="期限">(.*?)</td>', row, re.S).group(1).strip()
        assert (cell == "—") == (state != "mediating"), (state, cell)
        detail = client.get(f"/cases/{case_id}").get_data(as_text=True)
        assert ("调解期限" in detail) == (state == "mediating"), state
