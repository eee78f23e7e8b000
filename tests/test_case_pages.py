"""Intake, the case page and the action forms, through the web client."""

import re
import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from mediation import clock
from mediation.auth.models import User
from mediation.cases import workflow as wf
from mediation.cases.access_codes import code_matches
from mediation.cases.models import (
    Agreement,
    Case,
    CaseEvent,
    FollowUp,
    MediationSession,
    Party,
    Transfer,
)
from mediation.cases.states import State
from mediation.directory.models import Mediator, Organization
from tests.case_factory import build_case
from tests.conftest import PASSWORD, recorded_statements
from tests.double_click import double_click

INTAKE = {
    "channel": "walk_in",
    "category": "labour",
    "street": "北山街道",
    "amount": "52000.50",
    "people_involved": "1",
    "risk_level": "low",
    "summary": "拖欠工资三个月。",
    "claims": "支付工资 52000.50 元。",
    "parties-0-role": "applicant",
    "parties-0-kind": "person",
    "parties-0-name": "王小明",
    "parties-0-id_number": "11010519491231002X",
    "parties-0-phone": "13812345678",
    "parties-1-role": "respondent",
    "parties-1-kind": "organization",
    "parties-1-name": "杭州某某科技有限公司",
}


def shanghai_today():
    """Today in the centre's zone (Asia/Shanghai), which is what the forms validate against:
    after 16:00 UTC it is already tomorrow there."""
    return clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()


def session(app):
    return app.extensions["sqlalchemy"].session


@pytest.fixture
def mediation_org(app, make_user):
    """An organisation of the default centre with a mediator who has a login."""
    mediator_user = make_user("mediator", username="mediator-a")
    with app.app_context():
        db = session(app)
        org = Organization(
            centre_id=mediator_user.centre_id,
            name="西湖区劳动争议调解中心",
            kind="professional",
            phone="0571-88880000",
        )
        db.add(org)
        db.flush()
        mediator = Mediator(
            centre_id=org.centre_id, organization_id=org.id, name="张调解", user_id=mediator_user.id
        )
        db.add(mediator)
        db.commit()
        return {"org": org.id, "mediator": mediator.id, "user": mediator_user}


def version(app, case_id) -> str:
    """The version a user who opens the case page now would submit."""
    with app.app_context():
        return str(session(app).get(Case, case_id).version)


def route(app, client, case_id, mediation_org):
    return client.post_form(
        f"/cases/{case_id}/act/route",
        {"mediator": str(mediation_org["mediator"]), "version": version(app, case_id)},
    )


def register(client, **changes):
    return client.post_form("/cases/new", {**INTAKE, **changes})


def test_staff_registers_a_case_and_sees_each_access_code_once(app, client, login):
    login("staff")
    with clock.frozen_at(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)):
        response = register(client)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "西湖调〔2026〕1号" in page
    codes = re.findall(r'class="access-code[^"]*">([2-9A-Z]{8})<', page)
    assert len(codes) == 2 and codes[0] != codes[1]
    with app.app_context():
        case = session(app).scalar(select(Case))
        parties = session(app).scalars(select(Party).order_by(Party.position)).all()
        assert case.state == "registered"
        assert case.amount == __import__("decimal").Decimal("52000.50")
        # Stored only as a hash that matches the code shown.
        assert all(codes[i] not in p.access_code_hash for i, p in enumerate(parties))
        assert code_matches(case.number, codes[0], parties[0].access_code_hash)
        assert not code_matches(case.number, codes[0], parties[1].access_code_hash)
        assert session(app).scalar(select(CaseEvent.action)) == "register"
    # The case page never shows the codes, and masks ID and phone.
    detail = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert codes[0] not in detail
    assert "1101**********002X" in detail and "138****5678" in detail
    assert "11010519491231002X" not in detail


def test_bad_id_number_is_refused_beside_the_field_and_nothing_is_written(app, client, login):
    login("staff")
    page = register(client, **{"parties-0-id_number": "110105194912310021"}).get_data(as_text=True)
    assert "身份证号码无效" in page
    assert 'value="王小明"' in page and "拖欠工资三个月。" in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 0


@contextmanager
def another_clerk_saving(app):
    """Another worker in the middle of saving a case: on SQLite it holds the one write lock
    (its transaction began writing), on PostgreSQL a lock that lets no case be inserted."""
    with app.app_context():
        connection = app.extensions["sqlalchemy"].engine.connect()
        try:
            if connection.dialect.name == "postgresql":
                connection.execute(text("LOCK TABLE dispute_case IN EXCLUSIVE MODE"))
            else:
                connection.execute(text("SELECT 1"))  # outside a request: BEGIN IMMEDIATE
            yield
        finally:
            connection.rollback()
            connection.close()


def test_a_refused_registration_does_not_wait_for_another_clerks_save(app, client, login):
    """A registration takes the write lock only once its form is valid (SQLite has one
    writer at a time), so a clerk whose form is refused is answered while another clerk's
    save is under way."""
    login("staff")
    answers = []
    worker = threading.Thread(
        target=lambda: answers.append(register(client, **{"parties-1-role": "applicant"}))
    )
    with another_clerk_saving(app):
        worker.start()
        worker.join(timeout=5)
        answered_while_saving = not worker.is_alive()
    worker.join()
    assert answered_while_saving
    assert "至少需要一名申请人和一名被申请人" in answers[0].get_data(as_text=True)
    assert register(client).status_code == 200  # and a valid form registers as before
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 1


def test_a_case_needs_an_applicant_and_a_respondent(app, client, login):
    login("staff")
    page = register(client, **{"parties-1-role": "applicant"}).get_data(as_text=True)
    assert "至少需要一名申请人和一名被申请人" in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 0


def test_add_party_keeps_the_input_and_saves_nothing(app, client, login):
    login("staff")
    page = register(client, add_party="1").get_data(as_text=True)
    assert 'name="parties-2-name"' in page and 'value="王小明"' in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 0


def test_risk_is_raised_from_the_facts(app, client, login):
    login("staff")
    register(client, people_involved="12", risk_level="low")
    with app.app_context():
        assert session(app).scalar(select(Case.risk_level)) == "high"


def test_mediators_cannot_register(client, login):
    login("mediator")
    assert client.get("/cases/new").status_code == 403


def registered_case(app, client, login):
    login("staff")
    register(client)
    with app.app_context():
        return session(app).scalar(select(Case.id))


def test_route_from_the_case_page_writes_the_deadline_and_the_timeline(
    app, client, login, mediation_org
):
    case_id = registered_case(app, client, login)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert f"/cases/{case_id}/act/route" in page
    assert f"/cases/{case_id}/act/agree" not in page  # not allowed in this state
    form = client.get(f"/cases/{case_id}/act/route").get_data(as_text=True)
    assert "张调解" in form
    with clock.frozen_at(datetime(2026, 3, 3, 2, 0, tzinfo=UTC)):
        response = route(app, client, case_id, mediation_org)
    assert response.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "已委派" in page and "张调解" in page
    with app.app_context():
        case = session(app).get(Case, case_id)
        assert case.deadline_on.isoformat() == "2026-04-02"


def test_a_second_save_on_a_changed_case_is_refused_and_the_input_kept(
    app, client, login, mediation_org
):
    case_id = registered_case(app, client, login)
    route(app, client, case_id, mediation_org)
    seen = version(app, case_id)  # both users open the case at this version
    other = app.test_client()
    other.post_form("/login", {"username": "mediator-a", "password": PASSWORD})
    # Tomorrow's session is an appointment, which needs no minutes, whatever the hour now.
    tomorrow = shanghai_today() + timedelta(days=1)
    saved = other.post_form(
        f"/cases/{case_id}/act/record_session",
        {"held_at": f"{tomorrow}T09:30", "is_online": "y", "version": seen},
    )
    assert saved.status_code == 302
    page = client.post_form(
        f"/cases/{case_id}/act/extend",
        {
            "days": "10",
            "reason": "双方同意",
            "version": seen,
            "consents-0": "书面同意",
            "consents-1": "电话同意",
        },
    ).get_data(as_text=True)
    assert "已被他人修改" in page
    assert 'value="双方同意"' in page and 'value="书面同意"' in page
    with app.app_context():
        case = session(app).get(Case, case_id)
        assert case.extension_days == 0 and case.state == "mediating"
    # Saving again, now knowing the change, works.
    again = client.post_form(
        f"/cases/{case_id}/act/extend",
        {
            "days": "10",
            "reason": "双方同意",
            "version": version(app, case_id),
            "consents-0": "书面同意",
            "consents-1": "电话同意",
        },
    )
    assert again.status_code == 302


def test_withdrawing_twice_is_refused_the_second_time(app, client, login):
    case_id = registered_case(app, client, login)
    seen = version(app, case_id)
    first = client.post_form(
        f"/cases/{case_id}/act/withdraw", {"reason": "申请人撤回", "version": seen}
    )
    assert first.status_code == 302
    second = client.post_form(f"/cases/{case_id}/act/withdraw", {"reason": "再次", "version": seen})
    page = second.get_data(as_text=True)
    assert second.status_code == 200 and "不能执行" in page and "已撤回" in page
    assert "再次" in page  # what was typed, kept
    with app.app_context():
        events = session(app).scalars(select(CaseEvent.action)).all()
        assert events.count("withdraw") == 1


def test_mediator_sees_only_their_cases(app, client, login, mediation_org, make_user):
    case_id = registered_case(app, client, login)
    route(app, client, case_id, mediation_org)
    client.post_form("/logout")
    make_user("mediator", username="someone-else")
    client.post_form("/login", {"username": "someone-else", "password": PASSWORD})
    assert client.get(f"/cases/{case_id}").status_code == 403
    assert client.get(f"/cases/{case_id}/act/record_session").status_code == 403
    client.post_form("/logout")
    client.post_form("/login", {"username": "mediator-a", "password": PASSWORD})
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "record_session" in page and "/act/withdraw" not in page


def test_staff_of_another_centre_get_404(app, client, login, make_user):
    case_id = registered_case(app, client, login)
    client.post_form("/logout")
    login("staff", centre="330108")
    assert client.get(f"/cases/{case_id}").status_code == 404
    assert client.get(f"/cases/{case_id}/act/withdraw").status_code == 404


def test_mediator_records_a_session_and_an_agreement_with_an_obligation(
    app, client, login, mediation_org
):
    case_id = registered_case(app, client, login)
    route(app, client, case_id, mediation_org)
    client.post_form("/logout")
    client.post_form("/login", {"username": "mediator-a", "password": PASSWORD})
    today = shanghai_today().isoformat()
    response = client.post_form(
        f"/cases/{case_id}/act/record_session",
        {
            "held_at": f"{today}T09:30",
            "place": "北山街道调解室",
            "attendance": "双方到场",
            "minutes": "双方陈述意见。",
            "version": version(app, case_id),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        case = session(app).get(Case, case_id)
        applicant, respondent = case.parties[0].id, case.parties[1].id
    response = client.post_form(
        f"/cases/{case_id}/act/agree",
        {
            "signed_on": today,
            "terms": "被申请人分两期支付工资。",
            "version": version(app, case_id),
            "obligations-0-obligor": str(respondent),
            "obligations-0-obligee": str(applicant),
            "obligations-0-description": "支付第一期工资",
            "obligations-0-amount": "26000",
            "obligations-0-due_on": "2099-01-31",
        },
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "履行中" in page and "支付第一期工资" in page and "北山街道调解室" in page
    # Times read in the centre's zone everywhere, the timeline included (not 01:30 UTC).
    day = shanghai_today()
    assert f"时间：{day.year}年{day.month}月{day.day}日 09:30" in page  # the session's event
    assert "01:30" not in page


def test_the_timeline_names_who_acted_and_escapes_what_they_wrote(app, client, login):
    """Each event says who acted: a user by name, a party online, the scheduler or a ledger
    import; a name or detail is text, never markup."""
    case_id = registered_case(app, client, login)
    at = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    with app.app_context():
        centre_id = session(app).get(Case, case_id).centre_id

    def event(action, from_state, to_state, actor_kind, actor_name="", **details):
        return CaseEvent(
            case_id=case_id,
            centre_id=centre_id,
            at=at,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor_kind=actor_kind,
            actor_name=actor_name,
            details=details,
        )

    with app.app_context():
        session(app).add_all(
            [
                event(
                    "request_litigation",
                    "mediating",
                    "transferred",
                    "party",
                    "<b>王</b>",
                    note="<script>x()</script>",
                ),
                event("expire", "mediating", "transferred", "scheduler"),
                event("register", "registered", "registered", "import", "ignored"),
            ]
        )
        session(app).commit()
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    timeline = page[
        page.index('<ol class="timeline') : page.index("</ol>", page.index('<ol class="timeline'))
    ]
    assert timeline.count("<li>") == 4  # the registration and the three above
    assert "测试中心工作人员" in timeline  # the staff member who registered it
    assert "&lt;b&gt;王&lt;/b&gt;（当事人，网上）" in timeline and "<b>" not in timeline
    assert "备注：&lt;script&gt;x()&lt;/script&gt;" in timeline and "<script>" not in timeline
    assert "系统定时任务" in timeline and "→ 已转诉讼" in timeline
    assert "台账导入" in timeline and "ignored" not in timeline
    assert "2026年3月3日 10:00" in timeline  # in the centre's zone
    client.set_cookie("lang", "en")
    timeline = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "&lt;b&gt;王&lt;/b&gt; (party, online)" in timeline
    assert "Scheduled job" in timeline and "Ledger import" in timeline


def test_times_read_to_the_minute_and_the_timeline_dates_as_the_page_writes_them(
    app, client, login
):
    """A session at 15:00 reads "15:00", not "15:00:00"; the timeline's details read
    "期限：2026年4月2日" like the page's other dates, not "期限: 2026-04-02"."""
    with app.app_context():
        case = build_case("mediating", at=datetime(2026, 3, 3, 7, 0, tzinfo=UTC))  # 15:00 CST
        case_id, number = case.id, case.number
        code, session_id = case.access_codes[case.applicants[0].id], case.sessions[0].id
        assert case.deadline_on.isoformat() == "2026-04-02"
    login("staff")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "<strong>2026年3月3日 15:00</strong>" in page and "15:00:00" not in page
    timeline = page[page.index('<ol class="timeline') :]
    assert "期限：2026年4月2日" in timeline and "时间：2026年3月3日 15:00" in timeline
    assert "2026-04-02" not in page and "期限:" not in page
    record = client.get(f"/cases/{case_id}/print/sessions/{session_id}").get_data(as_text=True)
    assert "2026年3月3日 15:00" in record and "15:00:00" not in record
    client.set_cookie("lang", "en")
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "Deadline: Apr 2, 2026" in page and "Mar 3, 2026 3:00\u202fPM" in page
    client.post_form("/logout")
    client.set_cookie("lang", "zh_Hans_CN")
    response = client.post_form("/status", {"case_number": number, "access_code": code})
    assert response.status_code == 302, response.get_data(as_text=True)
    portal = client.get("/status/case").get_data(as_text=True)
    assert "2026年3月3日 15:00" in portal and "2026/3/3" not in portal


def test_actions_not_in_the_table_are_refused(app, client, login):
    case_id = registered_case(app, client, login)
    response = client.post_form(
        f"/cases/{case_id}/act/agree", {"terms": "x", "version": version(app, case_id)}
    )
    assert response.status_code == 200 and "不能执行" in response.get_data(as_text=True)
    opened = client.get(f"/cases/{case_id}/act/agree")
    assert opened.status_code == 302
    assert "不能" in client.get(opened.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert session(app).get(Case, case_id).state == "registered"
    assert client.get(f"/cases/{case_id}/act/no_such_action").status_code == 404


def test_regenerating_an_access_code_replaces_the_old_one(app, client, login):
    login("staff")
    first = register(client).get_data(as_text=True)
    old = re.findall(r'class="access-code[^"]*">([2-9A-Z]{8})<', first)[0]
    with app.app_context():
        case = session(app).scalar(select(Case))
        party_id = case.parties[0].id
    page = client.post_form(
        f"/cases/{case.id}/act/new_access_code",
        {"party": str(party_id), "version": version(app, case.id)},
    ).get_data(as_text=True)
    new = re.findall(r'class="access-code[^"]*">([2-9A-Z]{8})<', page)
    assert len(new) == 1 and new[0] != old
    with app.app_context():
        stored = session(app).get(Party, party_id).access_code_hash
        assert code_matches(case.number, new[0], stored)
        assert not code_matches(case.number, old, stored)


def test_a_resubmitted_registration_form_registers_nothing_twice(app, client, login):
    login("staff")
    form = client.get("/cases/new").get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([^"]+)"', form).group(1)
    first = register(client, submission=token)
    assert first.status_code == 200
    again = register(client, submission=token)  # the browser's refresh re-posts the form
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "该表单已提交过" in page and "西湖调〔" in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 1


def test_a_double_click_on_register_makes_one_case_and_answers_both_clicks(app, client, login):
    """Both posts of one form arrive before either is saved (PostgreSQL lets both read at
    once): the second gets the same "already submitted" answer, never an error."""
    login("staff")
    form = client.get("/cases/new").get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([^"]+)"', form).group(1)
    second = app.test_client()
    second.set_cookie("session", client.get_cookie("session").value)
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    answers = double_click(
        engine, (client, second), lambda c: register(c, submission=token), "UPDATE CASE_COUNTER"
    )
    assert sorted(answer.status_code for _, answer in answers) == [200, 302]
    clicked, repeat = next((c, answer) for c, answer in answers if answer.status_code == 302)
    assert "该表单已提交过" in clicked.get(repeat.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert session(app).scalars(select(Case.seq)).all() == [1]


def test_a_refreshed_new_access_code_form_is_refused(app, client, login):
    case_id = registered_case(app, client, login)
    with app.app_context():
        party_id = session(app).get(Case, case_id).parties[0].id
    form = {"party": str(party_id), "version": version(app, case_id)}
    assert client.post_form(f"/cases/{case_id}/act/new_access_code", form).status_code == 200
    again = client.post_form(f"/cases/{case_id}/act/new_access_code", form)
    assert "已被他人修改" in again.get_data(as_text=True)
    assert not re.findall(r'class="access-code[^"]*">([2-9A-Z]{8})<', again.get_data(as_text=True))


def test_out_of_range_numbers_are_refused_beside_the_field(app, client, login):
    login("staff")
    page = register(client, people_involved="99999999999999999999").get_data(as_text=True)
    assert "invalid-feedback" in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 0


def test_the_form_rows_have_a_limit_and_say_so(app, client, login):
    login("staff")
    rows = {f"parties-{i}-name": f"当事人{i}" for i in range(2, 20)}
    rows |= {f"parties-{i}-role": "respondent" for i in range(2, 20)}
    rows |= {f"parties-{i}-kind": "person" for i in range(2, 20)}
    page = register(client, add_party="1", **rows).get_data(as_text=True)
    assert "最多 20 名当事人" in page


def test_a_global_admin_registers_into_the_centre_they_pick(app, client, login, make_centre):
    make_centre()
    other = make_centre(code="330108", name="滨江区社会矛盾纠纷调处化解中心", abbreviation="滨江")
    login("admin", centre=None)
    page = client.get(f"/cases/new?centre={other.id}").get_data(as_text=True)
    assert 'id="centre-picker"' in page and "滨江区社会矛盾纠纷调处化解中心" in page
    client.post_form(f"/cases/new?centre={other.id}", INTAKE)
    with app.app_context():
        assert session(app).scalar(select(Case.number)).startswith("滨江调〔")


def test_staff_record_whether_a_performance_was_voluntary(app, client, login):
    from mediation.integrity.models import Obligation
    from tests.case_factory import build_case

    with app.app_context():
        case_id = build_case("agreed").id
        session(app).commit()
        obligation_id = session(app).scalar(select(Obligation.id))
    login("staff")
    response = client.post_form(
        f"/cases/{case_id}/act/fulfil",
        {
            "obligation": str(obligation_id),
            "performed_on": str(shanghai_today()),
            "is_voluntary": "no",
            "version": version(app, case_id),
        },
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "自愿履行：否" in page
    with app.app_context():
        assert session(app).get(Obligation, obligation_id).is_voluntary is False


# --- a party's preferences -------------------------------------------------------------------


def preferences_case(app) -> tuple[int, int]:
    from tests.case_factory import build_case

    with app.app_context():
        case = build_case("mediating")
        session(app).commit()
        return case.id, case.respondents[0].id


def test_staff_record_a_partys_honour_consent_and_sms_opt_out(app, client, login):
    from mediation.audit.models import AuditEntry

    case_id, party_id = preferences_case(app)
    login("staff")
    url = f"/cases/{case_id}/parties/{party_id}/preferences"
    assert url in client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert 'name="honour_consent"' in client.get(url).get_data(as_text=True)
    response = client.post_form(
        url, {"honour_consent": "y", "sms_opt_out": "y", "note": "调解现场签署同意书"}
    )
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case_id}"
    with app.app_context():
        party = session(app).get(Party, party_id)
        assert (party.honour_consent, party.sms_opt_out) == (True, True)
        entry = session(app).scalar(select(AuditEntry).filter_by(action="party.preferences"))
        assert entry.actor_name == "staff-330106"
        assert entry.details["note"] == "调解现场签署同意书"
        assert entry.details["honour_consent"] == [False, True]
    # Opting back in to text messages needs no note; nothing else changes.
    assert client.post_form(url, {"honour_consent": "y", "note": ""}).status_code == 302
    with app.app_context():
        party = session(app).get(Party, party_id)
        assert (party.honour_consent, party.sms_opt_out) == (True, False)


def test_a_consent_change_needs_a_note_on_how_it_was_given(app, client, login):
    case_id, party_id = preferences_case(app)
    login("staff")
    url = f"/cases/{case_id}/parties/{party_id}/preferences"
    page = client.post_form(url, {"honour_consent": "y", "note": " "}).get_data(as_text=True)
    assert "is-invalid" in page and "说明" in page
    with app.app_context():
        assert session(app).get(Party, party_id).honour_consent is False


def test_only_staff_of_the_centre_set_a_partys_preferences(app, client, login):
    case_id, party_id = preferences_case(app)
    url = f"/cases/{case_id}/parties/{party_id}/preferences"
    login("mediator")
    assert client.get(url).status_code == 403
    assert url not in client.get(f"/cases/{case_id}").get_data(as_text=True)
    client.post_form("/logout")
    login("staff", centre="330105")
    assert client.get(url).status_code == 404
    client.post_form("/logout")
    login("admin")
    assert client.get(url).status_code == 200
    other_case, other_party = preferences_case(app)
    assert client.get(f"/cases/{case_id}/parties/{other_party}/preferences").status_code == 404


# The case page's cards of records written beside the case, by their heading.
RECORD_CARDS = {
    "sessions": "调解记录",
    "agreement": "调解协议",
    "transfer": "转诉讼",
    "follow_ups": "回访记录",
}


def test_every_move_to_court_writes_a_transfer_the_case_page_reads():
    to_court = {name for name, move in wf.MOVES.items() if move.target == State.TRANSFERRED}
    assert wf.RECORDS_WRITTEN_BY["transfer"] == to_court


def test_the_case_page_shows_every_record_the_case_has_and_reads_no_other(
    app, db, client, login, make_case
):
    scheduler = wf.Actor.scheduler()
    expired = make_case("mediating")
    wf.expire_case(expired, scheduler, at=clock.now() + timedelta(days=120))
    visited = make_case("withdrawn")
    wf.record_follow_up(visited, True, "双方满意", wf.Actor.for_user(_staff(db)))
    db.session.commit()
    cases = {
        make_case("registered").id: set(),
        make_case("mediating").id: {"sessions"},
        make_case("fulfilled").id: {"sessions", "agreement"},
        make_case("transferred", transfer_reason="unsuitable").id: {"transfer"},
        make_case("transferred", transfer_reason="failed").id: {"sessions", "transfer"},
        make_case("transferred", transfer_reason="party_request").id: {"sessions", "transfer"},
        make_case("transferred", transfer_reason="enforcement").id: {
            "sessions",
            "agreement",
            "transfer",
        },
        expired.id: {"sessions", "transfer"},
        visited.id: {"follow_ups"},
    }
    # What each case really has: a record its events do not show would be hidden.
    assert {case_id: _records_in_database(db, case_id) for case_id in cases} == cases
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    login("staff")
    for case_id, records in cases.items():
        with recorded_statements(app) as statements:
            page = client.get(f"/cases/{case_id}").get_data(as_text=True)
        shown = {
            key for key, title in RECORD_CARDS.items() if f'<h2 class="h5">{title}</h2>' in page
        }
        assert shown == records, case_id
        # The transfer (one at most) comes in the case's own statement, on every page.
        read = {key for key in RECORD_CARDS if any(_reads(s, key) for s in statements)}
        assert read == records - {"transfer"}, case_id


RECORD_TABLES = {
    "sessions": "mediation_session",
    "agreement": "agreement",
    "transfer": "transfer",
    "follow_ups": "follow_up",
}


def _reads(statement: str, key: str) -> bool:
    return statement.lstrip().startswith("SELECT") and f"FROM {RECORD_TABLES[key]} " in statement


def _records_in_database(db, case_id: int) -> set[str]:
    models = {
        "sessions": MediationSession,
        "agreement": Agreement,
        "transfer": Transfer,
        "follow_ups": FollowUp,
    }
    return {
        key
        for key, model in models.items()
        if db.session.scalar(select(func.count()).where(model.case_id == case_id))
    }


def _staff(db):
    return db.session.scalar(select(User).filter_by(username="staff-330106"))


ACTION_LINK = re.compile(r'href="/cases/(\d+)/act/([a-z_]+)"')
EVERY_STATE = (
    "registered",
    "assigned",
    "mediating",
    "agreed",
    "fulfilled",
    "defaulted",
    "transferred",
    "withdrawn",
)


@pytest.mark.parametrize(
    ("role", "some_moves"),
    [
        ("staff", {"route", "extend", "fulfil", "confirm", "follow_up"}),
        ("mediator", {"record_session", "extend", "agree", "fail"}),
    ],
)
def test_the_case_page_offers_the_moves_the_workflow_allows_the_case(
    db, client, login, make_case, role, some_moves
):
    """The page reads its case as rows (cases/page.py): its buttons must be the moves the
    workflow allows the case loaded as an entity, in every state."""
    cases = {state: make_case(state) for state in EVERY_STATE}
    user = db.session.scalar(select(User).filter_by(username=f"{role}-330106"))
    allowed = {
        state: set(wf.allowed_actions(db.session.get(Case, case.id), wf.Actor.for_user(user)))
        for state, case in cases.items()
    }
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    login(role)
    for state, case in cases.items():
        page = client.get(f"/cases/{case.id}").get_data(as_text=True)
        shown = {action for case_id, action in ACTION_LINK.findall(page) if int(case_id) == case.id}
        assert shown == allowed[state], state
    assert some_moves <= set().union(*allowed.values())  # the guards were put to work


# --- a refused save keeps the input (issue 19) ---------------------------------------------


def test_an_agreement_typed_while_a_party_left_for_court_is_kept_with_the_reason(
    app, db, client, login, make_case
):
    case = make_case("mediating")
    case_id, seen, number = case.id, str(case.version), case.number
    respondent, applicant = str(case.respondents[0].id), str(case.applicants[0].id)
    code = case.access_codes[case.applicants[0].id]
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    login("mediator")
    assert client.get(f"/cases/{case_id}/act/agree").status_code == 200  # the form is open
    party = app.test_client()  # meanwhile, the applicant leaves for court on the portal
    party.post_form("/status", {"case_number": number, "access_code": code})
    assert party.post_form("/status/court", {"note": ""}).status_code == 302
    saved = client.post_form(
        f"/cases/{case_id}/act/agree",
        {
            "version": seen,
            "signed_on": shanghai_today().isoformat(),
            "terms": "被申请人赔偿维修费四千元。",
            "obligations-0-obligor": respondent,
            "obligations-0-obligee": applicant,
            "obligations-0-description": "赔偿维修费",
            "obligations-0-amount": "4000",
            "obligations-0-due_on": "2099-01-31",
        },
    )
    page = saved.get_data(as_text=True)
    assert saved.status_code == 200
    assert "被申请人赔偿维修费四千元。" in page and 'value="赔偿维修费"' in page
    assert "案件现为“已转诉讼”" in page and "因“当事人申请诉讼”（张三（当事人，网上）" in page
    assert "达成调解协议</button>" not in page  # nothing to save any more: a way back instead
    assert "返回案件" in page
    with app.app_context():
        assert session(app).get(Case, case_id).state == "transferred"
        assert session(app).scalar(select(func.count()).select_from(Agreement)) == 0


# --- intake and action forms (issue 19) ------------------------------------------------------


def test_required_fields_are_marked_and_say_what_they_need(client, login):
    login("staff")
    form = client.get("/cases/new").get_data(as_text=True)
    assert re.search(r'for="summary">.*?</label><span class="required-mark"', form)
    assert re.search(r'for="claims">.*?</label>\s*<textarea', form)  # optional: no mark
    page = register(client, summary="").get_data(as_text=True)
    assert "请填写纠纷简要情况。" in page and "该字段是必填字段" not in page


def test_a_person_has_a_full_name_an_organisation_a_name(client, login):
    login("staff")
    page = register(client, summary="").get_data(as_text=True)  # shown again as posted
    person = re.search(r'<label class="form-label" for="parties-0-name">(.*?)</label>', page, re.S)
    organisation = re.search(
        r'<label class="form-label" for="parties-1-name">(.*?)</label>', page, re.S
    )
    assert ">姓名<" in person.group(1) and ">名称<" in organisation.group(1)
    # The label follows a change of kind in the browser (static/js/parties.js).
    assert 'data-label-person="姓名" data-label-organization="名称"' in page
    assert "js/parties.js" in page


def test_an_amount_has_two_decimals_at_most(app, client, login):
    login("staff")
    page = register(client, amount="12.345").get_data(as_text=True)
    assert "最多保留两位小数" in page and 'value="12.345"' in page
    with app.app_context():
        assert session(app).scalar(select(func.count()).select_from(Case)) == 0
    assert register(client, amount="12.30").status_code == 200  # the case is registered


def test_a_new_obligation_reads_the_first_respondent_owes_the_first_applicant(
    db, client, login, make_case
):
    case = make_case("mediating")
    respondent, applicant = case.respondents[0].id, case.applicants[0].id
    db.session.rollback()
    login("staff")
    form = client.get(f"/cases/{case.id}/act/agree").get_data(as_text=True)
    assert _selected(form, "obligations-0-obligor") == str(respondent)
    assert _selected(form, "obligations-0-obligee") == str(applicant)
    more = client.post_form(
        f"/cases/{case.id}/act/agree",
        {
            "version": str(case.version),
            "add_obligation": "1",
            "obligations-0-obligor": str(applicant),
            "obligations-0-obligee": str(respondent),
        },
    ).get_data(as_text=True)
    assert _selected(more, "obligations-0-obligor") == str(applicant)  # as chosen
    assert _selected(more, "obligations-1-obligor") == str(respondent)
    assert _selected(more, "obligations-1-obligee") == str(applicant)
    amount = client.post_form(
        f"/cases/{case.id}/act/agree",
        {
            "version": str(case.version),
            "signed_on": shanghai_today().isoformat(),
            "terms": "赔偿",
            "obligations-0-obligor": str(respondent),
            "obligations-0-obligee": str(applicant),
            "obligations-0-description": "赔偿",
            "obligations-0-amount": "100.005",
            "obligations-0-due_on": "2099-01-31",
        },
    ).get_data(as_text=True)
    assert "最多保留两位小数" in amount


def _selected(page: str, name: str) -> str | None:
    select_html = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    chosen = re.search(
        r'<option selected value="(\d+)"|<option value="(\d+)" selected', select_html
    )
    return chosen and (chosen.group(1) or chosen.group(2))


def test_a_session_before_registration_is_refused_beside_the_field(db, client, login, make_case):
    case = make_case("assigned", at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    db.session.rollback()
    login("staff")
    form = client.get(f"/cases/{case.id}/act/record_session").get_data(as_text=True)
    assert "不得早于案件登记日期（2026年3月2日）" in form
    page = client.post_form(
        f"/cases/{case.id}/act/record_session",
        {
            "version": str(case.version),
            "held_at": "2026-03-01T15:00",
            "place": "调解室",
            "attendance": "双方到场",
            "minutes": "陈述",
        },
    ).get_data(as_text=True)
    assert re.search(r'id="held_at-error">调解时间不能早于案件登记日期', page)


def test_a_session_held_needs_its_attendance_and_minutes_one_to_come_does_not(
    db, client, login, make_case
):
    case = make_case("assigned")
    db.session.rollback()
    login("staff")
    url = f"/cases/{case.id}/act/record_session"
    held = {"version": str(case.version), "place": "调解室"}
    now = clock.now().astimezone(ZoneInfo("Asia/Shanghai"))
    past = client.post_form(url, held | {"held_at": f"{now:%Y-%m-%d}T00:00", "minutes": "陈述"})
    assert re.search(r'id="attendance-error">请填写到场人员。', past.get_data(as_text=True))
    unwritten = client.post_form(
        url, held | {"held_at": f"{now:%Y-%m-%d}T00:00", "attendance": "双方到场"}
    ).get_data(as_text=True)
    assert re.search(r'id="minutes-error">请填写调解笔录。', unwritten)
    assert re.search(r'name="attendance"[^>]*>\s*双方到场</textarea>', unwritten)  # kept
    form = client.get(url).get_data(as_text=True)
    for name in ("attendance", "minutes"):
        assert re.search(rf'for="{name}">.*?</label><span class="required-mark"', form), name
    soon = client.post_form(url, held | {"held_at": "2099-01-05T09:30"})
    assert soon.status_code == 302  # an appointment: the parties are told by SMS


def test_no_extension_left_says_so(app, db, client, login, make_case):
    case = make_case("mediating")
    staff = wf.Actor.for_user(_staff(db))
    consents = {party.id: "当面同意" for party in case.parties}
    wf.extend_deadline(case, 10, consents, staff)
    db.session.commit()
    db.session.rollback()  # outside a request, a transaction holds SQLite's write lock
    login("staff")
    form = client.get(f"/cases/{case.id}/act/extend").get_data(as_text=True)
    assert "最多还可延长 20 天。" in form  # beside the field, before anyone types
    wf.extend_deadline(case, 20, consents, staff)
    with pytest.raises(wf.WorkflowError) as refusal:
        wf.extend_deadline(case, 1, consents, staff)
    assert str(refusal.value) == "已无可延长的天数：允许延长的 30 天已全部用完。"
