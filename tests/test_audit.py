"""The audit log (SPEC 7): sign-ins, administrative changes and every case action, in one list
that reads the case events as well, translated, filtered, exported and scoped to a centre."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from mediation import clock
from mediation.audit import queries
from mediation.audit.log import record
from mediation.extensions import db as _db
from mediation.jobs.queue import run_queue_now
from mediation.jobs.sweeps import housekeeping
from mediation.web import language
from tests.conftest import recorded_statements
from tests.test_case_search import _plan
from tests.test_portal import code_of, look_up

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


def page(client, **args) -> str:
    response = client.get("/admin/audit/", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def rows_of(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>")[1:]]


def test_every_case_action_is_in_the_log_with_its_actor_and_case(client, db, make_case, login):
    agreed, mediating = make_case("agreed"), make_case("mediating")
    look_up(client, mediating.number, code_of(mediating, "respondent"))
    client.post_form("/status/court", {"note": "希望尽快起诉"})
    client.post_form("/status/leave")
    look_up(client, agreed.number, code_of(agreed, "applicant"))
    obligation = agreed.agreement.obligations[0].id
    client.post_form(f"/status/obligations/{obligation}/confirm", {"performed_on": "2026-03-10"})
    client.post_form("/status/leave")

    login("admin")
    rows = rows_of(page(client))
    for label, actor, number in [
        ("登记", "测试", agreed.number),
        ("分流委派", "测试", agreed.number),
        ("记录调解", "测试", agreed.number),
        ("达成调解协议", "测试", agreed.number),
        ("当事人申请诉讼", "李四", mediating.number),
        ("履行义务", "张三", agreed.number),
    ]:
        assert any(f">{label}</td>" in row and actor in row and number in row for row in rows), (
            label
        )
    left = next(row for row in rows if "当事人申请诉讼" in row)
    assert '李四 <span class="text-muted small">(当事人，网上)</span>' in left
    assert any("登录成功" in row for row in rows)  # the log's own entries stay in it


def test_details_read_in_the_readers_language(client, db, make_case, login):
    case = make_case("assigned")
    record("ledger.import", target="台账.xlsx", centre_id=case.centre_id, created=8, skipped=0)
    record("document.full_ids", target=case.number, centre_id=case.centre_id, document="agreement")
    _db.session.commit()
    login("admin")
    html = page(client)
    assert "新建案件：8" in html and "跳过的行：0" in html
    assert "文书：调解协议" in html  # a code stored, its name shown
    assert "调解组织：" in html  # the routing's details, with the timeline's labels
    assert "created:" not in html
    client.set_cookie("lang", "en")
    language.refresh()  # the `db` fixture's app context, which the requests share, keeps it
    html = page(client)
    assert "Cases created: 8" in html and "Rows skipped: 0" in html
    assert "Document: Mediation agreement" in html
    assert "Mediation organisation: " in html and "Routed" in html


def test_filter_by_user(client, db, make_case, login, make_user):
    make_case("assigned")
    admin = login("admin")
    staff_id = _db.session.scalar(
        _db.select(_db.text("id"))
        .select_from(_db.text("user_account"))
        .where(_db.text("username = 'staff-330106'"))
    )
    rows = rows_of(page(client, user=staff_id))
    assert len(rows) == 2 and all("登录成功" not in row for row in rows)
    rows = rows_of(page(client, user=admin.id))
    assert len(rows) == 1 and "登录成功" in rows[0]


def test_filter_by_action(client, db, make_case, login):
    make_case("mediating"), make_case("registered")
    login("admin")
    rows = rows_of(page(client, action="event:register"))
    assert len(rows) == 2 and all(">登记</td>" in row for row in rows)
    rows = rows_of(page(client, action="event:record_session"))
    assert len(rows) == 1 and "记录调解" in rows[0]
    rows = rows_of(page(client, action="audit:login.success"))
    assert len(rows) == 1 and "登录成功" in rows[0]


def test_filter_by_case_number_as_a_party_would_type_it(client, db, make_case, login):
    first, second = make_case("mediating"), make_case("mediating")
    login("admin")
    typed = first.number.replace("〔", " (").replace("〕", ") ").replace("号", "")
    rows = rows_of(page(client, case=typed))
    assert len(rows) == 3 and all(first.number in row for row in rows)
    assert not any(second.number in row for row in rows)


def test_filter_by_date(client, db, make_case, login):
    with clock.frozen_at(datetime(2026, 3, 1, 2, 0, tzinfo=UTC)):
        early = make_case("registered")
    late = make_case("registered")
    login("admin")
    html = page(client, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert early.number in html and late.number not in html
    html = page(client, **{"from": "2026-03-05"})
    assert late.number in html and early.number not in html


def exported(client, **filters):
    """The export asked for on the page (a job), downloaded from the job's page."""
    queued = client.post_form("/admin/audit/export", filters)
    assert queued.status_code == 302
    job_page = client.get(queued.headers["Location"]).get_data(as_text=True)
    assert "已就绪" in job_page
    return client.get(re.search(r'href="(/admin/jobs/\d+/file)"', job_page).group(1))


def test_the_export_has_the_rows_of_the_pages_filter(client, db, make_case, login):
    case, other = make_case("agreed"), make_case("registered")
    login("admin")
    shown = rows_of(page(client, case=case.number))
    response = exported(client, case=case.number)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert lines[0][:3] == ["时间", "操作人", "操作"]
    assert len(lines) - 1 == len(shown) == 4
    assert [line[2] for line in lines[1:]] == ["达成调解协议", "记录调解", "分流委派", "登记"]
    assert all(line[3] == case.number for line in lines[1:])
    assert other.number not in response.get_data(as_text=True)
    assert "调解组织：" in lines[3][5]


def test_an_export_takes_every_filter_and_its_entry_names_them(client, db, make_case, login):
    """The filter by action as well (its `action` once broke the export's own audit entry),
    recorded with the page's names for the filters, not their query keys or codes."""
    case, other = make_case("agreed"), make_case("agreed")
    login("admin")
    staff_id = _db.session.scalar(
        _db.select(_db.text("id"))
        .select_from(_db.text("user_account"))
        .where(_db.text("username = 'staff-330106'"))
    )
    asked = {"user": staff_id, "action": "event:agree", "case": case.number}
    response = exported(client, **asked, **{"from": "2026-03-10", "to": "2026-03-10"})
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [line[2:4] for line in lines[1:]] == [["达成调解协议", case.number]]
    assert other.number not in response.get_data(as_text=True)
    recorded = rows_of(page(client, action="audit:audit.export"))
    assert len(recorded) == 1
    for shown in [
        "用户：staff-330106",
        "操作：达成调解协议",
        f"案号：{case.number}",
        "起始日期：2026-03-10",
        "截止日期：2026-03-10",
    ]:
        assert shown in " ".join(recorded[0].split()), shown


def test_no_exported_cell_is_a_formula(client, db, make_case, login):
    """Names that reach the log from the admin pages or a ledger file stay text (SPEC 4)."""
    case = make_case("registered")
    record("ledger.import", target='=HYPERLINK("http://x","y")', centre_id=case.centre_id)
    record("ledger.import", target="+1+1", centre_id=case.centre_id, filename="@SUM(A1)")
    _db.session.commit()
    login("admin")
    body = exported(client, action="audit:ledger.import").get_data(as_text=True)
    lines = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(lines) == 3
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line)
    assert lines[1][3] == "'+1+1" and lines[2][3] == '\'=HYPERLINK("http://x","y")'


def test_a_centre_admin_sees_their_centre_a_global_admin_all(client, db, make_case, login):
    here, there = make_case("registered"), make_case("registered", centre="330105")
    login("admin")
    html = page(client)
    assert here.number in html and there.number not in html
    assert there.number not in exported(client).get_data(as_text=True)
    client.post_form("/logout")
    login("admin", centre=None)
    html = page(client)
    assert here.number in html and there.number in html


@pytest.mark.parametrize("role", ["staff", "mediator"])
def test_staff_and_mediators_cannot_read_the_log(client, db, login, role):
    login(role)
    assert client.get("/admin/audit/").status_code == 403
    assert client.post_form("/admin/audit/export").status_code == 403


def test_an_export_is_a_job_whose_file_only_its_admin_downloads(app, client, db, make_case, login):
    case = make_case("registered")
    app.config["JOBS_RUN_AT_ONCE"] = False
    try:
        login("admin")
        job_page = client.get(client.post_form("/admin/audit/export").headers["Location"])
    finally:
        app.config["JOBS_RUN_AT_ONCE"] = True
    text = job_page.get_data(as_text=True)
    assert "正在等待作业进程" in text and 'http-equiv="refresh"' in text
    job_url = job_page.request.path
    assert client.get(f"{job_url}/file").status_code == 404  # not made yet
    db.session.rollback()  # this test's transaction ends (on SQLite it holds the write lock)
    run_queue_now(app)  # a job process on another host
    text = client.get(job_url).get_data(as_text=True)
    assert "已就绪：2 行" in text and 'http-equiv="refresh"' not in text
    assert case.number in client.get(f"{job_url}/file").get_data(as_text=True)
    client.post_form("/logout")
    login("admin", username="another-admin")  # the same centre: still not theirs
    assert client.get(job_url).status_code == 404
    assert client.get(f"{job_url}/file").status_code == 404


def test_an_exports_file_is_kept_for_a_week_then_its_page_says_so(app, client, login):
    login("admin")
    made = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen_at(made):
        job_url = client.post_form("/admin/audit/export").headers["Location"]
    assert "文件保留至 2026/3/9 17:00" in client.get(job_url).get_data(as_text=True)
    for days, kept in ((6, True), (8, False)):
        with clock.frozen_at(made + timedelta(days=days)), app.app_context():
            housekeeping(clock.now())
        assert (client.get(f"{job_url}/file").status_code == 200) is kept
    text = client.get(job_url).get_data(as_text=True)
    assert "导出文件在生成后保留 7 天" in text and "下载" not in text


@pytest.mark.parametrize("size", [3, 13])
def test_pages_follow_on_without_gaps_or_repeats(client, db, make_case, login, monkeypatch, size):
    """Events and entries at one instant: with 13 a page, the second page ends with the last
    event and the third holds only entries."""
    from mediation.audit import routes

    cases = [make_case("assigned") for _ in range(13)]  # 26 events
    for case in cases[:4]:
        record("transfer.documents", target=case.number, centre_id=case.centre_id)
    _db.session.commit()
    login("admin")  # and the sign-in: 31 rows, all at NOW
    monkeypatch.setattr(routes, "PAGE_SIZE", size)
    seen, url = [], "/admin/audit/"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += rows_of(html)
        older = html.split('href="/admin/audit/?after=')
        url = None
        if len(older) > 1:
            url = "/admin/audit/?after=" + older[1].split('"')[0].replace("&amp;", "&")
    assert len(seen) == 31 and len(set(seen)) == 31


def test_the_pages_statements_do_not_grow_with_its_rows(app, client, db, make_case, login):
    make_case("assigned")
    login("admin")
    page(client)
    with recorded_statements(app) as few:
        page(client)
    for _ in range(5):
        make_case("agreed")
    page(client)  # the signed-in user, read again after the cases' commits, as after any
    with recorded_statements(app) as many:
        html = page(client)
    assert len(rows_of(html)) > 20
    assert len(many) == len(few)


def test_the_filter_by_user_reads_the_index_of_events_that_have_a_user(db, make_case):
    """The events' (actor_id, at, id) index holds only the events that have a user (an
    import's and the system's have none); the filter's comparison with the user's id is enough
    for either engine to read it, for a centre or for all."""
    make_case("assigned")
    for centre in (True, False):
        shape = queries._Shape(
            centre=centre,
            actor=True,
            kinds=(queries.EVENT,),
            action=False,
            case=False,
            day_from=False,
            day_to=False,
            cursor_kind=None,
            engine=db.engine.dialect.name,
        )
        params = {"centre": 1, "actor": 1, "limit": 51}
        assert "ix_case_event_actor_id_at_id" in _plan(db, queries._statement(shape), params)
